// Detection's likelihood with the native row normalisers (engine/forensics/nativeRowNormaliser.ts)
// against the JavaScript reference, at a small and a real vocabulary size, for every kind of
// claimed sampler: the log-likelihoods the hypothesis tests add up must not move.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { jsRowNormaliser, logSoftmaxInto, SamplerLikelihood, type ClaimedSampler } from "../../engine/forensics/claimedSampler.js";
import { nativeRowNormaliser } from "../../engine/forensics/nativeRowNormaliser.js";
import type { TillerNativeAddon } from "../../engine/native/AddonTypes.js";
import { SeededRandom } from "../../engine/runtime/sampling/SeededRandom.js";

const addon = createRequire(import.meta.url)("../../engine/native/build/Release/tiller_native.node") as TillerNativeAddon;

function peakedLogits(seed: number, n: number): Float32Array {
    const random = new SeededRandom(seed);
    const logits = Float32Array.from({ length: n }, () => 4 * (random.next() - 0.5));
    for (let j = 0; j < 20; j++)
        logits[Math.floor(random.next() * n)] = 6 + 3 * random.next();
    for (let j = 0; j < n / 50; j++)
        logits[Math.floor(random.next() * n)] = -Infinity;
    return logits;
}

describe("SamplerLikelihood with native normalisers", () => {
    const samplers: ClaimedSampler[] = [
        { temperature: 0, topK: 40, topP: 0.95, minP: 0.05 },
        { temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05 },
        { temperature: 1, topK: 0, topP: 1, minP: 0.1 },
        { temperature: 0.8, topK: 0, topP: 0.95, minP: 0.05 },
        { temperature: 1.3, topK: 5, topP: 1, minP: 0 },
        { temperature: 0.7, topK: 0, topP: 1, minP: 0 }
    ];
    for (const n of [300, 131072]) {
        it(`gives the reference's log q̃ for every sampler at ${n} tokens`, () => {
            const nativeNormaliser = nativeRowNormaliser(addon);
            for (const [s, sampler] of samplers.entries()) {
                const logits = peakedLogits(100 + s, n);
                const reference = new SamplerLikelihood(sampler, jsRowNormaliser).prepare(logits);
                const native = new SamplerLikelihood(sampler, nativeNormaliser).prepare(logits);
                const random = new SeededRandom(s);
                const ids = n <= 300 ? Array.from({ length: n }, (_, i) => i) : Array.from({ length: 3000 }, () => Math.floor(random.next() * n));
                // the tokens that carry the mass, too
                ids.push(...Array.from(logits.keys()).filter((i) => logits[i]! > 5));
                for (const id of ids) {
                    const want = reference.logProb(id);
                    if (want === -Infinity)
                        expect(native.logProb(id)).toBe(-Infinity);
                    else
                        expect(Math.abs(native.logProb(id) - want)).toBeLessThan(1e-5);
                }
            }
        });
    }

    it("a sampler that filters nothing gives log softmax(z/T) itself, at 131072 tokens", () => {
        // the shortcut (no kept set is collected) against the definition, not against itself
        const logits = peakedLogits(7, 131072);
        for (const temperature of [0.7, 1, 1.5]) {
            const want = logSoftmaxInto(logits, temperature, new Float64Array(logits.length));
            for (const normaliser of [jsRowNormaliser, nativeRowNormaliser(addon)]) {
                const likelihood = new SamplerLikelihood({ temperature, topK: 0, topP: 1, minP: 0 }, normaliser).prepare(logits);
                for (let id = 0; id < logits.length; id += 7) {
                    if (want[id] === -Infinity)
                        expect(likelihood.logProb(id)).toBe(-Infinity);
                    else
                        expect(Math.abs(likelihood.logProb(id) - want[id]!)).toBeLessThan(1e-5);
                }
            }
        }
    });

    it("top-k comes from the native pass and keeps the reference's set, ties to the lower id included", () => {
        // 20 clear leaders and a tie for the 21st place: the lower id must win, as in selectTopLogits
        const random = new SeededRandom(11);
        const logits = Float32Array.from({ length: 131072 }, () => 4 * (random.next() - 0.5));
        for (let j = 0; j < 20; j++)
            logits[1000 + 6000 * j] = 5 + j / 10;
        logits[70000] = 4;
        logits[500] = 4;
        const sampler: ClaimedSampler = { temperature: 0.9, topK: 21, topP: 1, minP: 0 };
        const native = nativeRowNormaliser(addon)(logits, sampler.temperature, sampler.topK);
        expect(native.topIds?.length).toBe(21);
        const reference = new SamplerLikelihood(sampler, jsRowNormaliser).prepare(logits);
        const fast = new SamplerLikelihood(sampler, nativeRowNormaliser(addon)).prepare(logits);
        const same = (id: number) => {
            const want = reference.logProb(id);
            if (want === -Infinity)
                expect(fast.logProb(id)).toBe(-Infinity);
            else
                expect(Math.abs(fast.logProb(id) - want)).toBeLessThan(1e-5);
        };
        native.topIds!.forEach(same);
        // the tie: 500 is in the set and 70000 is not, in both
        expect([...native.topIds!]).toContain(500);
        expect([...native.topIds!]).not.toContain(70000);
        for (let id = 0; id < logits.length; id += 13)
            same(id);
    });
});
