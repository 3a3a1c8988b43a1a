// Explaining a known run on stories260K: a known patch is recovered (onset, layer, vector,
// strength) and a clean run is not flagged. Blind detection is tests/engine/forensics.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectPatch } from "../../engine/probes/detectPatch.js";
import { teacherForce } from "../../engine/probes/teacherForce.js";
import { generate } from "../../engine/runtime/generate.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { buildVectorFromDataset } from "../../engine/vectors/buildVectorFromDataset.js";
import { loadBuiltinDataset } from "../../engine/vectors/datasets/builtinDatasets.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { randomVector, sineVector } from "../support/sineVector.js";

describe.skipIf(missing(sharedFiles.stories260K))("patch detection on stories260K", () => {
    let model: TillerModel;
    let context: TillerContext;
    let library: SteeringVector[];

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 2048, batchSize: 512, sequences: 16, precise: true });
        const happy = (await buildVectorFromDataset(context, loadBuiltinDataset("sentiment"), { readAt: "mean" })).vector;
        library = [{ ...happy, name: "happy" }, sineVector("sine"), randomVector("random", 5, 64, 11)];
    });
    afterAll(async () => {
        await model?.dispose();
    });

    it("recovers onset, first layer, vector and strength of a known patch, black box and white box", async () => {
        const prompt = "Once upon a time";
        const patch = { id: "p", vector: library[0]!, strength: -1.7, layers: { first: 2, last: 4 }, fromToken: 6 };
        const run = await generate(context, prompt, { maxTokens: 20, patches: [patch] }).result;
        const promptTokens = model.tokenize(prompt);
        const tokens = Int32Array.from([...promptTokens, ...run.tokens.map((token) => token.id)]);
        const report = detectPatch(await teacherForce(context, tokens, promptTokens.length, [patch]),
            await teacherForce(context, tokens, promptTokens.length, []), library);
        expect(report.steered).toBe(true);
        expect(report.onsetToken).toBe(6);
        expect(report.firstLayer).toBe(2);
        expect(report.matches[0]!.name).toBe("happy");
        expect(report.matches[0]!.cosine).toBeLessThan(-0.999); // a negative strength points against the vector
        expect(Math.abs(report.matches[0]!.strength - -1.7)).toBeLessThan(0.017);
        // black box: nothing before the onset, something after
        expect(report.kl.slice(0, 6).every((value) => value < 1e-6)).toBe(true);
        expect(Math.max(...report.kl.slice(6))).toBeGreaterThan(1e-3);
    });

    it("does not flag a clean run", async () => {
        const prompt = "Lily had a red ball.";
        const run = await generate(context, prompt, { maxTokens: 20, sampling: { temperature: 0.8, seed: 5 } }).result;
        const promptTokens = model.tokenize(prompt);
        const tokens = Int32Array.from([...promptTokens, ...run.tokens.map((token) => token.id)]);
        const report = detectPatch(await teacherForce(context, tokens, promptTokens.length, []),
            await teacherForce(context, tokens, promptTokens.length, []), library);
        expect(report.steered).toBe(false);
        expect(report.onsetToken).toBeNull();
        expect(report.kl.every((value) => value === 0)).toBe(true);
    });
});
