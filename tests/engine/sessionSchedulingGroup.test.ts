// The engine lowers its session's share of the CPU only when it leads that session: in the test
// runner's session (the user's terminal, in real use) the same write would slow everything started
// from it. The lowering itself, in a session of its own, is checked on `tiller serve`'s engine
// process (serveDecodePriority.test.ts).
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { lowerOwnSessionPriority, sessionIdOf } from "../../engine/runtime/sessionSchedulingGroup.js";

const groupNice = (): string | null => {
    try {
        return fs.readFileSync("/proc/self/autogroup", "utf8");
    } catch {
        return null;
    }
};

describe.skipIf(process.platform !== "linux")("lowerOwnSessionPriority", () => {
    it("leaves a session the process does not lead as it was, and says why", () => {
        expect(sessionIdOf("self")).not.toBe(process.pid); // vitest's worker is a child in the runner's session
        const before = groupNice();
        const result = lowerOwnSessionPriority(10);
        expect(result.lowered).toBe(false);
        expect(result).toMatchObject({ expected: true });
        expect(groupNice()).toBe(before);
    });
});
