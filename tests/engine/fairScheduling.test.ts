// `tiller serve` shares its engine fairly: while one client floods engine.info (reading every answer,
// so backpressure never slows it), another client's engine.info still answers quickly. The same
// measurement with the fair queue switched off (everything forwarded in arrival order, as before)
// shows what it prevents. Real engine child process (dist/), no model needed for engine.info.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { measureFloodLatency, quantileOf } from "../../bench/floodLatency.js";
import type { EngineProcessHost as EngineProcessHostClass } from "../../engine/service/transport/EngineProcessHost.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const hostModule = path.join(repoRoot, "dist", "engine", "service", "transport", "EngineProcessHost.js");

describe("fair scheduling across connections", () => {
    let dataDir: string;
    // the compiled host: it forks the compiled engine child (engineChildMain.js)
    let EngineProcessHost: typeof EngineProcessHostClass;

    beforeAll(async () => {
        if (!fs.existsSync(hostModule))
            throw new Error("dist/ is missing: run `npm run build:ts` before these tests");
        ({ EngineProcessHost } = await import(hostModule) as { EngineProcessHost: typeof EngineProcessHostClass });
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-fair-"));
    });
    afterAll(() => {
        if (dataDir != null)
            fs.rmSync(dataDir, { recursive: true, force: true });
    });

    const measure = async (fairness?: { perConnection: number; total: number; queuedPerConnection: number }) => {
        const host = await EngineProcessHost.start({ dataDir, threads: 1, fairness });
        try {
            return await measureFloodLatency(host, { backlog: 3000, samples: fairness == null ? 15 : 5 });
        } finally {
            await host.dispose();
        }
    };

    it("while client A keeps 3000 requests outstanding, client B's engine.info stays fast (and is far slower without the fair queue)", async () => {
        const fair = await measure();
        const fifo = await measure({ perConnection: Infinity, total: Infinity, queuedPerConnection: Infinity });
        const fairMedian = quantileOf(fair.latencies, 0.5);
        const fifoMedian = quantileOf(fifo.latencies, 0.5);
        // generous bound (a loaded 2-core machine measured ~20-50 ms); in arrival order B waits behind A's backlog
        expect(Math.max(...fair.latencies), fair.latencies.map((t) => t.toFixed(0)).join(" ")).toBeLessThan(400);
        expect(fifoMedian, `fair ${fairMedian.toFixed(1)} ms, arrival order ${fifoMedian.toFixed(1)} ms`).toBeGreaterThan(3 * fairMedian);
        // the flooder was served meanwhile, not starved
        expect(fair.floodAnswers).toBeGreaterThan(0);
    }, 120_000);
});
