// One recorded run: its prompt and settings, the patches it started with and its mid-run changes,
// the strip coloured by a read-out it recorded, and this run's replay verdict.
import { useMemo, useState } from "react";
import type { SessionRunInfo } from "../../../../engine/protocol/sessions";
import { Panel } from "../../components/ui";
import { useSessionStore } from "../../state/sessionStore";
import { readoutsOf, RecordedStrip } from "./RecordedStrip";

export function RecordedRunCard(props: { run: SessionRunInfo; index: number }) {
    const { run, index } = props;
    const readouts = useMemo(() => readoutsOf(run.tokens), [run.tokens]);
    const [readoutKey, setReadoutKey] = useState(0);
    const readout = readouts[Math.min(readoutKey, readouts.length - 1)] ?? null;
    const changesAt = useMemo(() => run.changes.map((change) => change.atToken), [run.changes]);
    const replayed = useSessionStore((s) => s.replay?.results?.[index] ?? null);
    const labels = useMemo(() => new Map(run.probes.map((probe) => [probe.name, probe.vectorName])), [run.probes]);
    const { sampling } = run;
    return (
        <Panel title={<>Run {index + 1} <span className="muted small">· {run.tokens.length} tokens · {run.end?.stopReason ?? "interrupted"}</span></>} testId="session-run"
            actions={readouts.length > 0 && (
                <select className="input" data-testid="session-run-readout" aria-label="Colour by" value={readoutKey} onChange={(event) => setReadoutKey(Number(event.target.value))}>
                    {readouts.map((entry, key) => <option key={`${entry.probe}@${entry.layer}`} value={key}>{labels.get(entry.probe) ?? entry.probe} · L{entry.layer}</option>)}
                </select>
            )}>
            <div className="recorded-prompt small"><span className="muted">Prompt </span><span className="mono">{run.prompt}</span></div>
            <div className="muted small">
                temperature {sampling.temperature} · top-k {sampling.topK} · top-p {sampling.topP} · min-p {sampling.minP} · seed {sampling.seed} · max {run.maxTokens} tokens
                {run.end != null && <> · {run.end.tokensPerSecond.toFixed(0)} tok/s</>}
            </div>
            {run.patches.length > 0 && (
                <div className="recorded-patches small">
                    {run.patches.map((patch) => (
                        <span key={patch.id} className="chip steer">{patch.vectorName} × {patch.strength}{patch.layers != null ? ` · L${patch.layers.first}–${patch.layers.last}` : ""}{patch.fromToken != null ? ` · from ${patch.fromToken}` : ""}</span>
                    ))}
                </div>
            )}
            {run.changes.length > 0 && (
                <div className="muted small" data-testid="session-run-changes">
                    Patch changes at token {run.changes.map((change) => `${change.atToken} (${change.patches.map((patch) => `${patch.vectorName} × ${patch.strength}`).join(", ") || "none"})`).join("; ")}
                </div>
            )}
            <RecordedStrip tokens={run.tokens} readout={readout} readoutLabel={readout != null ? labels.get(readout.probe) ?? readout.probe : null} changesAt={changesAt} triggers={run.triggers} divergenceAt={replayed?.firstDivergence?.index ?? null} testId="session-strip" />
            {replayed != null && (
                <div className={`replay-verdict small ${replayed.identical ? "ok" : "bad"}`} data-testid="session-run-replay" data-identical={replayed.identical}>
                    {replayed.identical
                        ? <>Replay identical ({replayed.replayedTokens} tokens).</>
                        : <>Replay diverged at token {replayed.firstDivergence!.index}: recorded id {replayed.firstDivergence!.recorded ?? "—"}, replayed id {replayed.firstDivergence!.replayed ?? "—"} ({replayed.recordedTokens} recorded, {replayed.replayedTokens} replayed).</>}
                </div>
            )}
        </Panel>
    );
}
