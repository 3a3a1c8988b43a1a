// Black box: which prompt tokens switch a hidden patch on, at an OpenAI-compatible completions
// endpoint with logprobs (no weights). The engine sends the queries; this panel shows the prefix
// scan L_k = log p(probe | first k tokens + bridge), the prompt's tokens with the top candidates
// highlighted, and the candidate table (scan step, necessity drop, their robust z-scores).
import { useRef } from "react";
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Field, NumberInput, ProgressBar, Stat } from "../../../components/ui";
import { visiblePiece } from "../../../lib/format";
import { locateParams, runLocate, useForensicsStore, type LocateResult } from "../../../state/forensicsStore";
import { ChartCard } from "../ChartCard";
import { PlotExport } from "../PlotExport";
import { ForensicsPanel } from "./ForensicsPanel";
import { candidatesCsv, prefixScanCsv } from "./forensicsCsv";
import { axisTick, tooltipStyle } from "../../chartTheme.js";

const fixed = (value: number | null, digits = 2) => (value == null ? "—" : value.toFixed(digits));

export function BlackboxPanel() {
    const form = useForensicsStore((s) => s.form);
    const setForm = useForensicsStore((s) => s.setForm);
    const progress = useForensicsStore((s) => s.progress);
    const result = useForensicsStore((s) => s.locate);
    const ready = locateParams(form) != null;
    return (
        <ForensicsPanel title="Black box — which prompt tokens switch a hidden patch on?" testId="blackbox-panel" cancelTestId="bb-cancel" busy={progress != null}
            run={{ label: "Locate", testId: "bb-locate", disabled: !ready, onRun: () => void runLocate() }}
            intro={<>
                Only log-probabilities are used: an OpenAI-compatible <code>/v1/completions</code> endpoint with <code>logprobs</code> (llama.cpp server, vLLM, LM Studio,
                {" "}<code>tiller suspect</code>). The engine sends the queries; the API key stays in this window&apos;s memory.
            </>}>
            <div className="forensics-form">
                <Field label="Endpoint">
                    <input className="input mono" data-testid="bb-endpoint" value={form.endpoint} spellCheck={false} onChange={(event) => setForm({ endpoint: event.target.value })} />
                </Field>
                <Field label="API key" hint="optional; kept in memory only">
                    <input className="input mono" type="password" autoComplete="off" data-testid="bb-api-key" value={form.apiKey} onChange={(event) => setForm({ apiKey: event.target.value })} />
                </Field>
                <Field label="Prompt" hint="a prompt the patch is thought to react to" className="wide">
                    <textarea className="input" rows={3} data-testid="bb-prompt" value={form.prompt} onChange={(event) => setForm({ prompt: event.target.value })} />
                </Field>
                <Field label="Probe" hint="empty: the endpoint's own greedy continuation">
                    <input className="input" data-testid="bb-probe" value={form.probe} onChange={(event) => setForm({ probe: event.target.value })} />
                </Field>
                <Field label="Query budget">
                    <NumberInput value={form.budget} min={1} max={5000} integer testId="bb-budget" onChange={(value) => setForm({ budget: value ?? 300 })} />
                </Field>
            </div>
            {progress != null && <ProgressBar done={progress.done} total={progress.total} label={`${progress.label} — queries`} testId="bb-progress" />}
            {result != null && <LocateResultView result={result} />}
        </ForensicsPanel>
    );
}

