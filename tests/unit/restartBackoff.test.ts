// The one restart policy of both engine supervisors (tiller serve, Electron main).
import { describe, expect, it } from "vitest";
import { CRASH_WINDOW_MS, MAX_RESTART_DELAY_MS, RestartBackoff } from "../../engine/protocol/restartBackoff.js";

describe("engine restart back-off", () => {
    it("doubles with each crash inside the window, up to the cap, and starts over after a quiet window", () => {
        const backoff = new RestartBackoff();
        const delays = Array.from({ length: 8 }, (_, index) => backoff.delayAfterCrash(1_000 + index));
        expect(delays).toEqual([200, 400, 800, 1600, 3200, 6400, MAX_RESTART_DELAY_MS, MAX_RESTART_DELAY_MS]);
        expect(backoff.delayAfterCrash(1_000 + CRASH_WINDOW_MS + 10)).toBe(200);
    });
});
