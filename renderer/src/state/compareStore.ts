// Compare: the Run view's prompt, seed and sampling run twice — without patches, then with the
// current patches (one after the other: the engine runs one run at a time) — and the first token
// where the two differ.
import { create } from "zustand";
import type { RunStartParams, RunStopReason } from "../../../engine/protocol/EngineContract";
import { getEngineClient } from "../engineClient/getEngineClient";
import { reportError } from "./notificationStore";
import { runEventRouter, type RunEvent } from "./runEventRouter";
import { patchLabel as patchLabelOf, patchSpecsOf, useRunStore } from "./runStore";

export interface CompareToken {
    index: number;
    id: number;
    piece: string;
    logprob: number;
    steered: boolean;
}

export interface CompareSide {
    tokens: CompareToken[];
    promptTokens: { id: number; piece: string }[];
    stopReason: RunStopReason | null;
    tokensPerSecond: number;
}

type CompareStatus = "idle" | "baseline" | "steered";

interface CompareState {
    status: CompareStatus;
    maxTokens: number;
    baseline: CompareSide;
    steered: CompareSide;
    /** the first index where the two runs emitted different tokens; null while they agree */
    divergence: number | null;
    /** a summary of the patches the steered side ran with */
    patchSummary: string[];
    setMaxTokens(maxTokens: number): void;
}

const emptySide = (): CompareSide => ({ tokens: [], promptTokens: [], stopReason: null, tokensPerSecond: 0 });

export const useCompareStore = create<CompareState>()((set) => ({
    status: "idle",
    maxTokens: 96,
    baseline: emptySide(),
    steered: emptySide(),
    divergence: null,
    patchSummary: [],
    setMaxTokens: (maxTokens) => set({ maxTokens })
}));

let currentRunId: string | null = null;
let cancelled = false;
let finishCurrent: ((ok: boolean) => void) | null = null;

function firstDivergence(a: readonly CompareToken[], b: readonly CompareToken[]): number | null {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
        if (a[i]!.id !== b[i]!.id)
            return i;
    }
    return null;
}

/** Runs one side to its end, streaming its tokens into the store. */
async function runSide(side: "baseline" | "steered", params: RunStartParams): Promise<boolean> {
    let finish: (ok: boolean) => void = () => undefined;
    const ended = new Promise<boolean>((resolve) => {
        finish = resolve;
    });
    finishCurrent = finish;
    const apply = (events: RunEvent[]): void => {
        const state = useCompareStore.getState();
        const current = state[side];
        const tokens = [...current.tokens];
        let stopReason = current.stopReason;
        let tokensPerSecond = current.tokensPerSecond;
        let done = false;
        for (const event of events) {
            if (event.type === "token") {
                const t = event.data.token;
                tokens.push({ index: t.index, id: t.id, piece: t.piece, logprob: t.logprob, steered: t.activePatches.length > 0 });
            } else if (event.type === "end") {
                stopReason = event.data.stopReason;
                tokensPerSecond = event.data.tokensPerSecond;
                done = true;
                if (event.data.error != null && event.data.error.code !== "ABORTED")
                    reportError(event.data.error, "The comparison run failed");
            }
        }
        const next = { ...current, tokens, stopReason, tokensPerSecond };
        const baseline = side === "baseline" ? next : state.baseline;
        const steered = side === "steered" ? next : state.steered;
        useCompareStore.setState({ [side]: next, divergence: firstDivergence(baseline.tokens, steered.tokens) });
        if (done) {
            if (currentRunId != null)
                runEventRouter.release(currentRunId);
            currentRunId = null;
            finish(stopReason !== "aborted");
        }
    };
    runEventRouter.beginStart();
    try {
        const { runId, promptTokens } = await getEngineClient().request("run.start", params);
        currentRunId = runId;
        useCompareStore.setState((state) => ({ [side]: { ...state[side], promptTokens } }));
        runEventRouter.claim(runId, apply);
        if (cancelled)
            void getEngineClient().request("run.stop", { runId }).catch(() => undefined);
    } catch (error) {
        reportError(error, "Could not start the comparison run");
        return false;
    } finally {
        runEventRouter.endStart();
    }
    return ended;
}

export async function runCompare(): Promise<void> {
    if (useCompareStore.getState().status !== "idle" || useRunStore.getState().status !== "idle")
        return;
    const run = useRunStore.getState();
    const patches = patchSpecsOf(run);
    const base: RunStartParams = {
        prompt: run.prompt, promptMode: run.promptMode, maxTokens: useCompareStore.getState().maxTokens,
        sampling: { ...run.sampling }, topAlternatives: 0
    };
    cancelled = false;
    useCompareStore.setState({
        status: "baseline", baseline: emptySide(), steered: emptySide(), divergence: null,
        patchSummary: run.patchIds.filter((id) => patches.some((p) => p.id === id)).map((id) => patchLabelFor(id))
    });
    try {
        if (!await runSide("baseline", { ...base, patches: [] }) || cancelled)
            return;
        useCompareStore.setState({ status: "steered" });
        await runSide("steered", { ...base, patches });
    } finally {
        useCompareStore.setState({ status: "idle" });
    }
}

function patchLabelFor(id: string): string {
    const patch = useRunStore.getState().patchById[id];
    return patch == null ? id : patchLabelOf(patch);
}

export function stopCompare(): void {
    if (useCompareStore.getState().status === "idle")
        return;
    cancelled = true;
    if (currentRunId != null)
        void getEngineClient().request("run.stop", { runId: currentRunId }).catch(() => undefined);
}

/** The transport dropped: the engine forgot the run. */
export function abandonCompare(): void {
    if (useCompareStore.getState().status === "idle")
        return;
    cancelled = true;
    if (currentRunId != null)
        runEventRouter.release(currentRunId);
    currentRunId = null;
    finishCurrent?.(false);
}
