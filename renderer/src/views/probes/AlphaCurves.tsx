// α-curves: log p_t(α) over the sweep's grid for the selected tokens, with α₀ marked.
import { useRef } from "react";
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { visiblePiece } from "../../lib/format";
import { useProbeStore, type SweepResult } from "../../state/probeStore";
import { PlotExport } from "./PlotExport";
import { alphaCurvesCsv, selectedTokens } from "./probeCsv";
import { axisTick, tooltipStyle } from "../chartTheme.js";

const palette = ["var(--accent)", "var(--info)", "var(--steer)", "var(--ok)", "var(--bad)", "#7fd1c7", "#e59bd0", "#c9c36a"];

export function AlphaCurves(props: { sweep: SweepResult }) {
    const { sweep } = props;
    const selected = useProbeStore((s) => s.selected);
    const plot = useRef<HTMLDivElement>(null);
    const tokens = selectedTokens(sweep, selected);
    const data = sweep.alphas.map((alpha, a) => Object.fromEntries([["alpha", alpha], ...tokens.map((token) => [`t${token.index}`, token.logprobs[a]])]));
    return (
        <div className="chart-card" data-testid="alpha-curves" data-curves={tokens.length}>
            <div className="chart-head">
                <div>
                    <div className="chart-title">α-curves — log p(token) against the strength</div>
                    <div className="muted small">{tokens.length === 0 ? "Click tokens above to plot their curves." : `${tokens.length} token${tokens.length === 1 ? "" : "s"}; α times the vector as stored`}</div>
                </div>
                <PlotExport target={plot} baseName="alpha-curves" csv={() => alphaCurvesCsv(sweep, selected)} testId="export-curves" />
            </div>
            <div className="chart-body" ref={plot}>
                <ResponsiveContainer width="100%" height={260}>
                    <LineChart data={data} margin={{ top: 8, right: 12, bottom: 4, left: 0 }}>
                        <CartesianGrid stroke="var(--border)" strokeDasharray="3 4" />
                        <XAxis dataKey="alpha" type="number" domain={["dataMin", "dataMax"]} tick={axisTick} tickLine={false} axisLine={{ stroke: "var(--border)" }}
                            tickFormatter={(v: number) => v.toFixed(1)} label={{ value: "α", position: "insideBottomRight", offset: -2, fill: "var(--text-faint)", fontSize: 11 }} />
                        <YAxis tick={axisTick} tickLine={false} axisLine={false} width={52} tickFormatter={(v: number) => v.toFixed(1)} />
                        <ReferenceLine x={sweep.alpha0} stroke="var(--text-faint)" strokeDasharray="2 3" />
                        <Tooltip contentStyle={tooltipStyle}
                            labelFormatter={(alpha) => `α = ${Number(alpha).toFixed(3)}`}
                            formatter={(value, name) => [typeof value === "number" ? value.toFixed(4) : "—", String(name)]} />
                        <Legend wrapperStyle={{ fontSize: 12 }} />
                        {tokens.map((token, i) => (
                            <Line key={token.index} type="monotone" dataKey={`t${token.index}`} name={`${token.index}: ${visiblePiece(token.piece)}`}
                                stroke={palette[i % palette.length]} strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} />
                        ))}
                    </LineChart>
                </ResponsiveContainer>
            </div>
        </div>
    );
}
