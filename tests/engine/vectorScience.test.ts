// Vector science through the engine's RPC (the real EngineRpcServer and EngineService on
// stories260K): a build reports its validation/test figures, paired accuracy, calibration and
// warnings; a σ-unit projection trigger runs and reports its crossing in σ; a derived vector has
// no calibration, so a σ trigger on it is refused with a clear error and the engine keeps serving.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineService } from "../../engine/service/EngineService.js";
import { InProcessRpcClient } from "../support/inProcessRpc.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

describe.skipIf(missing(sharedFiles.stories260K))("vector science over RPC on stories260K", () => {
    let dataDir: string;
    let client: InProcessRpcClient;

    beforeAll(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-vector-science-"));
        client = new InProcessRpcClient(new EngineService({ dataDir, threads: 1 }));
        await client.request("model.load", { path: sharedFiles.stories260K, gpuLayers: 0, contextSize: 512, threads: 1 });
    }, 120_000);
    afterAll(async () => {
        await client?.close();
        if (dataDir != null)
            fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("builds with validation and test figures, paired accuracy, calibration and warnings; a σ trigger fires in σ units; an uncalibrated one is refused", async () => {
        const pcaDiff = await client.request("vectors.build", { dataset: "sentiment", readAt: "mean", method: "pca-diff" });
        expect(pcaDiff.warnings?.some((warning) => /nearly orthogonal to the mean difference/.test(warning))).toBe(true);
        const built = await client.request("vectors.build", { dataset: "sentiment", readAt: "mean", method: "mean" });
        expect(built.warnings).toEqual([]);
        for (const entry of built.diagnostics) {
            expect(entry.validationAuroc).toBeGreaterThanOrEqual(0);
            expect(entry.heldOutAuroc).toBeGreaterThanOrEqual(0);
            expect(entry.pairedAccuracy).toBeGreaterThanOrEqual(0);
            expect(entry.calibration!.sigma).toBeGreaterThan(0);
        }
        const layer = built.bestLayer;
        const vectorId = built.vector.id;

        // a probe reads σ units; a trigger at −100σ ("below") cannot miss, one at +100σ cannot fire
        const runWith = async (threshold: number) => {
            const { runId } = await client.request("run.start", {
                prompt: "Once upon a time", maxTokens: 6, probes: [{ vectorId, layers: [layer] }],
                patches: [{ id: "p", vectorId, strength: 0.5, trigger: { kind: "projection", vectorId, layer, threshold, units: "sigma", when: "above", holdTokens: 2 } }]
            });
            const end = await client.waitForEvent("run.end", (data) => data.runId === runId);
            const tokens = client.events.filter((entry) => entry.event === "run.token" && (entry.data as { runId: string }).runId === runId)
                .map((entry) => (entry.data as { token: { projections: { sigma?: number; dot: number }[] } }).token);
            const triggers = client.events.filter((entry) => entry.event === "run.trigger" && (entry.data as { runId: string }).runId === runId)
                .map((entry) => entry.data as { kind: string; value?: number });
            return { end, tokens, triggers };
        };
        const always = await runWith(-100);
        expect(always.end.error).toBeUndefined();
        const sigma = always.tokens[0]!.projections[0]!.sigma!;
        const { midpoint, sigma: scale } = built.diagnostics.find((entry) => entry.layer === layer)!.calibration!;
        expect(sigma).toBeCloseTo((always.tokens[0]!.projections[0]!.dot - midpoint) / scale, 4);
        const engaged = always.triggers.find((event) => event.kind === "engaged")!;
        expect(Math.abs(engaged.value!)).toBeLessThan(100); // reported in σ, not raw
        // a hold of 2 released, and (the value staying above −100σ) it did not engage again
        expect(always.triggers.filter((event) => event.kind === "engaged")).toHaveLength(1);
        expect((await runWith(100)).triggers).toEqual([]);

        const negated = await client.request("vectors.combine", { terms: [{ id: vectorId, weight: -1 }], name: "negated" });
        const refused = await client.failure("run.start", {
            prompt: "Once upon a time", maxTokens: 3,
            patches: [{ id: "p", vectorId: negated.id, strength: 1, trigger: { kind: "projection", vectorId: negated.id, layer, threshold: 0, units: "sigma" } }]
        });
        expect(refused.code).toBe("INVALID_ARGUMENT");
        expect(refused.message).toMatch(/σ units needs the vector's calibration/);
        const { runId } = await client.request("run.start", { prompt: "Once upon a time", maxTokens: 2 });
        expect((await client.waitForEvent("run.end", (data) => data.runId === runId)).error).toBeUndefined();
    }, 180_000);
});
