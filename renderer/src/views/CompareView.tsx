// Compare: the Run view's prompt, sampling and seed, run without patches and with the current
// patches, side by side, with the first diverging token highlighted in both.
import { memo, type ReactNode } from "react";
import { useShallow } from "zustand/react/shallow";
import { CompareIcon, StopIcon } from "../components/icons";
import { NoModel } from "../components/NoModel";
import { ViewHeader } from "../components/ViewHeader";
import { Kbd, modKey, NumberInput, Spinner } from "../components/ui";
import { visiblePiece } from "../lib/format";
import { useConnectionStore } from "../state/connectionStore";
import { runCompare, stopCompare, useCompareStore, type CompareSide } from "../state/compareStore";
import { useModelStore } from "../state/modelStore";
import { patchLabel, patchSpecsOf, useRunStore } from "../state/runStore";
import { useUiStore } from "../state/uiStore";

export function CompareView() {
    const hasModel = useModelStore((s) => s.model != null);
    return (
        <div className="view">
            <ViewHeader title="Compare" subtitle="The same prompt, seed and sampling — without patches and with them." actions={<CompareButtons />} />
            {hasModel
                ? (
                    <div className="view-body compare-layout">
                        <CompareSetup />
                        <DivergenceSummary />
                        <div className="compare-panes">
                            <ComparePane side="baseline" title="Without patches" />
                            <ComparePane side="steered" title="With patches" />
                        </div>
                    </div>
                )
                : <div className="view-body"><NoModel what="compare steered and unsteered runs" /></div>}
        </div>
    );
}

function CompareButtons() {
    const status = useCompareStore((s) => s.status);
    const runBusy = useRunStore((s) => s.status !== "idle");
    const hasModel = useModelStore((s) => s.model != null);
    const connected = useConnectionStore((s) => s.state === "connected");
    return (
        <div className="run-buttons">
            <button type="button" className="button primary large" data-testid="compare-run" disabled={!hasModel || !connected || status !== "idle" || runBusy}
                onClick={() => void runCompare()}>
                {status !== "idle" ? <Spinner small /> : <CompareIcon size={16} />} Run comparison <Kbd>{modKey}+Enter</Kbd>
            </button>
            <button type="button" className="button large" data-testid="compare-stop" disabled={status === "idle"} onClick={stopCompare}>
                <StopIcon size={16} /> Stop <Kbd>Esc</Kbd>
            </button>
        </div>
    );
}

function CompareSetup() {
    const run = useRunStore(useShallow((s) => ({ prompt: s.prompt, sampling: s.sampling, patchIds: s.patchIds, patchById: s.patchById })));
    const maxTokens = useCompareStore((s) => s.maxTokens);
    const setMaxTokens = useCompareStore((s) => s.setMaxTokens);
    const setView = useUiStore((s) => s.setView);
    const specs = patchSpecsOf(run);
    return (
        <div className="compare-setup panel">
            <div className="compare-setup-item grow">
                <span className="field-label">prompt</span>
                <span className="mono ellipsis">{run.prompt === "" ? <span className="muted">(empty)</span> : run.prompt}</span>
            </div>
            <div className="compare-setup-item">
                <span className="field-label">sampling</span>
                <span className="mono small">T={run.sampling.temperature} · k={run.sampling.topK} · p={run.sampling.topP} · seed {run.sampling.seed}</span>
            </div>
            <div className="compare-setup-item">
                <span className="field-label">patches</span>
                {specs.length === 0
                    ? <span className="muted small">none enabled — <button type="button" className="link" onClick={() => setView("run")}>add in Run</button></span>
                    : <span className="small">{specs.map((spec) => patchLabel(run.patchById[spec.id]!)).join(" + ")}</span>}
            </div>
            <label className="compare-setup-item">
                <span className="field-label">max tokens</span>
                <NumberInput className="narrow" value={maxTokens} integer min={1} max={4096} testId="compare-max-tokens" onChange={(v) => v != null && setMaxTokens(v)} />
            </label>
        </div>
    );
}

function DivergenceSummary() {
    const { divergence, baseline, steered, status } = useCompareStore(useShallow((s) => ({ divergence: s.divergence, baseline: s.baseline, steered: s.steered, status: s.status })));
    if (baseline.tokens.length === 0 && status === "idle")
        return <p className="muted compare-hint">Run the comparison to see where steering changes the text.</p>;
    const done = status === "idle" && steered.stopReason != null;
    let text: ReactNode;
    if (divergence != null) {
        text = <>First divergence at token <strong className="mono" data-testid="divergence-index">{divergence}</strong>:
            {" "}<span className="mono chip">{visiblePiece(baseline.tokens[divergence]!.piece)}</span> → <span className="mono chip steer">{visiblePiece(steered.tokens[divergence]!.piece)}</span></>;
    } else if (done) {
        text = <>The runs are identical over {Math.min(baseline.tokens.length, steered.tokens.length)} tokens.</>;
    } else {
        text = <>{status === "baseline" ? "Running without patches…" : "Running with patches…"}</>;
    }
    return <div className="divergence-summary" data-testid="divergence-summary">{text}</div>;
}

function ComparePane(props: { side: "baseline" | "steered"; title: string }) {
    const data = useCompareStore((s) => s[props.side]);
    const divergence = useCompareStore((s) => s.divergence);
    const running = useCompareStore((s) => s.status === props.side);
    return (
        <section className={`panel compare-pane ${props.side}-side`} data-testid={`compare-${props.side}`}>
            <header className="panel-header">
                <h2 className="panel-title">{props.title} {running && <Spinner small />}</h2>
                <span className="muted small mono">
                    {data.tokens.length} tokens{data.tokensPerSecond > 0 ? ` · ${data.tokensPerSecond.toFixed(1)} tok/s` : ""}
                </span>
            </header>
            <div className="compare-text mono">
                <PaneTokens data={data} divergence={divergence} steeredSide={props.side === "steered"} />
            </div>
        </section>
    );
}

const PaneTokens = memo(function PaneTokens(props: { data: CompareSide; divergence: number | null; steeredSide: boolean }) {
    const { data, divergence } = props;
    return (
        <>
            {data.promptTokens.map((token, i) => (token.piece === "" ? null : <span key={`p${i}`} className="tok prompt">{visiblePiece(token.piece)}</span>))}
            {data.tokens.map((token) => {
                const diverges = token.index === divergence;
                const after = divergence != null && token.index > divergence;
                return (
                    <span key={token.index} className={`tok plain ${diverges ? "diverge" : ""} ${after ? "after" : ""} ${props.steeredSide && token.steered ? "steered" : ""}`}
                        data-testid={diverges ? "divergence" : "compare-token"} data-index={token.index}
                        title={`#${token.index} p=${Math.exp(token.logprob).toFixed(3)}`}>
                        {visiblePiece(token.piece)}
                    </span>
                );
            })}
        </>
    );
});
