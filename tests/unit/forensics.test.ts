// The pure parts of blind detection: the claimed sampler's likelihood (it must be the distribution
// TokenSampler really draws from), the on/off segmentation, and Monte-Carlo p-values.
import { describe, expect, it } from "vitest";
import { LIKELIHOOD_FLOOR, logSoftmaxInto, SamplerLikelihood } from "../../engine/forensics/claimedSampler.js";
import { empiricalPValue, normalTail } from "../../engine/forensics/empiricalPValue.js";
import { segmentationScore, segmentOnOff } from "../../engine/forensics/segmentOnOff.js";
import { SeededRandom } from "../../engine/runtime/sampling/SeededRandom.js";
import { TokenSampler } from "../../engine/runtime/sampling/TokenSampler.js";

function randomLogits(seed: number, n: number): Float32Array {
    const random = new SeededRandom(seed);
    return Float32Array.from({ length: n }, () => 6 * (random.next() - 0.5) + (random.next() < 0.05 ? 4 : 0));
}

describe("SamplerLikelihood", () => {
    it("is the sampler's own filtered distribution, floored with ε of the unfiltered softmax", () => {
        const settings = [
            { temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05 },
            { temperature: 1.3, topK: 0, topP: 0.9, minP: 0 },
            { temperature: 0.5, topK: 5, topP: 1, minP: 0 },
            { temperature: 1, topK: 0, topP: 1, minP: 0.2 },
            { temperature: 0.8, topK: 0, topP: 0.95, minP: 0.05 }
        ];
        for (const [i, sampler] of settings.entries()) {
            const logits = randomLogits(10 + i, 300);
            const kept = new Map(new TokenSampler({ ...sampler, seed: 1 }).candidateDistribution(logits).map(({ id, p }) => [id, p]));
            const raw = logSoftmaxInto(logits, sampler.temperature, new Float64Array(logits.length));
            const likelihood = new SamplerLikelihood(sampler).prepare(logits);
            let total = 0;
            for (let id = 0; id < logits.length; id++) {
                const expected = (1 - LIKELIHOOD_FLOOR) * (kept.get(id) ?? 0) + LIKELIHOOD_FLOOR * Math.exp(raw[id]!);
                expect(Math.exp(likelihood.logProb(id))).toBeCloseTo(expected, 9);
                total += Math.exp(likelihood.logProb(id));
            }
            expect(total).toBeCloseTo(1, 9);
        }
    });

    it("keeps exactly min-p's tokens when many logits sit on its cut (top-k off)", () => {
        const sampler = { temperature: 0.9, topK: 0, topP: 1, minP: 0.1 };
        const random = new SeededRandom(4);
        const cut = sampler.temperature * Math.log(sampler.minP);
        const logits = Float32Array.from({ length: 2000 }, (_, i) => i === 0 ? 0 : i % 7 === 0 ? Math.fround(cut + (random.next() - 0.5) * 2e-6) : cut - 1 - random.next());
        const kept = new Map(new TokenSampler({ ...sampler, seed: 1 }).candidateDistribution(logits).map(({ id, p }) => [id, p]));
        expect(kept.size).toBeGreaterThan(50);
        const raw = logSoftmaxInto(logits, sampler.temperature, new Float64Array(logits.length));
        const likelihood = new SamplerLikelihood(sampler).prepare(logits);
        for (let id = 0; id < logits.length; id++) {
            const expected = (1 - LIKELIHOOD_FLOOR) * (kept.get(id) ?? 0) + LIKELIHOOD_FLOOR * Math.exp(raw[id]!);
            expect(Math.exp(likelihood.logProb(id))).toBeCloseTo(expected, 9);
        }
    });

    it("scores greedy text as a soft argmax: the argmax near 1, others far below", () => {
        const logits = Float32Array.from([1, 3, 2.5, -1]);
        const likelihood = new SamplerLikelihood({ temperature: 0, topK: 40, topP: 0.95, minP: 0.05 }).prepare(logits);
        expect(likelihood.logProb(1)).toBeGreaterThan(-0.01);
        expect(likelihood.logProb(2)).toBeLessThan(-4);
        const total = [0, 1, 2, 3].reduce((sum, id) => sum + Math.exp(likelihood.logProb(id)), 0);
        expect(total).toBeCloseTo(1, 9);
    });
});

describe("segmentOnOff", () => {
    it("finds a change point and a conditional patch's intervals exactly", () => {
        const single = segmentOnOff([-1, -1, -1, 2, 3, 2, 4]);
        expect(single.intervals).toEqual([{ from: 3, until: 7 }]);
        expect(single.score).toBeCloseTo(11 - 3);
        const llr = [-1, -1, 5, 5, 5, -4, -4, -4, 5, 5];
        const two = segmentOnOff(llr);
        expect(two.intervals).toEqual([{ from: 2, until: 5 }, { from: 8, until: 10 }]);
        expect(two.score).toBeCloseTo(15 - 6 + 10 - 3);
        expect(segmentationScore(llr)).toBeCloseTo(two.score);
    });

    it("stays off when no stretch pays for its switches", () => {
        expect(segmentOnOff([1, -1, 2, -2, 1]).intervals).toEqual([]);
        expect(segmentationScore([1, -1, 2, -2, 1])).toBe(0);
    });
});

describe("empiricalPValue", () => {
    it("counts exceedances and never claims less than 1/(M+1) from counts alone", () => {
        const nullValues = Array.from({ length: 99 }, (_, i) => i);
        expect(empiricalPValue(50, nullValues)).toEqual({ pValue: 50 / 100, extrapolated: false });
        expect(empiricalPValue(-1, nullValues).pValue).toBe(1);
    });

    it("extrapolates a normal tail beyond the simulation", () => {
        const random = new SeededRandom(3);
        const nullValues = Array.from({ length: 400 }, () => Math.sqrt(-2 * Math.log(Math.max(1e-12, random.next()))) * Math.cos(2 * Math.PI * random.next()));
        const far = empiricalPValue(6, nullValues);
        expect(far.extrapolated).toBe(true);
        expect(far.pValue).toBeLessThan(1e-6);
        expect(normalTail(0)).toBeCloseTo(0.5, 6);
        expect(normalTail(1.6448536)).toBeCloseTo(0.05, 5);
    });
});
