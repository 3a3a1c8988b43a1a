// Runs against the engine: start (run.start with the Run view's settings), stop, the streamed
// events (claimed from runEventRouter, applied once a frame through the run store's actions), and
// patch edits made during a run, sent debounced as run.setPatches. The run store holds the state;
// this module holds the timers and talks to the engine.
import type { RunStartParams } from "../../../engine/protocol/EngineContract";
import { getEngineClient } from "../engineClient/getEngineClient";
import { reportError } from "./notificationStore";
import { runEventRouter, type RunEvent } from "./runEventRouter";
import { patchSpecsOf, probeSpecsOf, useRunStore } from "./runStore";

export async function generate(): Promise<void> {
    const state = useRunStore.getState();
    if (state.status !== "idle")
        return;
    const params: RunStartParams = {
        prompt: state.prompt,
        promptMode: state.promptMode,
        maxTokens: state.maxTokens,
        sampling: { ...state.sampling },
        patches: patchSpecsOf(state),
        probes: probeSpecsOf(state),
        topAlternatives: 10
    };
    state.beginRun();
    runEventRouter.beginStart();
    try {
        const { runId, promptTokens } = await getEngineClient().request("run.start", params);
        const keepRunning = useRunStore.getState().runAccepted(runId, promptTokens);
        runEventRouter.claim(runId, (events) => applyRunEvents(runId, events));
        if (!keepRunning)
            void getEngineClient().request("run.stop", { runId }).catch(() => undefined);
    } catch (error) {
        useRunStore.getState().runNotStarted();
        reportError(error, "Could not start the run");
    } finally {
        runEventRouter.endStart();
    }
}

export function stop(): void {
    const runId = useRunStore.getState().runId;
    // before the engine answered run.start, generate() stops the run as soon as it has its id
    if (useRunStore.getState().requestStop() === "running" && runId != null)
        getEngineClient().request("run.stop", { runId }).catch((error: unknown) => reportError(error, "Could not stop the run"));
}

/** The transport dropped: the engine forgot the run. */
export function abandonRun(): void {
    const { status, runId } = useRunStore.getState();
    if (status === "idle")
        return;
    if (runId != null)
        runEventRouter.release(runId);
    useRunStore.getState().runAbandoned();
}

function applyRunEvents(runId: string, events: RunEvent[]): void {
    const end = useRunStore.getState().applyRunEvents(events);
    if (end == null)
        return;
    runEventRouter.release(runId);
    if (end.error != null && end.error.code !== "ABORTED")
        reportError(end.error, "The run failed");
}

// ---- live patch edits -------------------------------------------------------------------------

const PATCH_DEBOUNCE_MS = 50;

/** Sends the patch set to the running run once edits pause for PATCH_DEBOUNCE_MS. */
class LivePatchSender {
    private timer: ReturnType<typeof setTimeout> | null = null;
    private unsubscribe: (() => void) | null = null;

    public start(): void {
        if (this.unsubscribe != null)
            return;
        this.unsubscribe = useRunStore.subscribe((state, previous) => {
            if (state.patchById === previous.patchById && state.patchIds === previous.patchIds)
                return;
            if (state.status !== "running" && state.status !== "starting")
                return;
            this.schedule();
        });
    }

    private schedule(): void {
        if (this.timer != null)
            clearTimeout(this.timer);
        this.timer = setTimeout(() => this.send(), PATCH_DEBOUNCE_MS);
    }

    private send(): void {
        this.timer = null;
        const state = useRunStore.getState();
        if (state.status === "starting") {
            this.schedule(); // no run id yet
            return;
        }
        if (state.status !== "running" || state.runId == null)
            return;
        const runId = state.runId;
        state.patchesSent();
        getEngineClient().request("run.setPatches", { runId, patches: patchSpecsOf(state) }).catch((error: unknown) => {
            const current = useRunStore.getState();
            if (current.runId === runId && current.status === "running")
                reportError(error, "Could not change the patches");
        });
    }
}

const livePatches = new LivePatchSender();

/** Patch edits during a run reach the engine from now on (called once at start-up). */
export function startLivePatchEdits(): void {
    livePatches.start();
}
