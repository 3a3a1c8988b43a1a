// The inspector's projection-per-layer chart, drawn as plain SVG: a line per probe over the layers,
// the zero line, the colour-by layer, a legend and the values under the pointer.
//
// Why not recharts like the other charts: mounting a recharts chart (its store, the text
// measurements of every tick) took ~120 ms of main-thread time in one piece. The inspector opens
// while a run streams; React's deferred render could not spread that work out, because the token
// stream updates the stores every frame and a store update during a background render makes React
// redo it as one blocking render. That task was the one long task of the 4,096-token run that was
// the app's own work (README "The UI under load"). This chart renders in well under a millisecond.
import { useState, type MouseEvent } from "react";
import type { TokenInfo } from "../../../../engine/protocol/EngineContract";

const probeColours = ["var(--accent)", "var(--chart-2)", "var(--chart-3)", "var(--chart-4)", "var(--chart-5)"];
const width = 320;
const height = 190;
const margin = { top: 8, right: 10, bottom: 22, left: 40 };
const plotWidth = width - margin.left - margin.right;
const plotHeight = height - margin.top - margin.bottom;
const tickStyle = { fill: "var(--text-faint)", fontSize: 11 };

/** About `count` round tick values covering [low, high] (steps of 1, 2 or 5 × a power of ten). */
function niceTicks(low: number, high: number, count: number): number[] {
    const span = high - low;
    if (!(span > 0))
        return [low];
    const raw = span / count;
    const magnitude = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= raw) ?? 10 * magnitude;
    const ticks: number[] = [];
    for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step)
        ticks.push(Math.abs(value) < step * 1e-9 ? 0 : value);
    return ticks;
}

export interface ProjectionChartProps {
    token: TokenInfo;
    measure: "cosine" | "dot";
    colourLayer: number | null;
    names: Record<string, { name: string } | undefined>;
}

export function ProjectionChart(props: ProjectionChartProps) {
    const { token, measure, colourLayer, names } = props;
    const [hovered, setHovered] = useState<number | null>(null);
    const probes = [...new Set(token.projections.map((p) => p.probe))];
    const layers = [...new Set(token.projections.map((p) => p.layer))].sort((a, b) => a - b);
    const valueOf = (probe: string, layer: number): number | undefined => {
        const entry = token.projections.find((p) => p.probe === probe && p.layer === layer);
        return entry == null ? undefined : measure === "cosine" ? entry.cosine : entry.dot;
    };
    const values = token.projections.map((p) => (measure === "cosine" ? p.cosine : p.dot)).filter(Number.isFinite);
    const low = Math.min(0, ...values);
    const high = Math.max(0, ...values);
    const pad = (high - low) * 0.05 || 1;
    const yTicks = niceTicks(low - pad, high + pad, 4);
    const yMin = Math.min(low - pad, yTicks[0]!);
    const yMax = Math.max(high + pad, yTicks.at(-1)!);
    const firstLayer = layers[0] ?? 0;
    const lastLayer = layers.at(-1) ?? 1;
    const x = (layer: number) => margin.left + (lastLayer === firstLayer ? plotWidth / 2 : ((layer - firstLayer) / (lastLayer - firstLayer)) * plotWidth);
    const y = (value: number) => margin.top + (1 - (value - yMin) / (yMax - yMin)) * plotHeight;
    const xTicks = layers.filter((_, i) => i % Math.max(1, Math.ceil(layers.length / 8)) === 0);
    const label = (probe: string) => names[probe]?.name ?? probe;

    const onMove = (event: MouseEvent<SVGSVGElement>): void => {
        const box = event.currentTarget.getBoundingClientRect();
        const at = ((event.clientX - box.left) / box.width) * width;
        let nearest: number | null = null;
        for (const layer of layers) {
            if (nearest == null || Math.abs(x(layer) - at) < Math.abs(x(nearest) - at))
                nearest = layer;
        }
        setHovered(nearest);
    };

    return (
        <div className="inspector-chart" data-testid="projection-chart" style={{ position: "relative" }}>
            <svg viewBox={`0 0 ${width} ${height}`} width="100%" height={height} role="img" aria-label={`projection per layer (${measure})`}
                onMouseMove={onMove} onMouseLeave={() => setHovered(null)}>
                {yTicks.map((tick) => (
                    <g key={tick}>
                        <line x1={margin.left} x2={width - margin.right} y1={y(tick)} y2={y(tick)} stroke="var(--border)" strokeDasharray="3 4" />
                        <text x={margin.left - 6} y={y(tick)} textAnchor="end" dominantBaseline="middle" style={tickStyle}>{tick.toFixed(measure === "cosine" ? 2 : 1)}</text>
                    </g>
                ))}
                <line x1={margin.left} x2={width - margin.right} y1={y(0)} y2={y(0)} stroke="var(--text-faint)" />
                {colourLayer != null && colourLayer >= firstLayer && colourLayer <= lastLayer &&
                    <line x1={x(colourLayer)} x2={x(colourLayer)} y1={margin.top} y2={margin.top + plotHeight} stroke="var(--text-faint)" strokeDasharray="2 3" />}
                {xTicks.map((layer) => (
                    <text key={layer} x={x(layer)} y={height - 6} textAnchor="middle" style={tickStyle}>{layer}</text>
                ))}
                {hovered != null && <line x1={x(hovered)} x2={x(hovered)} y1={margin.top} y2={margin.top + plotHeight} stroke="var(--border)" />}
                {probes.map((probe, i) => {
                    const points = layers.flatMap((layer) => {
                        const value = valueOf(probe, layer);
                        return value == null || !Number.isFinite(value) ? [] : [[x(layer), y(value)] as const];
                    });
                    const colour = probeColours[i % probeColours.length];
                    return (
                        <g key={probe} data-testid="projection-line" data-probe={probe}>
                            <polyline points={points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(" ")} fill="none" stroke={colour} strokeWidth={2} />
                            {points.map(([px, py], k) => <circle key={k} cx={px} cy={py} r={2.5} fill={colour} />)}
                        </g>
                    );
                })}
            </svg>
            {hovered != null && (
                <div className="mono small" data-testid="projection-tooltip" style={{
                    position: "absolute", top: 4, right: 8, background: "var(--bg-elevated)", border: "1px solid var(--border)",
                    borderRadius: 8, padding: "4px 8px", pointerEvents: "none"
                }}>
                    <div>layer {hovered}</div>
                    {probes.map((probe, i) => {
                        const value = valueOf(probe, hovered);
                        return <div key={probe} style={{ color: probeColours[i % probeColours.length] }}>{label(probe)}: {value == null ? "—" : value.toFixed(4)}</div>;
                    })}
                </div>
            )}
            <div className="small" style={{ display: "flex", flexWrap: "wrap", gap: "4px 12px", justifyContent: "center", fontSize: 11 }}>
                {probes.map((probe, i) => (
                    <span key={probe}><span style={{ color: probeColours[i % probeColours.length] }}>━</span> {label(probe)}</span>
                ))}
            </div>
        </div>
    );
}
