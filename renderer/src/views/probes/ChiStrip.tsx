// Per-token χ bars under the completion's tokens: one fixed-width column per token, shared by the
// token strip (HTML) and the bar chart (recharts' category bands are as wide as the columns), so
// each bar sits under its token however long the text. Clicking a token or its bar selects it
// for the α-curves.
import { useRef } from "react";
import { Bar, BarChart, Cell, CartesianGrid, ReferenceLine, Tooltip, XAxis, YAxis } from "recharts";
import { divergingColour } from "../../lib/colourScale";
import { visiblePiece } from "../../lib/format";
import { useProbeStore, type SweepResult } from "../../state/probeStore";
import { PlotExport } from "./PlotExport";
import { chiCsv } from "./probeCsv";
import { axisTick, tooltipStyle } from "../chartTheme.js";

export const COLUMN_WIDTH = 46;
export const AXIS_WIDTH = 56;

export function ChiStrip(props: { sweep: SweepResult }) {
    const { sweep } = props;
    const selected = useProbeStore((s) => s.selected);
    const toggle = useProbeStore((s) => s.toggleToken);
    const plot = useRef<HTMLDivElement>(null);
    const scale = Math.max(1e-9, ...sweep.tokens.map((token) => Math.abs(token.chi)));
    const data = sweep.tokens.map((token) => ({ index: token.index, chi: token.chi, piece: token.piece }));
    const pieceAt = (index: number) => data.find((entry) => entry.index === index)?.piece ?? "";
    const run = sweep.fromToken === 0 ? "steered from the prompt on" : `steered from token ${sweep.fromToken}`;
    const width = AXIS_WIDTH + COLUMN_WIDTH * sweep.tokens.length;
    return (
        <div className="chart-card" data-testid="chi-strip">
            <div className="chart-head">
                <div>
                    <div className="chart-title">χ per token — ∂ log p / ∂α at α₀ = {sweep.alpha0}</div>
                    <div className="muted small">
                        {sweep.vectorName} on L{sweep.layers.first}–{sweep.layers.last}, {run} · Σχ = {sweep.totalChi.toFixed(4)} ± {sweep.totalChiError.toPrecision(2)} ·
                        {" "}step {sweep.step.toPrecision(2)} ({sweep.stepRule}) ·
                        {" "}{sweep.decodes.prefix} prefix + {sweep.decodes.suffix} suffix decodes in {(sweep.elapsedMs / 1000).toFixed(2)} s · click tokens for their α-curves
                    </div>
                </div>
                <PlotExport target={plot} baseName="chi-per-token" csv={() => chiCsv(sweep)} testId="export-chi" />
            </div>
            <div className="probe-scroll">
                <div className="probe-token-row" style={{ paddingLeft: AXIS_WIDTH, width }}>
                    {sweep.tokens.map((token) => (
                        <button type="button" key={token.index} title={`${JSON.stringify(token.piece)} · χ ${token.chi.toFixed(4)} ± ${token.chiError.toPrecision(2)} · κ ${token.curvature.toFixed(3)} · ∂H/∂α ${token.entropyResponse.toFixed(4)}`}
                            className={`probe-token ${selected.includes(token.index) ? "selected" : ""}`} style={{ width: COLUMN_WIDTH, borderBottomColor: divergingColour(token.chi, scale) }}
                            data-testid="probe-token" data-index={token.index} onClick={() => toggle(token.index)}>
                            {visiblePiece(token.piece)}
                        </button>
                    ))}
                </div>
                <div ref={plot} data-testid="chi-bars" data-values={JSON.stringify(sweep.tokens.map((token) => token.chi))}>
                    <BarChart width={width} height={200} data={data} margin={{ top: 8, right: 0, bottom: 0, left: 0 }} barCategoryGap={6}>
                        <CartesianGrid stroke="var(--border)" strokeDasharray="3 4" vertical={false} />
                        {/* the pieces again under the bars: the HTML strip above is not part of an exported PNG */}
                        <XAxis dataKey="index" interval={0} tickLine={false} axisLine={false} height={22}
                            tick={{ fill: "var(--text-faint)", fontSize: 10 }} tickFormatter={(index: number) => visiblePiece(pieceAt(index)).slice(0, 6)} />
                        <YAxis width={AXIS_WIDTH} tick={axisTick} tickLine={false} axisLine={false} tickFormatter={(v: number) => v.toPrecision(2)} />
                        <ReferenceLine y={0} stroke="var(--text-faint)" />
                        <Tooltip cursor={{ fill: "var(--bg-hover)" }} contentStyle={tooltipStyle}
                            labelFormatter={(index) => `token ${String(index)} ${JSON.stringify(pieceAt(Number(index)))}`}
                            formatter={(value) => [typeof value === "number" ? value.toFixed(5) : "—", "χ"]} />
                        <Bar dataKey="chi" isAnimationActive={false}>
                            {data.map((entry) => <Cell key={entry.index} fill={divergingColour(entry.chi, scale)} cursor="pointer" onClick={() => toggle(entry.index)} />)}
                        </Bar>
                    </BarChart>
                </div>
            </div>
        </div>
    );
}