function LocateResultView(props: { result: LocateResult }) {
    const { result } = props;
    const scanPlot = useRef<HTMLDivElement>(null);
    const best = result.units[result.ranking[0] ?? -1];
    const rankOf = new Map(result.ranking.map((index, rank) => [index, rank]));
    const maxScore = Math.max(1e-9, ...result.units.map((unit) => unit.score));
    const data = result.scan.map((entry) => ({ k: entry.k, logprob: entry.logprob, piece: entry.k > 0 ? result.units[entry.k - 1]?.text ?? "" : "(none)" }));
    return (
        <>
            <div className="stat-grid" data-testid="bb-summary" data-switch-found={result.switchFound} data-top={best?.text ?? ""} data-queries={result.queries}>
                <Stat label="verdict" value={result.switchFound ? <span className="accent">a switch was found</span> : "no clear switch"} />
                <Stat label="top token" value={best != null ? `${best.index} ${JSON.stringify(visiblePiece(best.text))}` : "—"} mono />
                <Stat label="queries" value={`${result.queries} / ${result.budget}${result.budgetExhausted ? " (spent)" : ""}`} mono />
                <Stat label="oracle" value={result.mode === "echo" ? "echo log-probs" : "next-token top-k"} />
                <Stat label="wall time" value={`${(result.wallMs / 1000).toFixed(1)} s`} mono />
            </div>
            <div className="muted small" data-testid="bb-probe-text">probe: {JSON.stringify(result.probe)} · bridge: {JSON.stringify(result.bridge)}</div>
            <div className="bb-strip" data-testid="bb-strip">
                {result.units.map((unit) => {
                    const rank = rankOf.get(unit.index) ?? result.units.length;
                    const strength = Math.max(0, unit.score) / maxScore;
                    return (
                        <span key={unit.index} className={`bb-token ${rank < 3 && unit.score > 0 ? "candidate" : ""}`} data-testid="bb-token" data-index={unit.index} data-rank={rank + 1}
                            style={{ backgroundColor: `color-mix(in srgb, var(--steer) ${Math.round(strength * 70)}%, transparent)` }}
                            title={`rank ${rank + 1} · step ${fixed(unit.step)} (z ${fixed(unit.stepZ, 1)}) · drop ${fixed(unit.drop)} (z ${fixed(unit.dropZ, 1)})`}>
                            {visiblePiece(unit.text)}
                            {rank < 3 && unit.score > 0 && <sup className="bb-rank">{rank + 1}</sup>}
                        </span>
                    );
                })}
            </div>
            <ChartCard title="Prefix scan: log p(probe | first k tokens + bridge)" testId="bb-scan-chart" values={JSON.stringify(result.scan.map((entry) => entry.logprob))}
                exportAs={{ baseName: "prefix-scan", csv: () => prefixScanCsv(result), testId: "export-scan" }} plotRef={scanPlot}>
                <ResponsiveContainer width="100%" height={220}>
                    <LineChart data={data} margin={{ top: 20, right: 12, bottom: 4, left: 0 }}>
                        <CartesianGrid stroke="var(--border)" strokeDasharray="3 4" vertical={false} />
                        <XAxis dataKey="k" type="number" domain={[0, result.units.length]} tick={axisTick} tickLine={false} axisLine={{ stroke: "var(--border)" }} />
                        <YAxis tick={axisTick} tickLine={false} axisLine={false} width={56} tickFormatter={(v: number) => v.toFixed(0)} />
                        <Tooltip contentStyle={tooltipStyle}
                            labelFormatter={(k) => `k = ${String(k)} (…${JSON.stringify(data.find((entry) => entry.k === Number(k))?.piece ?? "")})`}
                            formatter={(value) => [typeof value === "number" ? value.toFixed(3) : "—", "log p(probe)"]} />
                        {best != null && <ReferenceLine x={best.index + 1} stroke="var(--accent)" strokeDasharray="2 3"
                            label={{ value: JSON.stringify(visiblePiece(best.text)), position: "top", fill: "var(--accent)", fontSize: 11 }} />}
                        <Line dataKey="logprob" stroke="var(--steer)" dot={{ r: 2 }} isAnimationActive={false} />
                    </LineChart>
                </ResponsiveContainer>
            </ChartCard>
            <div className="chart-card">
                <div className="chart-head">
                    <div className="chart-title">Candidates (step: the scan&apos;s jump when the token is added; drop: the loss when it is replaced)</div>
                    <PlotExport target={scanPlot} baseName="prefix-scan" csv={() => candidatesCsv(result)} testId="export-candidates" />
                </div>
                <table className="table" data-testid="bb-candidates">
                    <thead><tr><th>rank</th><th>token</th><th>step</th><th>step z</th><th>drop</th><th>drop z</th></tr></thead>
                    <tbody>
                        {result.ranking.slice(0, 8).map((index, rank) => {
                            const unit = result.units[index]!;
                            return (
                                <tr key={index} data-testid="bb-candidate" data-index={index}>
                                    <td>{rank + 1}</td><td className="mono">{JSON.stringify(visiblePiece(unit.text))}</td>
                                    <td className="mono">{fixed(unit.step)}</td><td className="mono">{fixed(unit.stepZ, 1)}</td>
                                    <td className="mono">{fixed(unit.drop)}</td><td className="mono">{fixed(unit.dropZ, 1)}</td>
                                </tr>
                            );
                        })}
                    </tbody>
                </table>
                {result.spans.length > 0 && (
                    <div className="muted small" data-testid="bb-spans">
                        Sufficiency (span inserted into neutral carrier text): {result.spans.map((span) =>
                            `${JSON.stringify(span.text)} gain ${fixed(span.gain)} → ${span.sufficient == null ? "not tested" : span.sufficient ? "sufficient" : "not sufficient"}`).join(" · ")}
                    </div>
                )}
            </div>
        </>
    );
}
