// Per-layer diagnostics of a built vector: test-split (held-out) and train AUROC (left axis) and the vector's
// norm (bars, right axis), with the best layer marked.
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { BuildResult } from "../state/vectorStore";
import { axisTick, tooltipStyle } from "./chartTheme.js";


export function SeparationChart(props: { result: BuildResult }) {
    const { diagnostics, bestLayer } = props.result;
    const data = diagnostics.map((entry) => ({
        layer: entry.layer,
        heldOut: entry.heldOutAuroc,
        train: entry.trainAuroc,
        norm: entry.norm,
        smd: entry.standardizedMeanDifference
    }));
    const best = diagnostics.find((entry) => entry.layer === bestLayer);
    return (
        <div className="chart-card" data-testid="separation-chart" data-best-layer={bestLayer}>
            <div className="chart-head">
                <div>
                    <div className="chart-title">Separation per layer — {props.result.vectorName}</div>
                    <div className="muted small">
                        Best layer <strong className="accent">{bestLayer}</strong>
                        {best != null && <> (chosen on validation) · test AUROC {best.heldOutAuroc != null ? best.heldOutAuroc.toFixed(3) : "—"}
                            {best.pairedAccuracy != null && <> · paired {best.pairedAccuracy.toFixed(3)}</>} · train {best.trainAuroc.toFixed(3)} · ‖v‖ {best.norm.toFixed(3)}</>}
                        {Number.isFinite(props.result.elapsedMs) && <>{" "}· built in {(props.result.elapsedMs / 1000).toFixed(1)} s</>}
                    </div>
                    {(props.result.warnings ?? []).map((warning) => <div key={warning} className="muted small" data-testid="build-warning">⚠ {warning}</div>)}
                </div>
            </div>
            <div className="chart-body">
                <ResponsiveContainer width="100%" height={240}>
                    <ComposedChart data={data} margin={{ top: 12, right: 8, bottom: 4, left: -8 }}>
                        <CartesianGrid stroke="var(--border)" strokeDasharray="3 4" vertical={false} />
                        <XAxis dataKey="layer" tick={axisTick} tickLine={false} axisLine={{ stroke: "var(--border)" }}
                            label={{ value: "layer", position: "insideBottomRight", offset: -2, fill: "var(--text-faint)", fontSize: 11 }} />
                        <YAxis yAxisId="auroc" domain={[0.4, 1]} tick={axisTick} tickLine={false} axisLine={false} tickFormatter={(v: number) => v.toFixed(1)} />
                        <YAxis yAxisId="norm" orientation="right" tick={axisTick} tickLine={false} axisLine={false} tickFormatter={(v: number) => v.toFixed(1)} />
                        <Tooltip contentStyle={tooltipStyle}
                            labelFormatter={(layer) => `layer ${String(layer)}`}
                            formatter={(value, name) => [typeof value === "number" ? value.toFixed(3) : "—", String(name)]} />
                        <Legend wrapperStyle={{ fontSize: 12 }} />
                        <Bar yAxisId="norm" dataKey="norm" name="‖v‖ (right)" fill="var(--chart-bar)" radius={[3, 3, 0, 0]} maxBarSize={28} isAnimationActive={false} />
                        <Line yAxisId="auroc" type="monotone" dataKey="train" name="train AUROC" stroke="var(--chart-2)" strokeDasharray="5 4" dot={{ r: 2 }} isAnimationActive={false} />
                        <Line yAxisId="auroc" type="monotone" dataKey="heldOut" name="test AUROC" stroke="var(--accent)" strokeWidth={2} dot={{ r: 3 }} connectNulls isAnimationActive={false} />
                        <ReferenceLine yAxisId="auroc" x={bestLayer} stroke="var(--accent)" strokeDasharray="2 3"
                            label={{ value: "best", position: "top", fill: "var(--accent)", fontSize: 11 }} />
                        <ReferenceLine yAxisId="auroc" y={0.5} stroke="var(--text-faint)" strokeDasharray="1 4" />
                    </ComposedChart>
                </ResponsiveContainer>
            </div>
        </div>
    );
}
