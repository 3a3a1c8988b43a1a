// Susceptibility sweeps on stories260K: exact at α = 0, finite differences agree with a dense
// sweep, the expected sign on happy words, and the cost of one prefix + K suffix decodes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAlphaGrid, susceptibilitySweep } from "../../engine/probes/susceptibilitySweep.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { computeTokenStatistics, logProbOf } from "../../engine/runtime/sampling/TokenStatistics.js";
import { buildVectorFromDataset } from "../../engine/vectors/buildVectorFromDataset.js";
import { loadBuiltinDataset } from "../../engine/vectors/datasets/builtinDatasets.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const prompt = "One day, Tom went to the park with his mom.";
const completion = " He was very happy. He smiled and laughed and played with his friend.";

describe.skipIf(missing(sharedFiles.stories260K))("susceptibility sweeps on stories260K", () => {
    let model: TillerModel;
    let context: TillerContext;
    let happy: SteeringVector;

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 2048, batchSize: 512, sequences: 16, precise: true });
        happy = (await buildVectorFromDataset(context, loadBuiltinDataset("sentiment"), { readAt: "mean", seed: 3 })).vector;
    });
    afterAll(async () => {
        await model?.dispose();
    });

    it("parses α grids", () => {
        expect(parseAlphaGrid("-2:2:5")).toEqual([-2, -1, 0, 1, 2]);
        expect(() => parseAlphaGrid("-2:2")).toThrow(/FROM:TO:COUNT/);
    });

    it("at α = 0 the curves pass exactly through the unsteered log-probs", async () => {
        const zero: SteeringVector = { name: "zero", nEmbd: 64, directions: new Map([[2, new Float32Array(64)], [3, new Float32Array(64)]]) };
        for (const vector of [zero, happy]) {
            const sweep = await susceptibilitySweep(context, prompt, completion, { vector, layers: { first: 2, last: 3 }, alphas: [-1, 0, 1] });
            // the unsteered reference, decoded by hand with the same shapes (prefix, then suffix)
            const all = model.tokenize(prompt + completion);
            const shared = model.tokenize(prompt).length;
            await context.clearMemory();
            await context.evaluate(all.subarray(0, shared - 1), { startPosition: 0, seqId: 0, logits: "none" });
            await context.copySequence(0, 1, 0, shared - 1);
            await context.evaluate(all.subarray(shared - 1, all.length - 1), { startPosition: shared - 1, seqId: 1, logits: "all" });
            for (const [t, token] of sweep.tokens.entries()) {
                const logits = context.logits(t);
                expect(token.logprobs[1]).toBeCloseTo(logProbOf(logits, token.id, computeTokenStatistics(logits, 0).logSumExp), 12);
            }
            if (vector === zero) {
                for (const token of sweep.tokens) {
                    expect(token.logprobs[0]).toBe(token.logprobs[1]);
                    expect(token.chi).toBe(0);
                }
            }
        }
    });

    it("the finite-difference χ agrees with the slope of a dense sweep", async () => {
        const alphas = Array.from({ length: 21 }, (_, i) => -0.2 + 0.02 * i);
        const sweep = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 2, last: 3 }, alphas, alpha0: 0, step: 1e-2 });
        const meanAlpha = alphas.reduce((a, b) => a + b, 0) / alphas.length;
        for (const token of sweep.tokens) {
            // least-squares line through the dense curve
            const meanY = token.logprobs.reduce((a, b) => a + b, 0) / alphas.length;
            let num = 0, den = 0;
            for (let i = 0; i < alphas.length; i++) {
                num += (alphas[i]! - meanAlpha) * (token.logprobs[i]! - meanY);
                den += (alphas[i]! - meanAlpha) ** 2;
            }
            const slope = num / den;
            expect(Math.abs(token.chi - slope)).toBeLessThan(0.05 * Math.max(0.2, Math.abs(slope)));
        }
    });

    it("happy words respond positively to the happy direction more often than not", async () => {
        const sweep = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 2, last: 3 }, alphas: [-1, 0, 1], perLayer: true });
        // the tokens that carry the text's happy words (the 512-token vocabulary splits most words)
        const sentimentTokens = sweep.tokens.filter((token) => /happ|laugh|play|friend/.test(token.piece));
        expect(sentimentTokens.map((token) => token.piece)).toContain(" happy");
        const positive = sentimentTokens.filter((token) => token.chi > 0).length;
        expect(positive).toBeGreaterThan(sentimentTokens.length / 2);
        // the per-layer matrix: one column per block of the range
        for (const token of sweep.tokens)
            expect(token.chiPerLayer).toHaveLength(2);
        expect(sweep.vectorNorms[2]).toBeGreaterThan(0);
    });

    it("costs one prefix decode and one suffix decode per strength", async () => {
        const alphas = parseAlphaGrid("-2:2:9");
        const sweep = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 1, last: 4 }, alphas });
        expect(sweep.decodes.prefix).toBe(1);
        expect(sweep.decodes.suffix).toBe(alphas.length + 3); // the grid + α₀ and α₀ ± h
        expect(sweep.decodes.suffixTokens).toBe((alphas.length + 3) * sweep.tokens.length);
        expect(sweep.decodes.prefixTokens).toBe(model.tokenize(prompt).length - 1);
    });
});
