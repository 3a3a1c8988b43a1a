// Run events arrive at the token rate (hundreds a second on small models). They are queued here and
// delivered in an animation frame, grouped by run, to whoever claimed that run (the Run view's
// store, the Compare store), so each store commits at most once per frame and React renders at most
// once per frame; while they stream faster than that, at most every MIN_DELIVERY_INTERVAL_MS. Events
// of a run nobody claimed yet are kept while a `run.start` is in flight (the first tokens may
// overtake the start's response), otherwise dropped.
import type { EngineEvents } from "../../../engine/protocol/EngineContract";
import { deliverInFrame, noteTokenReceived } from "./tokenLatency";

export type RunEvent =
    | { type: "token"; data: EngineEvents["run.token"]; receivedAt: number }
    | { type: "patchChange"; data: EngineEvents["run.patchChange"] }
    | { type: "trigger"; data: EngineEvents["run.trigger"] }
    | { type: "end"; data: EngineEvents["run.end"] };

export type RunEventSink = (events: RunEvent[]) => void;

/** when frames do not come (a hidden tab), deliver anyway after this many ms */
const FALLBACK_MS = 100;
const UNCLAIMED_LIMIT = 10_000;
/**
 * While tokens stream faster than the display refreshes, deliver at most this often (every second
 * frame at 60 Hz): each delivery costs a whole frame of rendering (React, layout, paint, and on a
 * software compositor raster and composite) whatever the number of tokens it brings, and on a busy
 * machine that work delayed the frames themselves. A token after a quiet spell still shows in the
 * next frame. Measured on the 4,096-token e2e run (README "The UI under load"), interleaved pairs:
 * p95 token → paint 85/217/80 ms every frame against 59/143/79 ms this way, longest frame gap
 * 119/276/128 against 69/129/107 ms, median + 5 ms.
 */
const MIN_DELIVERY_INTERVAL_MS = 30;

export class RunEventRouter {
    private queue: RunEvent[] = [];
    private readonly sinks = new Map<string, RunEventSink>();
    private unclaimed = new Map<string, RunEvent[]>();
    private startsInFlight = 0;
    /** the animation frame (its timestamp) of the last delivery */
    private deliveredAt = -Infinity;
    private frame: number | null = null;
    private timer: ReturnType<typeof setTimeout> | null = null;

    public push(event: RunEvent): void {
        if (event.type === "token")
            noteTokenReceived(event.data.token.index, event.data.emittedAt);
        this.queue.push(event);
        this.schedule();
    }

    /** Call before sending `run.start`; pair with `endStart()` once it settled (and the run is claimed). */
    public beginStart(): void {
        this.startsInFlight++;
    }

    public endStart(): void {
        this.startsInFlight = Math.max(0, this.startsInFlight - 1);
        if (this.startsInFlight === 0)
            this.unclaimed.clear();
    }

    /** Routes `runId`'s events to `sink` from now on, including those that arrived before the claim. */
    public claim(runId: string, sink: RunEventSink): void {
        this.sinks.set(runId, sink);
        const early = this.unclaimed.get(runId);
        if (early != null) {
            this.unclaimed.delete(runId);
            this.queue.unshift(...early);
            this.schedule();
        }
    }

    public release(runId: string): void {
        this.sinks.delete(runId);
    }

    /** Delivers what is queued now (used before acting on a run's state outside a frame). */
    public flush(): void {
        if (this.frame != null)
            cancelAnimationFrame(this.frame);
        if (this.timer != null)
            clearTimeout(this.timer);
        this.frame = null;
        this.timer = null;
        const events = this.queue;
        this.queue = [];
        const byRun = new Map<string, RunEvent[]>();
        for (const event of events) {
            const runId = event.data.runId;
            let list = byRun.get(runId);
            if (list == null) {
                list = [];
                byRun.set(runId, list);
            }
            list.push(event);
        }
        for (const [runId, list] of byRun) {
            const sink = this.sinks.get(runId);
            if (sink != null) {
                sink(list);
            } else if (this.startsInFlight > 0) {
                const kept = this.unclaimed.get(runId) ?? [];
                if (kept.length < UNCLAIMED_LIMIT)
                    kept.push(...list);
                this.unclaimed.set(runId, kept);
            }
        }
    }

    private schedule(): void {
        if (this.frame != null || this.timer != null)
            return;
        const onFrame = (frameTime: number): void => {
            if (frameTime - this.deliveredAt < MIN_DELIVERY_INTERVAL_MS) {
                this.frame = requestAnimationFrame(onFrame);
                return;
            }
            this.deliveredAt = frameTime;
            deliverInFrame(() => this.flush());
        };
        this.frame = requestAnimationFrame(onFrame);
        this.timer = setTimeout(() => this.flush(), FALLBACK_MS);
    }
}

export const runEventRouter = new RunEventRouter();
