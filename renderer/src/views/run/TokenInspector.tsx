// The inspector of the selected token: its alternatives (top-k with probabilities), entropy,
// log-prob, its thermodynamic read-outs and C(T) curve (TokenThermo), the patches that acted on it,
// and the projection per layer for every probe.
import { useState } from "react";
import { CloseIcon } from "../../components/icons";
import { visiblePiece } from "../../lib/format";
import { useShallow } from "zustand/react/shallow";
import { patchLabelAt, useRunStore } from "../../state/runStore";
import { useVectorStore } from "../../state/vectorStore";
import { ProjectionChart } from "./ProjectionChart";
import { TokenThermo } from "./TokenThermo";


export function TokenInspector() {
    const selected = useRunStore((s) => s.selected);
    const token = useRunStore((s) => (s.selected != null ? s.tokens[s.selected] : undefined));
    // a boolean, not the token count: the inspector (and its chart) must not re-render at the token rate
    const isLastToken = useRunStore((s) => s.selected != null && s.selected >= s.tokenIds.length - 1);
    const labelState = useRunStore(useShallow((s) => ({ labelVersions: s.labelVersions, patchLabels: s.patchLabels })));
    const colourLayer = useRunStore((s) => s.colourLayer);
    const names = useVectorStore((s) => s.byId);
    const [measure, setMeasure] = useState<"cosine" | "dot">("cosine");
    const select = useRunStore((s) => s.select);
    const runId = useRunStore((s) => s.runId);
    const runFinished = useRunStore((s) => s.status === "idle");

    if (selected == null || token == null) {
        return (
            <aside className="inspector empty" data-testid="inspector-empty">
                <div className="muted small">Click a token to inspect its alternatives, entropy and per-layer read-out.</div>
            </aside>
        );
    }

    const probability = Math.exp(token.logprob);
    const probes = [...new Set(token.projections.map((p) => p.probe))];
    const topMax = Math.max(1e-9, ...token.top.map((alt) => Math.exp(alt.logprob)));

    return (
        <aside className="inspector" data-testid="inspector" data-index={token.index}>
            <header className="inspector-head">
                <div>
                    <div className="inspector-piece mono">{visiblePiece(token.piece)}</div>
                    <div className="muted small">token #{token.index} · position {token.position} · id {token.id}</div>
                </div>
                <div className="inspector-nav">
                    <button type="button" className="icon-button" aria-label="previous token" disabled={selected <= 0} onClick={() => select(selected - 1)}>‹</button>
                    <button type="button" className="icon-button" aria-label="next token" disabled={isLastToken} onClick={() => select(selected + 1)}>›</button>
                    <button type="button" className="icon-button" aria-label="close inspector" onClick={() => select(null)}><CloseIcon size={16} /></button>
                </div>
            </header>

            <div className="stat-grid compact">
                <div className="stat"><span className="stat-label">p</span><span className="stat-value mono">{probability.toFixed(4)}</span></div>
                <div className="stat"><span className="stat-label">log-prob</span><span className="stat-value mono" data-testid="inspector-logprob">{token.logprob.toFixed(3)}</span></div>
                <div className="stat"><span className="stat-label">entropy</span><span className="stat-value mono" data-testid="inspector-entropy">{token.entropy.toFixed(3)} nats</span></div>
            </div>

            <TokenThermo token={token} runId={runId} runFinished={runFinished} />

            <section className="inspector-section">
                <h3>Active patches</h3>
                {token.activePatches.length === 0
                    ? <div className="muted small">none — this token was not steered</div>
                    : <ul className="patch-list">{token.activePatches.map((id) => <li key={id} className="pill steer">{patchLabelAt(labelState, token.index, id)}</li>)}</ul>}
            </section>

            <section className="inspector-section">
                <h3>Alternatives</h3>
                <ul className="topk">
                    {token.top.map((alt) => {
                        const p = Math.exp(alt.logprob);
                        return (
                            <li key={alt.id} className={`topk-row ${alt.id === token.id ? "chosen" : ""}`} data-testid="topk-row">
                                <span className="topk-piece mono">{visiblePiece(alt.piece)}</span>
                                <span className="topk-bar"><span style={{ width: `${(p / topMax) * 100}%` }} /></span>
                                <span className="topk-p mono">{(p * 100).toFixed(1)}%</span>
                            </li>
                        );
                    })}
                </ul>
            </section>

            <section className="inspector-section">
                <h3>
                    Projection per layer
                    <span className="segmented small">
                        <button type="button" className={measure === "cosine" ? "active" : ""} onClick={() => setMeasure("cosine")}>cosine</button>
                        <button type="button" className={measure === "dot" ? "active" : ""} onClick={() => setMeasure("dot")}>dot</button>
                    </span>
                </h3>
                {probes.length === 0
                    ? <div className="muted small">No read-out for this token: choose a colour-by vector (or add a patch) and generate again.</div>
                    : (
                        <ProjectionChart token={token} measure={measure} colourLayer={colourLayer} names={names} />
                    )}
            </section>
        </aside>
    );
}
