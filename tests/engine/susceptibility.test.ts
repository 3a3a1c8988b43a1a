// Susceptibility sweeps on stories260K: exact at α = 0, χ against a dense sweep and against the
// log-prob curves of runs the user can generate, the sum rule over layers, the
// fluctuation–dissipation identity, the expected sign on happy words, and the decode budget.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAlphaGrid, susceptibilitySweep, susceptibilitySweepTokens } from "../../engine/probes/susceptibilitySweep.js";
import { generate } from "../../engine/runtime/generate.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { computeTokenStatistics, logProbOf } from "../../engine/runtime/sampling/TokenStatistics.js";
import { buildVectorFromDataset } from "../../engine/vectors/buildVectorFromDataset.js";
import { loadBuiltinDataset } from "../../engine/vectors/datasets/builtinDatasets.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const prompt = "One day, Tom went to the park with his mom.";
const completion = " He was very happy. He smiled and laughed and played with his friend.";

/** least-squares slope of y over x */
function slope(x: readonly number[], y: readonly number[]): number {
    const mx = x.reduce((a, b) => a + b, 0) / x.length, my = y.reduce((a, b) => a + b, 0) / y.length;
    let num = 0, den = 0;
    for (let i = 0; i < x.length; i++) {
        num += (x[i]! - mx) * (y[i]! - my);
        den += (x[i]! - mx) ** 2;
    }
    return num / den;
}

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
}

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
        const all = model.tokenize(prompt + completion);
        const shared = model.tokenize(prompt).length;
        for (const vector of [zero, happy]) {
            const sweep = await susceptibilitySweep(context, prompt, completion, { vector, layers: { first: 2, last: 3 }, alphas: [-1, 0, 1] });
            // the unsteered reference, decoded by hand with the sweep's shape (from the prompt on: one batch)
            const suffix = all.subarray(0, all.length - 1);
            await context.clearMemory();
            await context.decodeBatch({
                tokens: suffix, positions: Int32Array.from(suffix, (_, i) => i), seqIds: new Int32Array(suffix.length).fill(1),
                wantLogits: Uint8Array.from(suffix, (_, i) => (i >= shared - 1 ? 1 : 0))
            });
            for (const [t, token] of sweep.tokens.entries()) {
                const logits = context.logits(shared - 1 + t);
                expect(token.logprobs[1]).toBeCloseTo(logProbOf(logits, token.id, computeTokenStatistics(logits, 0).logSumExp), 12);
            }
            if (vector === zero) {
                for (const token of sweep.tokens) {
                    expect(token.logprobs[0]).toBe(token.logprobs[1]);
                    expect(token.chi).toBe(0);
                    expect(token.chiError).toBe(0);
                }
            }
        }
    });

    it("χ agrees with the slope of a dense sweep within its error", async () => {
        const sweep0 = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 2, last: 3 }, alphas: [0] });
        const h = sweep0.step;
        const alphas = Array.from({ length: 21 }, (_, i) => (i - 10) * h / 40);
        const sweep = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 2, last: 3 }, alphas });
        for (const token of sweep.tokens) {
            const dense = slope(alphas, token.logprobs);
            expect(Math.abs(token.chi - dense)).toBeLessThan(4 * token.chiError + 0.01 * Math.max(0.2, Math.abs(dense)));
        }
        // the error bars are not vacuous: small next to χ on an F32 model
        expect(median(sweep.tokens.map((token) => token.chiError / Math.max(1e-3, Math.abs(token.chi))))).toBeLessThan(0.01);
    });

    it("χ is the slope of the log-prob curve of generated runs (from the prompt on, and from token k)", async () => {
        const layers = { first: 2, last: 3 };
        for (const fromToken of [0, 3]) {
            const alpha0 = 0.5;
            const reference = await generate(context, prompt, { maxTokens: 10, patches: [{ id: "v", vector: happy, strength: alpha0, layers, fromToken }] }).result;
            const ids = Int32Array.from(reference.tokens, (token) => token.id);
            const sweep = await susceptibilitySweepTokens(context, model.tokenize(prompt), ids, { vector: happy, layers, alphas: [alpha0], alpha0, fromToken });
            expect(sweep.tokens[0]!.index).toBe(fromToken);
            // the runs' own curve, sampled finely enough to keep the greedy text (independent of the sweep's step)
            const strengths = [-2, -1, 0, 1, 2].map((k) => alpha0 + k * 0.02);
            const curves: number[][] = [];
            for (const strength of strengths) {
                const run = await generate(context, prompt, { maxTokens: 10, patches: [{ id: "v", vector: happy, strength, layers, fromToken }] }).result;
                // small moves keep the greedy text, so these are the same tokens' log-probs
                expect(run.tokens.map((token) => token.id)).toEqual([...ids]);
                curves.push(run.tokens.map((token) => token.logprob));
            }
            for (const token of sweep.tokens) {
                const generated = slope(strengths, curves.map((curve) => curve[token.index]!));
                expect(Math.abs(token.chi - generated)).toBeLessThan(4 * token.chiError + 0.02 * Math.max(0.2, Math.abs(generated)));
            }
            // before the onset nothing responds
            for (let index = 0; index < fromToken; index++)
                expect(curves.every((curve) => curve[index] === curves[0]![index])).toBe(true);
        }
    });

    it("the per-layer χ_{t,l}, all blocks at α₀, sum to χ_t (the sum rule)", async () => {
        for (const alpha0 of [0, 1.5]) {
            const sweep = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 1, last: 4 }, alphas: [0], alpha0, perLayer: true });
            for (const token of sweep.tokens) {
                const sum = token.chiPerLayer!.reduce((a, b) => a + b, 0);
                const error = Math.sqrt(token.chiError ** 2 + token.chiPerLayerError!.reduce((a, b) => a + b * b, 0));
                expect(Math.abs(sum - token.chi)).toBeLessThan(4 * error + 1e-4);
            }
            expect(sweep.sumRule!.maxGapInErrors).toBeLessThan(4);
        }
        // the rule is not trivially met: the response at α₀ = 1.5 differs from the one at 0
        const a = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 1, last: 4 }, alphas: [0], alpha0: 0 });
        const b = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 1, last: 4 }, alphas: [0], alpha0: 1.5 });
        expect(a.tokens.some((token, t) => Math.abs(token.chi - b.tokens[t]!.chi) > 10 * (token.chiError + b.tokens[t]!.chiError))).toBe(true);
    });

    it("the fluctuation–dissipation identity Σ p κ = −Var_p(O) holds within its error", async () => {
        const sweep = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 2, last: 3 }, alphas: [0], alpha0: 0.5 });
        for (const token of sweep.tokens) {
            expect(token.fisher).toBeGreaterThan(0);
            expect(Math.abs(token.fdtGap!)).toBeLessThan(4 * token.fdtGapError! + 1e-3 * token.fisher!);
        }
        // and the check has teeth: the gap is small next to I_t itself
        expect(median(sweep.tokens.map((token) => Math.abs(token.fdtGap!) / token.fisher!))).toBeLessThan(0.02);
    });

    it("Λ(α) is the sum of the curves, maximised at α̂_ML", async () => {
        const alphas = parseAlphaGrid("-3:3:13");
        const sweep = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 2, last: 3 }, alphas, linearResponse: false });
        for (const [a, value] of sweep.pathFreeEnergy.entries())
            expect(value).toBeCloseTo(sweep.tokens.reduce((sum, token) => sum + token.logprobs[a]!, 0), 10);
        const best = sweep.pathFreeEnergy.indexOf(Math.max(...sweep.pathFreeEnergy));
        expect(Math.abs(sweep.alphaML.alpha - alphas[best]!)).toBeLessThanOrEqual(0.5);
        expect(sweep.alphaML.value).toBeGreaterThanOrEqual(sweep.pathFreeEnergy[best]! - 1e-9);
        expect(sweep.tokens[0]!.fisher).toBeNull();
    });

    it("happy words respond positively to the happy direction more often than not", async () => {
        const sweep = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 2, last: 3 }, alphas: [-1, 0, 1], perLayer: true });
        // the tokens that carry the text's happy words (the 512-token vocabulary splits most words)
        const sentimentTokens = sweep.tokens.filter((token) => /happ|laugh|play|friend/.test(token.piece));
        expect(sentimentTokens.map((token) => token.piece)).toContain(" happy");
        const positive = sentimentTokens.filter((token) => token.chi > 0).length;
        expect(positive).toBeGreaterThan(sentimentTokens.length / 2);
        for (const token of sweep.tokens)
            expect(token.chiPerLayer).toHaveLength(2);
        expect(sweep.vectorNorms[2]).toBeGreaterThan(0);
    });

    it("costs one prefix decode and one suffix decode per strength", async () => {
        const alphas = parseAlphaGrid("-2:2:9");
        const promptLength = model.tokenize(prompt).length;
        // from generated token 2: the prompt and tokens 0..1 (but the last) are decoded once
        const sweep = await susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 1, last: 4 }, alphas, fromToken: 2 });
        expect(sweep.decodes.prefix).toBe(1);
        expect(sweep.decodes.suffix).toBe(alphas.length + 7); // the grid + the stencil α₀ + k·h, k = −3..3
        expect(sweep.decodes.prefixTokens).toBe(promptLength + 1);
        expect(sweep.decodes.suffixTokens).toBe((alphas.length + 7) * sweep.tokens.length);
        expect(sweep.tokens[0]!.index).toBe(2);
        await expect(susceptibilitySweep(context, prompt, completion, { vector: happy, layers: { first: 1, last: 4 }, alphas, fromToken: 99 }))
            .rejects.toThrow(/fromToken/);
    });
});
