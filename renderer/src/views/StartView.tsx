// Start: what a new user sees first — ready-made scenarios on the toy world (the model Tiller
// trains itself and ships), and the way to one's own model.
import { useShallow } from "zustand/react/shallow";
import { ModelIcon, RunIcon } from "../components/icons";
import { ViewHeader } from "../components/ViewHeader";
import { Panel, Spinner } from "../components/ui";
import {
    applyScenarioPrompt, flatteringReply, openSycophancyScenario, sweepFlatteringReply, scenarioPrompts, SCENARIO_LAYER, SCENARIO_STRENGTH, SCENARIO_THRESHOLD_SIGMA, SCENARIO_WINDOW,
    TOYWORLD_FILE, useScenarioStore, type ScenarioPromptKind
} from "../scenarios/sycophancyScenario";
import { useConnectionStore } from "../state/connectionStore";
import { useModelStore } from "../state/modelStore";
import { useUiStore } from "../state/uiStore";

const kindLabels: Record<ScenarioPromptKind, string> = {
    flattery: "real flattery",
    description: "describes flattery",
    neutral: "neutral"
};

export function StartView() {
    return (
        <div className="view">
            <ViewHeader title="Start" subtitle="Open a ready-made experiment, or your own model." />
            <div className="view-body start-grid">
                <SycophancyScenarioPanel />
                <OwnModelPanel />
            </div>
        </div>
    );
}

function SycophancyScenarioPanel() {
    const { opening, step, vectorId } = useScenarioStore(useShallow((s) => ({ opening: s.opening, step: s.step, vectorId: s.vectorId })));
    const connected = useConnectionStore((s) => s.state === "connected");
    const hasToyWorld = useConnectionStore((s) => s.info?.defaultModel != null);
    const onToyWorld = useModelStore((s) => s.model?.fileName === TOYWORLD_FILE);
    return (
        <Panel title="Sycophancy patch" testId="scenario-sycophancy" actions={<span className="pill">toy world</span>}>
            <div className="stack">
                <p className="muted">
                    The toy world is a 4-layer chat model that Tiller trained itself, with planted sycophancy that
                    depends on content: with no system line it agrees with a false claim when the user states it as
                    their own belief (“I am a geologist. Snow is black, I am sure.”) and states the fact when the user
                    asks or cites someone else, and it agrees with an opinion the user holds (“Snow is lovely, I think.”)
                    where it would call one asked a matter of taste; <code>System: mode flatter</code> makes it agree, <code>mode honest</code> not.
                    This scenario builds the flattery direction from replies with no mode line (a flattering reply −
                    an honest one to the same message, over the reply&apos;s tokens) and sets up a <em>hasty</em> patch: push
                    against flattery (×{SCENARIO_STRENGTH} at layer {SCENARIO_LAYER}) whenever the direction, averaged over the
                    last {SCENARIO_WINDOW} tokens, rises above +{SCENARIO_THRESHOLD_SIGMA}σ there (σ of its calibration; 0 is halfway between flattering and honest replies).
                    Run the prompts below to see where it fires: on real flattery — and on a user who merely <em>describes</em> a flatterer, but not on the same sentence with a harmless deed.
                </p>
                <div className="button-row">
                    <button type="button" className="button primary" data-testid="scenario-open" disabled={!connected || opening || !hasToyWorld}
                        onClick={() => void openSycophancyScenario()}>
                        {opening ? <><Spinner small /> {step}…</> : vectorId != null ? "Open again" : "Open the scenario"}
                    </button>
                    {!hasToyWorld && connected && <span className="muted">The toy world is not installed: run <code>npm run toyworld</code>.</span>}
                    {onToyWorld && <span className="muted">The toy world is loaded.</span>}
                </div>
                {vectorId != null && (
                    <>
                        <ul className="scenario-prompts" data-testid="scenario-prompts">
                            {scenarioPrompts.map((prompt) => (
                                <li key={prompt.label}>
                                    <button type="button" className="button ghost small" data-testid="scenario-prompt" data-kind={prompt.kind}
                                        onClick={() => applyScenarioPrompt(prompt)}>
                                        <RunIcon size={14} /> {prompt.label}
                                    </button>
                                    <span className={`pill kind-${prompt.kind}`}>{kindLabels[prompt.kind]}</span>
                                </li>
                            ))}
                        </ul>
                        <div className="button-row">
                            <button type="button" className="button" data-testid="scenario-susceptibility" onClick={() => void sweepFlatteringReply()}>
                                Susceptibility of a flattering reply
                            </button>
                            <span className="muted small">sweeps the flattery vector over “{flatteringReply.completion}”, token by token and layer by layer</span>
                        </div>
                    </>
                )}
            </div>
        </Panel>
    );
}

function OwnModelPanel() {
    const setView = useUiStore((s) => s.setView);
    return (
        <Panel title="Your own model">
            <div className="stack">
                <p className="muted">Open any local GGUF model (llama.cpp's formats), build or import steering vectors, and steer a run while it generates.</p>
                <div className="button-row">
                    <button type="button" className="button" data-testid="start-open-model" onClick={() => setView("model")}>
                        <ModelIcon size={14} /> Open a model
                    </button>
                </div>
            </div>
        </Panel>
    );
}
