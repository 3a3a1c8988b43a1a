// χ_{t,l}: tokens (columns, as in the χ strip) × layers (rows, lowest at the bottom), the patch at
// one layer at a time; blue lowers the token's log-probability, red raises it. Drawn as plain SVG
// (recharts has no heatmap) so it exports like the other plots.
import { useRef } from "react";
import { divergingColour } from "../../lib/colourScale";
import { visiblePiece } from "../../lib/format";
import type { SweepResult } from "../../state/probeStore";
import { PlotExport } from "./PlotExport";
import { AXIS_WIDTH, COLUMN_WIDTH } from "./ChiStrip";
import { heatmapCsv, layersOf } from "./probeCsv";

const ROW_HEIGHT = 22;
const LABEL_HEIGHT = 48;

export function ChiHeatmap(props: { sweep: SweepResult }) {
    const { sweep } = props;
    const plot = useRef<HTMLDivElement>(null);
    const layers = layersOf(sweep);
    const hasMatrix = sweep.tokens.every((token) => token.chiPerLayer != null);
    const scale = Math.max(1e-9, ...sweep.tokens.flatMap((token) => (token.chiPerLayer ?? []).map(Math.abs)));
    const width = AXIS_WIDTH + COLUMN_WIDTH * sweep.tokens.length;
    const height = ROW_HEIGHT * layers.length + LABEL_HEIGHT;
    return (
        <div className="chart-card" data-testid="chi-heatmap" data-layers={layers.length}>
            <div className="chart-head">
                <div>
                    <div className="chart-title">χ per token and layer — the patch at one layer at a time</div>
                    <div className="muted small">{hasMatrix ? `colour scale ±${scale.toPrecision(3)}; blue lowers log p, red raises it` : "Run the sweep with “per layer” on to fill this."}</div>
                </div>
                {hasMatrix && <PlotExport target={plot} baseName="chi-heatmap" csv={() => heatmapCsv(sweep)} testId="export-heatmap" />}
            </div>
            {hasMatrix && (
                <div className="probe-scroll" ref={plot}>
                    <svg data-plot="heatmap" width={width} height={height} viewBox={`0 0 ${width} ${height}`} className="probe-heatmap">
                        {layers.map((layer, row) => {
                            const y = ROW_HEIGHT * (layers.length - 1 - row);
                            return (
                                <g key={layer}>
                                    <text x={AXIS_WIDTH - 8} y={y + ROW_HEIGHT / 2} textAnchor="end" dominantBaseline="central" style={{ fontSize: 11, fill: "var(--text-muted)" }}>L{layer}</text>
                                    {sweep.tokens.map((token) => {
                                        const value = token.chiPerLayer![row]!;
                                        return (
                                            <rect key={token.index} x={AXIS_WIDTH + token.index * COLUMN_WIDTH + 1} y={y + 1} width={COLUMN_WIDTH - 2} height={ROW_HEIGHT - 2} rx={2}
                                                fill={divergingColour(value, scale)} data-testid="heatmap-cell" data-value={value}>
                                                <title>{`L${layer} · ${JSON.stringify(token.piece)} · χ ${value.toFixed(5)}`}</title>
                                            </rect>
                                        );
                                    })}
                                </g>
                            );
                        })}
                        {sweep.tokens.map((token) => (
                            <text key={token.index} x={AXIS_WIDTH + (token.index + 0.5) * COLUMN_WIDTH} y={ROW_HEIGHT * layers.length + 14} textAnchor="middle"
                                style={{ fontSize: 10.5, fill: "var(--text-muted)", fontFamily: "var(--font-mono)" }}>{visiblePiece(token.piece).slice(0, 6)}</text>
                        ))}
                        <text x={AXIS_WIDTH} y={height - 6} style={{ fontSize: 10.5, fill: "var(--text-faint)" }}>tokens →</text>
                    </svg>
                </div>
            )}
        </div>
    );
}
