// Blind detection from a transcript: the weights are the loaded model's, the patch is unknown.
// The transcript is the Run view's last run, a run of a stored session (its prompt, tokens and
// sampler; never its patches), pasted text, or a JSON file. Shows the verdict with its calibrated
// p-value, the per-token evidence strip with the estimated onset and engaged intervals, and the
// library candidates (engine/forensics via the forensics.detect request).
import { useEffect } from "react";
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ReferenceArea, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { NoModel } from "../../../components/NoModel";
import { Field, NumberInput, Panel, ProgressBar, Stat } from "../../../components/ui";
import { divergingColour } from "../../../lib/colourScale";
import { toCsv } from "../../../lib/exportPlot";
import { visiblePiece } from "../../../lib/format";
import {
    loadSessionRuns, parseTranscriptJson, runTranscriptDetection, transcriptParams, useForensicsStore,
    type TranscriptDetection, type TranscriptSource
} from "../../../state/forensicsStore";
import { useModelStore } from "../../../state/modelStore";
import { reportError } from "../../../state/notificationStore";
import { selectLastRunId } from "../../../state/probeStore";
import { useRunStore } from "../../../state/runStore";
import { refreshSessions, useSessionStore } from "../../../state/sessionStore";
import { ChartCard } from "../ChartCard";
import { ForensicsPanel } from "./ForensicsPanel";
import { axisTick, tooltipStyle } from "../../chartTheme.js";

const title = "Transcript — was this text written by a patched model?";
const sources: { id: TranscriptSource; label: string }[] = [
    { id: "lastRun", label: "Last run" }, { id: "session", label: "Session run" }, { id: "pasted", label: "Pasted text" }, { id: "file", label: "JSON file" }
];

export function TranscriptPanel() {
    const hasModel = useModelStore((s) => s.model != null);
    const transcript = useForensicsStore((s) => s.transcript);
    const setTranscript = useForensicsStore((s) => s.setTranscript);
    const progress = useForensicsStore((s) => s.progress);
    const detection = useForensicsStore((s) => s.detection);
    const runBusy = useRunStore((s) => s.status !== "idle");
    // re-render when the Run view's run changes, so "last run" is current
    const lastRun = useRunStore(selectLastRunId);
    const ready = transcriptParams(transcript) != null;
    if (!hasModel)
        return <Panel title={title} testId="transcript-panel"><NoModel what="test a transcript against its weights" /></Panel>;
    return (
        <ForensicsPanel title={title} testId="transcript-panel" cancelTestId="tx-cancel" busy={progress != null}
            run={{
                label: "Detect", testId: "tx-detect", disabled: !ready || runBusy,
                title: runBusy ? "a run is going: the engine does one thing at a time" : undefined, onRun: () => void runTranscriptDetection()
            }}
            intro="Only the prompt, the emitted tokens and the sampler are used, with the loaded model's weights; never the patch. The library's vectors are the hypotheses.">
            <div className="input-row">
                <div className="segmented" role="radiogroup" aria-label="transcript source">
                    {sources.map((source) => (
                        <button key={source.id} type="button" role="radio" aria-checked={transcript.source === source.id} className={transcript.source === source.id ? "active" : ""}
                            data-testid={`tx-source-${source.id}`} onClick={() => setTranscript({ source: source.id })}>{source.label}</button>
                    ))}
                </div>
            </div>
            {transcript.source === "lastRun" && (
                <div className="muted small" data-testid="tx-last-run">
                    {lastRun != null ? "the Run view's last run: its prompt, tokens and sampler (its patches stay unread)" : "no finished run yet: generate one in Run"}
                </div>
            )}
            {transcript.source === "session" && <SessionRunPicker />}
            {transcript.source === "pasted" && (
                <div className="forensics-form">
                    <Field label="Prompt" className="wide">
                        <textarea className="input" rows={2} data-testid="tx-prompt" value={transcript.prompt} onChange={(event) => setTranscript({ prompt: event.target.value })} />
                    </Field>
                    <Field label="Emitted text" className="wide">
                        <textarea className="input" rows={3} data-testid="tx-completion" value={transcript.completion} onChange={(event) => setTranscript({ completion: event.target.value })} />
                    </Field>
                    <Field label="Temperature" hint="0: greedy">
                        <NumberInput value={transcript.temperature} min={0} max={5} step={0.1} testId="tx-temperature" onChange={(value) => setTranscript({ temperature: value ?? 0 })} />
                    </Field>
                </div>
            )}
            {transcript.source === "file" && (
                <div className="input-row">
                    <input type="file" accept=".json,application/json" data-testid="tx-file" onChange={(event) => void readFile(event.target.files?.[0])} />
                    <span className="muted small" data-testid="tx-file-name">{transcript.file != null ? `${transcript.fileName}: ${JSON.stringify(transcript.file.prompt ?? "").slice(0, 60)}` : "prompt, tokens or completion, sampling (as tiller detect --transcript)"}</span>
                </div>
            )}
            {progress?.kind === "detect" && <ProgressBar done={progress.done} total={progress.total} label={progress.label} testId="tx-progress" indeterminate={progress.total === 0} />}
            {detection != null && <DetectionView detection={detection} />}
        </ForensicsPanel>
    );
}

