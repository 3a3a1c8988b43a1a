// Probes: the susceptibility sweep (form, progress, result, the tokens whose α-curves are shown)
// and the patch detection of a run. One probe at a time: the engine runs one thing per context.
import { create } from "zustand";
import type { EngineParams, EngineResults } from "../../../engine/protocol/EngineContract";
import { patchSpecsOf, useRunStore } from "./runStore";
import { TrackedRequest, type RequestProgress } from "./trackedRequest";

export type SweepResult = EngineResults["probes.sweep"];
export type DetectionResult = EngineResults["probes.detect"];

export interface SweepForm {
    /** "typed": prompt + completion below; "lastRun": the Run view's last run */
    source: "typed" | "lastRun";
    prompt: string;
    completion: string;
    vectorId: string;
    /** null: every layer the vector has */
    layerFirst: number | null;
    layerLast: number | null;
    alphaFrom: number;
    alphaTo: number;
    alphaCount: number;
    alpha0: number;
    /** the generated token the patch acts from (0: from the prompt on) */
    fromToken: number;
    perLayer: boolean;
}

export type ProbeProgress = RequestProgress<"sweep" | "detect">;

interface ProbeState {
    form: SweepForm;
    progress: ProbeProgress | null;
    sweep: SweepResult | null;
    /** completion-token indices whose α-curves are plotted */
    selected: number[];
    /** the text detection looks at: the Run view's last run, or the typed text with the Run view's patches as its claim */
    detectSource: "lastRun" | "typed";
    detection: DetectionResult | null;
    setForm(patch: Partial<SweepForm>): void;
    setDetectSource(source: "lastRun" | "typed"): void;
    toggleToken(index: number): void;
}

/** How many tokens are pre-selected for α-curves when a sweep arrives: the largest |χ|. */
const PRESELECTED = 3;
/** At most this many curves at once: more is unreadable. */
export const MAX_SELECTED = 8;

export const useProbeStore = create<ProbeState>()((set) => ({
    form: {
        source: "typed",
        prompt: "One day, Tom went to the park with his mom.",
        completion: " He was very happy. He smiled.",
        vectorId: "",
        layerFirst: null,
        layerLast: null,
        alphaFrom: -2,
        alphaTo: 2,
        alphaCount: 9,
        alpha0: 0,
        fromToken: 0,
        perLayer: true
    },
    progress: null,
    sweep: null,
    selected: [],
    detectSource: "lastRun",
    detection: null,
    setForm: (patch) => set((state) => ({ form: { ...state.form, ...patch } })),
    setDetectSource: (detectSource) => set({ detectSource }),
    toggleToken: (index) => set((state) => {
        if (state.selected.includes(index))
            return { selected: state.selected.filter((entry) => entry !== index) };
        return { selected: [...state.selected, index].slice(-MAX_SELECTED) };
    })
}));

/** The evenly spaced α grid of the form, inclusive of both ends. */
export function alphaGrid(form: Pick<SweepForm, "alphaFrom" | "alphaTo" | "alphaCount">): number[] {
    const count = Math.max(1, Math.round(form.alphaCount));
    if (count === 1)
        return [form.alphaFrom];
    return Array.from({ length: count }, (_, i) => form.alphaFrom + ((form.alphaTo - form.alphaFrom) * i) / (count - 1));
}

/** The Run view's last run, when it has finished (a running one holds the engine); a run-store selector. */
export function selectLastRunId(run: { status: string; runId: string | null; tokenIds: readonly number[] }): string | null {
    return run.status === "idle" && run.runId != null && run.tokenIds.length > 0 ? run.runId : null;
}

export function lastRunId(): string | null {
    return selectLastRunId(useRunStore.getState());
}

function textParams(source: "typed" | "lastRun", form: SweepForm): { prompt?: string; completion?: string; runId?: string } | null {
    if (source === "typed")
        return { prompt: form.prompt, completion: form.completion };
    const runId = lastRunId();
    return runId != null ? { runId } : null;
}

const probeRequest = new TrackedRequest<ProbeProgress["kind"]>((progress) => useProbeStore.setState({ progress }));

export function sweepParams(form: SweepForm): EngineParams<"probes.sweep"> | null {
    const text = textParams(form.source, form);
    if (text == null || form.vectorId === "")
        return null;
    return {
        ...text,
        vectorId: form.vectorId,
        ...(form.layerFirst != null && form.layerLast != null ? { layers: { first: form.layerFirst, last: form.layerLast } } : {}),
        alphas: alphaGrid(form),
        alpha0: form.alpha0,
        fromToken: form.fromToken,
        perLayer: form.perLayer
    };
}

export async function runSweep(): Promise<void> {
    const { form, progress } = useProbeStore.getState();
    const params = sweepParams(form);
    if (progress != null || params == null)
        return;
    const sweep = await probeRequest.run("sweep", "probes.sweep", params, "The sweep failed");
    if (sweep == null)
        return;
    const strongest = sweep.tokens.map((token) => token.index).sort((a, b) => Math.abs(sweep.tokens[b]!.chi) - Math.abs(sweep.tokens[a]!.chi));
    useProbeStore.setState({ sweep, selected: strongest.slice(0, PRESELECTED).sort((a, b) => a - b) });
}

export async function runDetection(): Promise<void> {
    const { form, detectSource, progress } = useProbeStore.getState();
    const text = textParams(detectSource, form);
    if (progress != null || text == null)
        return;
    // a typed text claims the Run view's patches (the settings it says it was produced with)
    const params: EngineParams<"probes.detect"> = detectSource === "typed" ? { ...text, patches: patchSpecsOf(useRunStore.getState()) } : text;
    const detection = await probeRequest.run("detect", "probes.detect", params, "The detection failed");
    if (detection != null)
        useProbeStore.setState({ detection });
}

export function cancelProbe(): void {
    probeRequest.cancel();
}
