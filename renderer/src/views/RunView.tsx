// Run: prompt, sampling and patches on the left; the token strip with its colouring controls in the
// middle; the inspector of the selected token on the right.
import { useEffect, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { DiceIcon, RunIcon, StopIcon } from "../components/icons";
import { NoModel } from "../components/NoModel";
import { ViewHeader } from "../components/ViewHeader";
import { Field, Kbd, modKey, NumberInput, Panel, Spinner } from "../components/ui";
import { legendGradient, projectionScales } from "../lib/colourScale";
import { stripMetrics, type StripMetric } from "../lib/stripMetric";
import { formatLayers } from "../lib/format";
import { useConnectionStore } from "../state/connectionStore";
import { useModelStore } from "../state/modelStore";
import { generate, stop } from "../state/runControl";
import { selectScale, useRunStore } from "../state/runStore";
import { useVectorStore } from "../state/vectorStore";
import { PatchEditor } from "./run/PatchEditor";
import { TokenInspector } from "./run/TokenInspector";
import { TokenStrip } from "./run/TokenStrip";

export function RunView() {
    const hasModel = useModelStore((s) => s.model != null);
    return (
        <div className="view">
            <ViewHeader title="Run" subtitle="Generate, steer mid-run, and watch where a direction lights up." actions={<RunButtons />} />
            {hasModel
                ? (
                    <div className="view-body run-layout">
                        <div className="run-controls">
                            <PromptEditor />
                            <PatchEditor />
                            <SamplingPanel />
                        </div>
                        <div className="run-output">
                            <StripToolbar />
                            <TokenStrip />
                            <RunFooter />
                        </div>
                        <TokenInspector />
                    </div>
                )
                : <div className="view-body"><NoModel what="generate and steer" /></div>}
        </div>
    );
}

function RunButtons() {
    const status = useRunStore((s) => s.status);
    const hasModel = useModelStore((s) => s.model != null);
    const connected = useConnectionStore((s) => s.state === "connected");
    const running = status !== "idle";
    return (
        <div className="run-buttons">
            <button type="button" className="button primary large" data-testid="generate" disabled={!hasModel || !connected || running} onClick={() => void generate()}>
                {status === "starting" ? <Spinner small /> : <RunIcon size={16} />} Generate <Kbd>{modKey}+Enter</Kbd>
            </button>
            <button type="button" className="button large" data-testid="stop" disabled={!running || status === "stopping"} onClick={stop}>
                <StopIcon size={16} /> Stop <Kbd>Esc</Kbd>
            </button>
        </div>
    );
}

function PromptEditor() {
    const { prompt, promptMode } = useRunStore(useShallow((s) => ({ prompt: s.prompt, promptMode: s.promptMode })));
    const setPrompt = useRunStore((s) => s.setPrompt);
    const setPromptMode = useRunStore((s) => s.setPromptMode);
    const hasChatTemplate = useModelStore((s) => s.model?.shape.hasChatTemplate ?? false);
    return (
        <Panel title="Prompt" actions={
            <span className="segmented" role="group" aria-label="prompt mode">
                <button type="button" className={promptMode === "plain" ? "active" : ""} onClick={() => setPromptMode("plain")}>plain</button>
                <button type="button" className={promptMode === "chat" ? "active" : ""} disabled={!hasChatTemplate && promptMode !== "chat"}
                    title={hasChatTemplate ? "the prompt is a user message in the model's chat template" : "this model has no chat template"}
                    onClick={() => setPromptMode("chat")}>chat</button>
            </span>
        }>
            <textarea className="input prompt mono" data-testid="prompt" rows={5} value={prompt} spellCheck={false}
                placeholder={promptMode === "chat" ? "A user message…" : "Text to continue…"} onChange={(event) => setPrompt(event.target.value)} />
            <div className="muted tiny">{modKey}+Enter generates · Esc stops</div>
        </Panel>
    );
}

function SamplingPanel() {
    const sampling = useRunStore((s) => s.sampling);
    const maxTokens = useRunStore((s) => s.maxTokens);
    const setSampling = useRunStore((s) => s.setSampling);
    const setMaxTokens = useRunStore((s) => s.setMaxTokens);
    return (
        <Panel title="Sampling">
            <div className="field-grid compact">
                <Field label="temperature" hint="0 = greedy">
                    <NumberInput value={sampling.temperature} min={0} testId="sampling-temperature" onChange={(v) => v != null && setSampling({ temperature: v })} />
                </Field>
                <Field label="top-k" hint="0 = off">
                    <NumberInput value={sampling.topK} integer min={0} onChange={(v) => v != null && setSampling({ topK: v })} />
                </Field>
                <Field label="top-p">
                    <NumberInput value={sampling.topP} min={0.0001} max={1} onChange={(v) => v != null && setSampling({ topP: v })} />
                </Field>
                <Field label="min-p">
                    <NumberInput value={sampling.minP} min={0} max={0.9999} onChange={(v) => v != null && setSampling({ minP: v })} />
                </Field>
                <Field label="seed">
                    <div className="input-row">
                        <NumberInput value={sampling.seed} integer min={0} max={0xffffffff} testId="sampling-seed" onChange={(v) => v != null && setSampling({ seed: v })} />
                        <button type="button" className="icon-button" aria-label="random seed" title="random seed"
                            onClick={() => setSampling({ seed: Math.floor(Math.random() * 0xffffffff) })}><DiceIcon size={16} /></button>
                    </div>
                </Field>
                <Field label="max tokens">
                    <NumberInput value={maxTokens} integer min={1} max={100_000} testId="max-tokens" onChange={(v) => v != null && setMaxTokens(v)} />
                </Field>
            </div>
        </Panel>
    );
}

function StripToolbar() {
    const { colourBy, colourLayer, scaleMode, colourMetric } = useRunStore(useShallow((s) => ({ colourBy: s.colourBy, colourLayer: s.colourLayer, scaleMode: s.scaleMode, colourMetric: s.colourMetric })));
    const setColourMetric = useRunStore((s) => s.setColourMetric);
    const metric = stripMetrics.find((entry) => entry.value === colourMetric) ?? stripMetrics[0]!;
    const scale = useRunStore(selectScale);
    const { setColourBy, setColourLayer, setScaleMode } = useRunStore(useShallow((s) => ({ setColourBy: s.setColourBy, setColourLayer: s.setColourLayer, setScaleMode: s.setScaleMode })));
    const ids = useVectorStore((s) => s.ids);
    const byId = useVectorStore((s) => s.byId);
    const vector = colourBy != null ? byId[colourBy] : undefined;

    // pick a vector to colour by as soon as the library has one
    useEffect(() => {
        if ((colourBy == null || byId[colourBy] == null) && ids.length > 0)
            setColourBy(ids[0]!);
    }, [colourBy, ids, byId, setColourBy]);

    return (
        <div className="strip-toolbar">
            <label className="mini-field">
                <span>colour</span>
                <select className="input small" data-testid="colour-metric" value={colourMetric} onChange={(event) => setColourMetric(event.target.value as StripMetric)}>
                    {stripMetrics.map((entry) => <option key={entry.value} value={entry.value}>{entry.label}</option>)}
                </select>
            </label>
            <label className="mini-field">
                <span>colour by</span>
                <select className="input small" data-testid="colour-by" value={colourBy ?? ""} onChange={(event) => setColourBy(event.target.value === "" ? null : event.target.value)}>
                    <option value="">(none)</option>
                    {ids.map((id) => <option key={id} value={id}>{byId[id]?.name ?? id}</option>)}
                </select>
            </label>
            <label className="mini-field">
                <span>layer</span>
                <select className="input small" data-testid="colour-layer" value={colourLayer ?? ""} disabled={vector == null}
                    onChange={(event) => setColourLayer(event.target.value === "" ? null : Number(event.target.value))}>
                    {vector?.layers.map((layer) => <option key={layer} value={layer}>{layer}</option>)}
                </select>
            </label>
            <label className="mini-field">
                <span>scale</span>
                <select className="input small" value={String(scaleMode)} onChange={(event) => setScaleMode(event.target.value === "auto" ? "auto" : Number(event.target.value))}>
                    <option value="auto">auto (±{scale})</option>
                    {projectionScales.map((s) => <option key={s} value={String(s)}>±{s}</option>)}
                </select>
            </label>
            {colourMetric === "projection"
                ? (
                    <div className="legend" title="cosine of the token's residual stream with the vector at the chosen layer">
                        <span className="mono tiny">−{scale}</span>
                        <span className="legend-bar" style={{ background: legendGradient() }} />
                        <span className="mono tiny">+{scale}</span>
                        <span className="muted tiny">cos{vector != null ? ` · ${vector.name} @ L${colourLayer ?? "?"}` : ""}</span>
                    </div>
                )
                : (
                    <div className="legend" data-testid="readout-legend" title="the token's read-out of its next-token distribution at T = 1">
                        <span className="mono tiny">−{metric.scale}</span>
                        <span className="legend-bar" style={{ background: legendGradient() }} />
                        <span className="mono tiny">+{metric.scale}</span>
                        <span className="muted tiny">{metric.legend}</span>
                    </div>
                )}
            {vector != null && <span className="muted tiny hide-narrow">layers {formatLayers(vector.layers)}</span>}
        </div>
    );
}

function RunFooter() {
    const { count, status, end, firstTokenMs, startedAt, lastTokenAt, markerIds } = useRunStore(useShallow((s) => ({
        count: s.tokenIds.length, status: s.status, end: s.end, firstTokenMs: s.firstTokenMs, startedAt: s.startedAt, lastTokenAt: s.lastTokenAt, markerIds: s.markerIds
    })));
    const [now, setNow] = useState(() => performance.now());
    useEffect(() => {
        if (status === "idle")
            return;
        const timer = setInterval(() => setNow(performance.now()), 250);
        return () => clearInterval(timer);
    }, [status]);
    const liveRate = count > 1 && firstTokenMs != null && lastTokenAt > startedAt + firstTokenMs
        ? (count - 1) / ((lastTokenAt - startedAt - firstTokenMs) / 1000) : 0;
    const rate = end?.tokensPerSecond ?? liveRate;
    return (
        <div className="run-footer">
            <span className={`status-pill ${status}`} data-testid="run-status">
                {status === "idle" ? (end != null ? `ended: ${describeStop(end.stopReason)}` : "ready") : status === "starting" ? "starting…" : status === "stopping" ? "stopping…" : "generating"}
            </span>
            <span className="mono small">{count} tokens</span>
            {rate > 0 && <span className="mono small">{rate.toFixed(1)} tok/s</span>}
            {firstTokenMs != null && <span className="mono small muted">first token {firstTokenMs.toFixed(0)} ms</span>}
            {status !== "idle" && startedAt > 0 && <span className="mono small muted">{((now - startedAt) / 1000).toFixed(1)} s</span>}
            <MarkerChips ids={markerIds} />
        </div>
    );
}

function MarkerChips(props: { ids: number[] }) {
    const markers = useRunStore((s) => s.markers);
    const select = useRunStore((s) => s.select);
    if (props.ids.length === 0)
        return null;
    return (
        <span className="marker-chips">
            <span className="muted small">patch changes</span>
            {props.ids.slice(-6).map((at) => (
                <button type="button" key={at} className="marker-chip" data-testid="patch-change" data-at={at} title={markers[at]?.patches.join("\n") || "steering off"} onClick={() => select(at)}>
                    @{at} {markers[at]?.patches.length ? `· ${markers[at]!.patches.length} on` : "· off"}
                </button>
            ))}
        </span>
    );
}

function describeStop(reason: string): string {
    switch (reason) {
        case "eog": return "end of text";
        case "maxTokens": return "max tokens";
        case "contextFull": return "context full";
        case "aborted": return "stopped";
        default: return reason;
    }
}