async function readFile(file: File | undefined): Promise<void> {
    if (file == null)
        return;
    try {
        const parsed = parseTranscriptJson(await file.text(), file.name);
        useForensicsStore.getState().setTranscript({ file: parsed, fileName: file.name });
    } catch (error) {
        useForensicsStore.getState().setTranscript({ file: null, fileName: "" });
        reportError(error, "Could not read the transcript");
    }
}

function SessionRunPicker() {
    const sessions = useSessionStore((s) => s.sessions);
    const transcript = useForensicsStore((s) => s.transcript);
    const setTranscript = useForensicsStore((s) => s.setTranscript);
    useEffect(() => {
        void refreshSessions();
    }, []);
    return (
        <div className="forensics-form">
            <Field label="Session">
                <select className="input" data-testid="tx-session" value={transcript.sessionId} onChange={(event) => void loadSessionRuns(event.target.value)}>
                    <option value="">choose a session…</option>
                    {sessions.map((session) => <option key={session.id} value={session.id}>{session.name} ({session.runs} runs)</option>)}
                </select>
            </Field>
            <Field label="Run" hint="tokens must come from the loaded model">
                <select className="input" data-testid="tx-session-run" value={transcript.sessionRunId} onChange={(event) => setTranscript({ sessionRunId: event.target.value })}>
                    {transcript.sessionRuns.map((run, index) => <option key={run.runId} value={run.runId}>{index + 1}. {run.prompt.slice(0, 40)} ({run.tokens.length} tokens)</option>)}
                </select>
            </Field>
        </div>
    );
}

function evidenceCsv(detection: TranscriptDetection): string {
    return toCsv(["index", "id", "piece", "clean_logprob", "best_logprob", "llr", "kl", "delta_logprob", "clean_argmax", "surprise", "engaged"],
        detection.tokens.map((token) => [token.index, token.id, token.piece, token.cleanLogprob, token.bestLogprob, token.llr, token.kl, token.deltaLogprob,
            token.cleanArgmax ? 1 : 0, token.surprise, token.engaged ? 1 : 0]));
}

