// The run event router's delivery cadence: events are delivered in an animation frame, at most
// every ~30 ms while they stream (every second frame at 60 Hz), and a token after a quiet spell
// shows in the very next frame. Frames are driven by hand with a stubbed requestAnimationFrame.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RunEventRouter, type RunEvent } from "../../renderer/src/state/runEventRouter.js";

let pending: FrameRequestCallback[] = [];
/** runs the callbacks requested before this frame, as a browser would, at frame time `time` */
function frame(time: number): void {
    const callbacks = pending;
    pending = [];
    for (const callback of callbacks)
        callback(time);
}

const token = (index: number): RunEvent => ({
    type: "token", receivedAt: 0,
    data: { runId: "r", emittedAt: 0, token: { index } } as unknown as Extract<RunEvent, { type: "token" }>["data"]
});

beforeEach(() => {
    pending = [];
    vi.useFakeTimers();
    vi.stubGlobal("window", {});
    vi.stubGlobal("requestAnimationFrame", (callback: FrameRequestCallback) => pending.push(callback));
    vi.stubGlobal("cancelAnimationFrame", () => { pending = []; });
});
afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
});

describe("RunEventRouter", () => {
    it("delivers a stream every second 60 Hz frame, in order, and a token after a pause in the next frame", () => {
        const router = new RunEventRouter();
        const deliveries: { at: number; indices: number[] }[] = [];
        let now = 0;
        router.claim("r", (events) => deliveries.push({ at: now, indices: events.map((event) => (event.data as { token: { index: number } }).token.index) }));
        // a token every ~5.5 ms (three per 60 Hz frame) for 10 frames
        let index = 0;
        for (let f = 1; f <= 10; f++) {
            for (let k = 0; k < 3; k++)
                router.push(token(index++));
            now = f * 16.7;
            frame(now);
        }
        expect(deliveries.map((d) => d.at.toFixed(1))).toEqual(["16.7", "50.1", "83.5", "116.9", "150.3"]);
        expect(deliveries.flatMap((d) => d.indices)).toEqual([...Array(27).keys()]);
        // the rest arrives with the next delivery frame; after a quiet spell the next token shows at once
        now = 183.7;
        frame(now);
        now = 400;
        router.push(token(index));
        frame(now);
        expect(deliveries.at(-1)).toEqual({ at: 400, indices: [30] });
        expect(deliveries.flatMap((d) => d.indices)).toEqual([...Array(31).keys()]);
    });

    it("delivers without frames (a hidden tab) after its fallback delay", () => {
        const router = new RunEventRouter();
        const delivered: RunEvent[][] = [];
        router.claim("r", (events) => delivered.push(events));
        router.push(token(0));
        expect(delivered).toHaveLength(0);
        vi.advanceTimersByTime(100);
        expect(delivered).toHaveLength(1);
    });
});
