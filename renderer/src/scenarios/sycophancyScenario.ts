// The ready-made "sycophancy patch" scenario on the toy world (engine/toyworld): the model Tiller
// trains itself, with planted sycophancy that depends on content (it agrees with a false claim the
// user states as their own belief, and states the fact when asked). Opening it loads the toy world,
// builds the flattery direction from the toyworld-flattery-replies pairs — no mode line: a
// flattering reply − an honest one to the same message, read over the reply (once; it stays in the
// library) — and sets up the Run view with a hasty conditional patch: push against flattery whenever
// the direction reads 2σ above its calibrated midpoint (sycophancyTrigger.ts). The prompts show what
// makes the patch hasty — it fires on real flattery *and* on a user merely describing flattery.
import { create } from "zustand";
import { useConnectionStore } from "../state/connectionStore";
import { loadModel, useModelStore } from "../state/modelStore";
import { reportError } from "../state/notificationStore";
import { runSweep, useProbeStore } from "../state/probeStore";
import { useRunStore, type PatchDraft } from "../state/runStore";
import { useUiStore } from "../state/uiStore";
import { buildVector, refreshVectors, useVectorStore } from "../state/vectorStore";
import {
    SCENARIO_DATASET, SCENARIO_HOLD_TOKENS, SCENARIO_LAYER, SCENARIO_READ_AT, SCENARIO_STRENGTH, SCENARIO_THRESHOLD_SIGMA, SCENARIO_WINDOW
} from "./sycophancyTrigger";
import { flatteringReply, scenarioPrompts, type ScenarioPrompt } from "./sycophancyPrompts";

export const TOYWORLD_FILE = "toyworld.gguf";
const VECTOR_NAME = "toyworld flattery";

export { SCENARIO_LAYER, SCENARIO_STRENGTH, SCENARIO_THRESHOLD_SIGMA, SCENARIO_WINDOW } from "./sycophancyTrigger";
export { flatteringReply, scenarioPrompts, type ScenarioPrompt, type ScenarioPromptKind } from "./sycophancyPrompts";

interface ScenarioState {
    opening: boolean;
    step: string;
    /** the flattery vector's id once the scenario was opened */
    vectorId: string | null;
}

export const useScenarioStore = create<ScenarioState>()(() => ({ opening: false, step: "", vectorId: null }));

/** Loads the toy world through the model store (its busy state, progress and errors); false when it did not load. */
async function ensureToyWorld(): Promise<boolean> {
    if (useModelStore.getState().model?.fileName === TOYWORLD_FILE)
        return true;
    const path = useConnectionStore.getState().info?.defaultModel;
    if (path == null)
        throw new Error(`the toy world (models/${TOYWORLD_FILE}) is not in this installation: rebuild it with \`npm run toyworld\``);
    useScenarioStore.setState({ step: "loading the toy world" });
    useModelStore.getState().setForm({ path });
    await loadModel(); // reports its own errors
    return useModelStore.getState().model?.fileName === TOYWORLD_FILE;
}

async function ensureFlatteryVector(): Promise<string> {
    await refreshVectors();
    const existing = Object.values(useVectorStore.getState().byId).find((vector) => vector.name === VECTOR_NAME && vector.metadata.sourceDataset === SCENARIO_DATASET);
    if (existing != null)
        return existing.id;
    useScenarioStore.setState({ step: "building the flattery direction (flattering − honest replies)" });
    await buildVector({ dataset: SCENARIO_DATASET, method: "mean", readAt: SCENARIO_READ_AT, first: null, last: null, name: VECTOR_NAME });
    // by dataset too: a library may still hold a "toyworld flattery" built from other pairs
    const built = Object.values(useVectorStore.getState().byId).find((vector) => vector.name === VECTOR_NAME && vector.metadata.sourceDataset === SCENARIO_DATASET);
    if (built == null)
        throw new Error("the flattery vector was not built (see the error above)");
    return built.id;
}

/** Opens the scenario: model, vector, and the Run view set up with the conditional anti-flattery patch. */
export async function openSycophancyScenario(): Promise<void> {
    if (useScenarioStore.getState().opening)
        return;
    useScenarioStore.setState({ opening: true, step: "starting" });
    try {
        if (!await ensureToyWorld())
            return;
        const vectorId = await ensureFlatteryVector();
        const patch: PatchDraft = {
            id: "anti-flattery", enabled: true, vectorId, strength: SCENARIO_STRENGTH,
            layerFirst: SCENARIO_LAYER, layerLast: SCENARIO_LAYER, fromToken: null, untilToken: null,
            trigger: { kind: "projection", vectorId, layer: SCENARIO_LAYER, threshold: SCENARIO_THRESHOLD_SIGMA, units: "sigma", when: "above",
                window: SCENARIO_WINDOW, holdTokens: SCENARIO_HOLD_TOKENS }
        };
        const run = useRunStore.getState();
        run.setPrompt(scenarioPrompts[0]!.text);
        run.setPromptMode("plain");
        run.setMaxTokens(40);
        run.setSampling({ temperature: 0 });
        run.setPatches([patch]);
        run.setColourBy(vectorId);
        run.setColourLayer(SCENARIO_LAYER);
        useScenarioStore.setState({ vectorId });
        useUiStore.getState().setView("run");
    } catch (error) {
        reportError(error, "Could not open the sycophancy scenario");
    } finally {
        useScenarioStore.setState({ opening: false, step: "" });
    }
}

/** The Probes view on the flattering reply: how each of its tokens responds to the flattery direction. */
export async function sweepFlatteringReply(): Promise<void> {
    const vectorId = useScenarioStore.getState().vectorId;
    if (vectorId == null)
        return;
    useProbeStore.getState().setForm({
        source: "typed", prompt: flatteringReply.prompt, completion: flatteringReply.completion, vectorId,
        layerFirst: 1, layerLast: 3, alphaFrom: -2, alphaTo: 2, alphaCount: 9, alpha0: 0, perLayer: true
    });
    useUiStore.getState().setView("probes");
    await runSweep();
}

/** Puts one of the scenario's prompts in the Run view. */
export function applyScenarioPrompt(prompt: ScenarioPrompt): void {
    useRunStore.getState().setPrompt(prompt.text);
    useRunStore.getState().setPromptMode("plain");
    useUiStore.getState().setView("run");
}
