// Linear response of the sweep: the path free energy Λ(α) = Σ_t log p_t(α) over the grid with its
// maximiser α̂_ML, and the per-token Fisher information I_t = Var_p(∂ log p/∂α) with the
// fluctuation–dissipation gap as a numerical-health figure.
import { useRef } from "react";
import { Bar, BarChart, CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { visiblePiece } from "../../lib/format";
import type { SweepResult } from "../../state/probeStore";
import { PlotExport } from "./PlotExport";
import { chiCsv, pathFreeEnergyCsv } from "./probeCsv";
import { axisTick } from "../chartTheme.js";

const tooltip = { background: "var(--bg-elevated)", border: "1px solid var(--border)", borderRadius: 8, fontSize: 12 };

export function PathFreeEnergy(props: { sweep: SweepResult }) {
    const { sweep } = props;
    const plot = useRef<HTMLDivElement>(null);
    const data = sweep.alphas.map((alpha, a) => ({ alpha, value: sweep.pathFreeEnergy[a] }));
    return (
        <div className="chart-card" data-testid="path-free-energy" data-alpha-ml={sweep.alphaML.alpha}>
            <div className="chart-head">
                <div>
                    <div className="chart-title">Λ(α) — the completion's log-likelihood against the strength</div>
                    <div className="muted small">
                        α̂_ML = {sweep.alphaML.alpha.toFixed(3)}{sweep.alphaML.onEdge ? " (at the grid's edge: widen the grid)" : ""} · dΛ/dα at α₀ = Σχ = {sweep.totalChi.toFixed(4)}
                    </div>
                </div>
                <PlotExport target={plot} baseName="path-free-energy" csv={() => pathFreeEnergyCsv(sweep)} testId="export-lambda" />
            </div>
            <div className="chart-body" ref={plot}>
                <ResponsiveContainer width="100%" height={220}>
                    <LineChart data={data} margin={{ top: 8, right: 12, bottom: 4, left: 0 }}>
                        <CartesianGrid stroke="var(--border)" strokeDasharray="3 4" />
                        <XAxis dataKey="alpha" type="number" domain={["dataMin", "dataMax"]} tick={axisTick} tickLine={false} axisLine={{ stroke: "var(--border)" }}
                            tickFormatter={(v: number) => v.toFixed(1)} />
                        <YAxis tick={axisTick} tickLine={false} axisLine={false} width={56} tickFormatter={(v: number) => v.toFixed(1)} />
                        <ReferenceLine x={sweep.alphaML.alpha} stroke="var(--accent)" strokeDasharray="3 3" />
                        <Tooltip contentStyle={tooltip} labelFormatter={(alpha) => `α = ${Number(alpha).toFixed(3)}`}
                            formatter={(value) => [typeof value === "number" ? value.toFixed(4) : "—", "Λ"]} />
                        <Line type="monotone" dataKey="value" stroke="var(--info)" strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} />
                    </LineChart>
                </ResponsiveContainer>
            </div>
        </div>
    );
}

export function FisherStrip(props: { sweep: SweepResult }) {
    const { sweep } = props;
    const plot = useRef<HTMLDivElement>(null);
    const data = sweep.tokens.map((token) => ({ index: token.index, piece: token.piece, fisher: token.fisher, gap: token.fdtGap, gapError: token.fdtGapError }));
    const worst = Math.max(0, ...data.map((entry) => (entry.gap != null && entry.fisher != null && entry.fisher > 0 ? Math.abs(entry.gap) / entry.fisher : 0)));
    const pieceAt = (index: number) => data.find((entry) => entry.index === index)?.piece ?? "";
    return (
        <div className="chart-card" data-testid="fisher-strip" data-values={JSON.stringify(data.map((entry) => entry.fisher))}>
            <div className="chart-head">
                <div>
                    <div className="chart-title">Fisher information I_t = Var_p(∂ log p/∂α) per token</div>
                    <div className="muted small">
                        {sweep.linearResponseNote != null ? `not computed: ${sweep.linearResponseNote}`
                            : `fluctuation–dissipation check Σ p ∂²log p/∂α² = −I_t: worst gap ${(100 * worst).toFixed(2)}% of I_t (a large gap means the derivatives are not to be trusted)`}
                    </div>
                </div>
                <PlotExport target={plot} baseName="fisher-per-token" csv={() => chiCsv(sweep)} testId="export-fisher" />
            </div>
            <div className="chart-body" ref={plot}>
                <ResponsiveContainer width="100%" height={200}>
                    <BarChart data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }} barCategoryGap={4}>
                        <CartesianGrid stroke="var(--border)" strokeDasharray="3 4" vertical={false} />
                        <XAxis dataKey="index" interval={0} tickLine={false} axisLine={false} height={22}
                            tick={{ fill: "var(--text-faint)", fontSize: 10 }} tickFormatter={(index: number) => visiblePiece(pieceAt(index)).slice(0, 6)} />
                        <YAxis tick={axisTick} tickLine={false} axisLine={false} width={52} tickFormatter={(v: number) => v.toPrecision(2)} />
                        <Tooltip contentStyle={tooltip} labelFormatter={(index) => `token ${String(index)} ${JSON.stringify(pieceAt(Number(index)))}`}
                            formatter={(value) => [typeof value === "number" ? value.toFixed(5) : "—", "I_t"]} />
                        <Bar dataKey="fisher" fill="var(--steer)" isAnimationActive={false} />
                    </BarChart>
                </ResponsiveContainer>
            </div>
        </div>
    );
}