function DetectionView(props: { detection: TranscriptDetection }) {
    const { detection } = props;
    const best = detection.best;
    const scale = Math.max(1e-9, ...detection.tokens.map((token) => Math.abs(token.llr)));
    const data = detection.tokens.map((token) => ({ index: token.index, llr: token.llr, kl: token.kl, piece: token.piece }));
    const intervals = detection.intervals.map((interval) => `${interval.from}–${interval.until - 1}`).join(", ");
    return (
        <>
            <div className="stat-grid" data-testid="tx-summary" data-steered={detection.steered} data-verdict={detection.verdict} data-onset={detection.onsetToken ?? ""}
                data-intervals={JSON.stringify(detection.intervals)}>
                <Stat label="verdict" value={detection.steered ? <span className="accent">steered{detection.verdict === "outside-library" ? " (not in the library)" : ""}</span> : "no evidence of steering"} />
                <Stat label="p-value" value={detection.pValue.toExponential(2)} mono />
                <Stat label="onset token" value={detection.onsetToken != null ? `${detection.onsetToken} ${JSON.stringify(visiblePiece(detection.tokens[detection.onsetToken]?.piece ?? ""))}` : "—"} mono />
                <Stat label="engaged" value={intervals !== "" ? intervals : "—"} mono />
                <Stat label="best vector" value={best != null ? `${best.name} L${best.layers.first}–${best.layers.last}` : "—"} />
                <Stat label="α̂ (‖v‖)" value={best != null ? `${best.alpha.toFixed(3)} (${best.norm.toFixed(2)})` : "—"} mono />
                <Stat label="log LR vs clean" value={best != null ? best.logLrVsClean.toFixed(2) : "—"} mono />
                <Stat label="method" value={detection.method === "greedy-exact" ? "greedy (exact)" : "likelihood ratio"} />
            </div>
            {detection.warnings.length > 0 && <div className="muted small" data-testid="tx-warnings">{detection.warnings.join(" · ")}</div>}
            <div className="bb-strip" data-testid="tx-strip">
                {detection.tokens.map((token) => (
                    <span key={token.index} data-testid="tx-token" data-index={token.index} data-engaged={token.engaged}
                        className={`bb-token ${token.engaged ? "engaged" : ""} ${token.index === detection.onsetToken ? "onset" : ""}`}
                        style={{ backgroundColor: divergingColour(token.llr, scale) }}
                        title={`LLR ${token.llr.toFixed(3)} · KL ${token.kl.toExponential(2)} · Δ log p ${token.deltaLogprob.toFixed(3)}${token.cleanArgmax ? "" : " · not the clean argmax"}`}>
                        {visiblePiece(token.piece)}
                    </span>
                ))}
            </div>
            <ChartCard title="Per-token evidence: log-likelihood ratio best/clean (bars), KL (line); shaded: engaged" testId="tx-chart"
                values={JSON.stringify(detection.tokens.map((token) => token.llr))} exportAs={{ baseName: "transcript-evidence", csv: () => evidenceCsv(detection), testId: "export-evidence" }}>
                <ResponsiveContainer width="100%" height={240}>
                    <ComposedChart data={data} margin={{ top: 20, right: 4, bottom: 4, left: 0 }}>
                        <CartesianGrid stroke="var(--border)" strokeDasharray="3 4" vertical={false} />
                        <XAxis dataKey="index" tick={axisTick} tickLine={false} axisLine={{ stroke: "var(--border)" }} />
                        <YAxis yAxisId="llr" tick={axisTick} tickLine={false} axisLine={false} width={56} tickFormatter={(v: number) => v.toFixed(1)} />
                        <YAxis yAxisId="kl" orientation="right" tick={axisTick} tickLine={false} axisLine={false} width={48} tickFormatter={(v: number) => v.toPrecision(2)} />
                        <Tooltip contentStyle={tooltipStyle}
                            labelFormatter={(index) => `token ${String(index)} ${JSON.stringify(data[Number(index)]?.piece ?? "")}`}
                            formatter={(value, name) => [typeof value === "number" ? value.toFixed(4) : "—", String(name)]} />
                        <Legend wrapperStyle={{ fontSize: 12 }} />
                        {detection.intervals.map((interval) => (
                            <ReferenceArea key={interval.from} yAxisId="llr" x1={interval.from} x2={Math.max(interval.from, interval.until - 1)} fill="var(--steer)" fillOpacity={0.12} />
                        ))}
                        {detection.onsetToken != null && <ReferenceLine yAxisId="llr" x={detection.onsetToken} stroke="var(--accent)" strokeDasharray="2 3"
                            label={{ value: "onset", position: "top", fill: "var(--accent)", fontSize: 11 }} />}
                        <Bar yAxisId="llr" dataKey="llr" name="log LR (best vs clean)" fill="var(--steer)" isAnimationActive={false} />
                        <Line yAxisId="kl" dataKey="kl" name="KL (right)" stroke="var(--accent)" dot={false} isAnimationActive={false} />
                    </ComposedChart>
                </ResponsiveContainer>
            </ChartCard>
            <div className="chart-card">
                <div className="chart-head">
                    <div className="chart-title">Candidates (library vector × layers, fitted α̂ and onset)</div>
                </div>
                <table className="table" data-testid="tx-candidates">
                    <thead><tr><th>#</th><th>vector</th><th>layers</th><th>α̂</th><th>log LR vs clean</th><th>onset</th></tr></thead>
                    <tbody>
                        {detection.candidates.slice(0, 8).map((candidate, rank) => (
                            <tr key={`${candidate.vectorId}:${candidate.layers.first}-${candidate.layers.last}`} data-testid="tx-candidate">
                                <td>{rank + 1}</td><td>{candidate.name}</td><td className="mono">{candidate.layers.first}–{candidate.layers.last}</td>
                                <td className="mono">{candidate.alpha.toFixed(3)}</td><td className="mono">{candidate.logLrVsClean.toFixed(2)}</td>
                                <td className="mono">{candidate.onsetToken ?? "—"}</td>
                            </tr>
                        ))}
                    </tbody>
                </table>
            </div>
        </>
    );
}
