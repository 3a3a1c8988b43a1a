import { describe, it, expect } from "vitest";
import { InvalidLogitsError } from "../../engine/runtime/sampling/InvalidLogitsError.js";
import {
    SamplingOptionsError,
    defaultSamplingOptions,
    resolveSamplingOptions
} from "../../engine/runtime/sampling/SamplingOptions.js";
import type { SamplingOptions } from "../../engine/runtime/sampling/SamplingOptions.js";
import { SeededRandom } from "../../engine/runtime/sampling/SeededRandom.js";
import { TokenSampler } from "../../engine/runtime/sampling/TokenSampler.js";
import { computeTokenStatistics, logProbOf } from "../../engine/runtime/sampling/TokenStatistics.js";

const filtersOff = { topK: 0, topP: 1, minP: 0 } as const;

function sampler(options: Partial<SamplingOptions>): TokenSampler {
    return new TokenSampler(resolveSamplingOptions(options));
}

function softmax(logits: readonly number[], temperature = 1): number[] {
    const max = Math.max(...logits);
    const e = logits.map((x) => Math.exp((x - max) / temperature));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / sum);
}

/** Logits whose softmax is exactly proportional to `probs`. */
function logitsFor(probs: readonly number[]): Float32Array {
    return Float32Array.from(probs.map((p) => Math.log(p)));
}

function frequencies(s: TokenSampler, logits: Float32Array, draws: number): number[] {
    const counts = new Array<number>(logits.length).fill(0);
    for (let i = 0; i < draws; i++) {
        const id = s.sample(logits);
        counts[id] = (counts[id] ?? 0) + 1;
    }
    return counts.map((c) => c / draws);
}

/** Straightforward full-sort implementation of the documented chain, used as an oracle. */
function referenceDistribution(logits: Float32Array, o: SamplingOptions): Map<number, number> {
    let cands = Array.from(logits, (x, id) => ({ id, x })).filter((c) => c.x > -Infinity);
    cands.sort((a, b) => b.x - a.x || a.id - b.id);
    if (o.topK > 0) cands = cands.slice(0, o.topK);
    const max = cands[0]!.x;
    let ps = cands.map((c) => ({ id: c.id, p: Math.exp((c.x - max) / o.temperature) }));
    const sum = ps.reduce((a, c) => a + c.p, 0);
    ps = ps.map((c) => ({ id: c.id, p: c.p / sum }));
    if (o.topP < 1) {
        let cumulative = 0;
        let cut = ps.length;
        for (let i = 0; i < ps.length; i++) {
            cumulative += ps[i]!.p;
            if (cumulative >= o.topP) {
                cut = i + 1;
                break;
            }
        }
        ps = ps.slice(0, cut);
    }
    const kept = ps.reduce((a, c) => a + c.p, 0);
    ps = ps.map((c) => ({ id: c.id, p: c.p / kept }));
    const pmax = ps[0]!.p;
    ps = ps.filter((c) => c.p > 0 && c.p >= o.minP * pmax);
    const total = ps.reduce((a, c) => a + c.p, 0);
    return new Map(ps.map((c) => [c.id, c.p / total]));
}

function randomLogits(random: SeededRandom, n: number, scale: number, quantum = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
        const x = (random.next() * 2 - 1) * scale;
        out[i] = quantum > 0 ? Math.round(x / quantum) * quantum : x;
    }
    return out;
}

describe("resolveSamplingOptions", () => {
    it("fills defaults", () => {
        expect(resolveSamplingOptions()).toEqual({
            temperature: 0,
            topK: 40,
            topP: 0.95,
            minP: 0.05,
            seed: 0xc0ffee
        });
        expect(resolveSamplingOptions({ temperature: 0.7 })).toEqual({ ...defaultSamplingOptions, temperature: 0.7 });
    });

    it("accepts boundary values", () => {
        expect(() => resolveSamplingOptions({ temperature: 0, topK: 0, topP: 1, minP: 0, seed: 0 })).not.toThrow();
        expect(() => resolveSamplingOptions({ seed: 0xffffffff, minP: 0.999 })).not.toThrow();
    });

    const invalid: [string, Partial<SamplingOptions>, keyof SamplingOptions][] = [
        ["NaN temperature", { temperature: NaN }, "temperature"],
        ["infinite temperature", { temperature: Infinity }, "temperature"],
        ["negative temperature", { temperature: -0.1 }, "temperature"],
        ["negative topK", { topK: -1 }, "topK"],
        ["fractional topK", { topK: 2.5 }, "topK"],
        ["topP 0", { topP: 0 }, "topP"],
        ["topP above 1", { topP: 1.01 }, "topP"],
        ["NaN topP", { topP: NaN }, "topP"],
        ["minP 1", { minP: 1 }, "minP"],
        ["negative minP", { minP: -0.01 }, "minP"],
        ["negative seed", { seed: -1 }, "seed"],
        ["seed above uint32", { seed: 2 ** 32 }, "seed"],
        ["fractional seed", { seed: 1.5 }, "seed"],
        ["non-number temperature", { temperature: "1" as unknown as number }, "temperature"]
    ];
    for (const [name, options, field] of invalid) {
        it(`rejects ${name}`, () => {
            let error: unknown;
            try {
                resolveSamplingOptions(options);
            } catch (e) {
                error = e;
            }
            expect(error).toBeInstanceOf(SamplingOptionsError);
            expect((error as SamplingOptionsError).field).toBe(field);
            expect((error as Error).message).toContain(`"${field}"`);
        });
    }

    it("is applied by the TokenSampler constructor too", () => {
        expect(() => new TokenSampler({ ...defaultSamplingOptions, topP: 0 })).toThrow(SamplingOptionsError);
    });
});

describe("SeededRandom", () => {
    it("is deterministic per seed and stays in [0, 1)", () => {
        const a = new SeededRandom(42);
        const b = new SeededRandom(42);
        const c = new SeededRandom(43);
        const sa = Array.from({ length: 1000 }, () => a.next());
        const sb = Array.from({ length: 1000 }, () => b.next());
        const sc = Array.from({ length: 1000 }, () => c.next());
        expect(sa).toEqual(sb);
        expect(sa).not.toEqual(sc);
        for (const x of sa) {
            expect(x).toBeGreaterThanOrEqual(0);
            expect(x).toBeLessThan(1);
        }
        const mean = sa.reduce((s, x) => s + x, 0) / sa.length;
        expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    });

    it("reset restarts the sequence", () => {
        const r = new SeededRandom(7);
        const first = [r.next(), r.next(), r.next()];
        r.reset(7);
        expect([r.next(), r.next(), r.next()]).toEqual(first);
    });
});

describe("TokenSampler greedy", () => {
    it("returns the argmax", () => {
        const s = sampler({ temperature: 0 });
        expect(s.sample(Float32Array.from([0.1, 3, -2, 2.9]))).toBe(1);
        expect(s.sample(Float32Array.from([-Infinity, -5, -Infinity]))).toBe(1);
    });

    it("breaks ties towards the lowest id", () => {
        const s = sampler({ temperature: 0 });
        expect(s.sample(Float32Array.from([1, 5, 2, 5, 5]))).toBe(1);
    });

    it("rejects unusable logits", () => {
        const s = sampler({ temperature: 0 });
        expect(() => s.sample(new Float32Array(0))).toThrow(InvalidLogitsError);
        expect(() => s.sample(Float32Array.from([1, NaN, 0]))).toThrow(InvalidLogitsError);
        expect(() => s.sample(Float32Array.from([1, Infinity]))).toThrow(InvalidLogitsError);
        expect(() => s.sample(Float32Array.from([-Infinity, -Infinity]))).toThrow(InvalidLogitsError);
        expect(() => sampler({ temperature: 1 }).sample(Float32Array.from([NaN, 1]))).toThrow(InvalidLogitsError);
    });
});

describe("TokenSampler stochastic", () => {
    const logits = Float32Array.from([2, 1, 0.5, 0, -1]);

    function draws(seed: number, n: number): number[] {
        const s = sampler({ temperature: 1, ...filtersOff, seed });
        return Array.from({ length: n }, () => s.sample(logits));
    }

    it("same seed gives the same sequence, a different seed a different one", () => {
        const a = draws(1234, 200);
        expect(draws(1234, 200)).toEqual(a);
        expect(draws(1235, 200)).not.toEqual(a);
    });

    it("reset replays the sequence, optionally from a new seed", () => {
        const s = sampler({ temperature: 1, ...filtersOff, seed: 99 });
        const first = Array.from({ length: 50 }, () => s.sample(logits));
        s.reset();
        expect(Array.from({ length: 50 }, () => s.sample(logits))).toEqual(first);
        s.reset(1234);
        expect(Array.from({ length: 200 }, () => s.sample(logits))).toEqual(draws(1234, 200));
        expect(() => s.reset(-1)).toThrow(SamplingOptionsError);
    });

    it("empirical frequencies match the softmax at temperature 1 with filters off", () => {
        const freq = frequencies(sampler({ temperature: 1, ...filtersOff, seed: 5 }), logits, 20_000);
        const expected = softmax(Array.from(logits));
        const maxDiff = Math.max(...freq.map((f, i) => Math.abs(f - expected[i]!)));
        expect(maxDiff).toBeLessThan(0.015);
    });

    it("temperature reshapes the distribution", () => {
        const freq = frequencies(sampler({ temperature: 0.5, ...filtersOff, seed: 6 }), logits, 20_000);
        const expected = softmax(Array.from(logits), 0.5);
        const maxDiff = Math.max(...freq.map((f, i) => Math.abs(f - expected[i]!)));
        expect(maxDiff).toBeLessThan(0.015);
    });

    it("never samples masked tokens", () => {
        const masked = Float32Array.from([0, -Infinity, 0, -Infinity]);
        const freq = frequencies(sampler({ temperature: 2, ...filtersOff, seed: 3 }), masked, 2000);
        expect(freq[1]).toBe(0);
        expect(freq[3]).toBe(0);
    });

    it("top-k = 1 equals greedy, including ties", () => {
        const random = new SeededRandom(11);
        const s = sampler({ temperature: 1.5, topK: 1, topP: 1, minP: 0 });
        const g = sampler({ temperature: 0 });
        for (let trial = 0; trial < 50; trial++) {
            const l = randomLogits(random, 300, 5, trial % 2 === 0 ? 1 : 0);
            expect(s.sample(l)).toBe(g.sample(l));
        }
    });

    it("top-k = 2 renormalises over the two best tokens", () => {
        const probs = [0.4, 0.3, 0.2, 0.1];
        const freq = frequencies(sampler({ temperature: 1, topK: 2, topP: 1, minP: 0, seed: 8 }), logitsFor(probs), 20_000);
        expect(freq[2]).toBe(0);
        expect(freq[3]).toBe(0);
        expect(Math.abs(freq[0]! - 4 / 7)).toBeLessThan(0.015);
    });

    it("a small top-p keeps only the top token", () => {
        const s = sampler({ temperature: 1, topK: 0, topP: 0.01, minP: 0, seed: 9 });
        const l = logitsFor([0.3, 0.25, 0.25, 0.2]);
        for (let i = 0; i < 200; i++) {
            expect(s.sample(l)).toBe(0);
        }
    });

    it("top-p keeps the smallest set reaching the mass", () => {
        const s = sampler({ temperature: 1, topK: 0, topP: 0.75, minP: 0, seed: 10 });
        const dist = s.candidateDistribution(logitsFor([0.3, 0.5, 0.05, 0.15]));
        expect(dist.map((c) => c.id)).toEqual([1, 0]);
        expect(dist[0]!.p).toBeCloseTo(0.5 / 0.8, 6);
    });

    it("min-p drops tokens below minP times the top probability", () => {
        const l = logitsFor([0.5, 0.3, 0.15, 0.05]);
        const s = sampler({ temperature: 1, topK: 0, topP: 1, minP: 0.2, seed: 12 });
        expect(s.candidateDistribution(l).map((c) => c.id)).toEqual([0, 1, 2]);
        const freq = frequencies(s, l, 20_000);
        expect(freq[3]).toBe(0);
        expect(Math.abs(freq[0]! - 0.5 / 0.95)).toBeLessThan(0.015);
        // A stricter threshold keeps only tokens with p >= 0.5 * 0.5.
        const strict = sampler({ temperature: 1, topK: 0, topP: 1, minP: 0.5 });
        expect(strict.candidateDistribution(l).map((c) => c.id)).toEqual([0, 1]);
    });

    it("matches a full-sort reference implementation of the chain", () => {
        const random = new SeededRandom(2024);
        const configs: Partial<SamplingOptions>[] = [
            { temperature: 1, topK: 0, topP: 0.9, minP: 0 },
            { temperature: 0.7, topK: 0, topP: 0.5, minP: 0 },
            { temperature: 1.3, topK: 40, topP: 0.95, minP: 0.05 },
            { temperature: 1, topK: 0, topP: 0.95, minP: 0.05 },
            { temperature: 2, topK: 100, topP: 0.8, minP: 0 },
            { temperature: 1, topK: 0, topP: 1, minP: 0.1 },
            { temperature: 3, topK: 5000, topP: 0.99, minP: 0.001 }
        ];
        for (const config of configs) {
            const options = resolveSamplingOptions(config);
            const s = new TokenSampler(options);
            for (let trial = 0; trial < 6; trial++) {
                // Odd trials quantise logits to create many exact ties.
                const l = randomLogits(random, 3000, 8, trial % 2 === 1 ? 0.5 : 0);
                if (trial === 2) {
                    for (let i = 0; i < l.length; i += 3) l[i] = -Infinity;
                }
                const expected = referenceDistribution(l, options);
                const actual = s.candidateDistribution(l);
                expect(actual.map((c) => c.id).sort((a, b) => a - b)).toEqual(
                    [...expected.keys()].sort((a, b) => a - b)
                );
                for (const { id, p } of actual) {
                    expect(p).toBeCloseTo(expected.get(id)!, 9);
                }
                const drawn = s.sample(l);
                expect(expected.has(drawn)).toBe(true);
            }
        }
    });

    it("handles a 32k vocabulary with every filter off but top-p", () => {
        const random = new SeededRandom(77);
        const l = randomLogits(random, 32_000, 4);
        const options = resolveSamplingOptions({ temperature: 1, topK: 0, topP: 0.95, minP: 0, seed: 1 });
        const s = new TokenSampler(options);
        const expected = referenceDistribution(l, options);
        expect(s.candidateDistribution(l).length).toBe(expected.size);
        for (let i = 0; i < 100; i++) {
            expect(expected.has(s.sample(l))).toBe(true);
        }
    });

    it("survives extreme logits and temperatures", () => {
        const l = Float32Array.from([1e4, -1e4, 9999, -Infinity]);
        const s = sampler({ temperature: 1, ...filtersOff });
        const dist = s.candidateDistribution(l);
        expect(dist[0]!.id).toBe(0);
        expect(dist[0]!.p).toBeCloseTo(1 / (1 + Math.exp(-1)), 9);
        expect(sampler({ temperature: 1e-300, ...filtersOff }).sample(l)).toBe(0);
        expect(sampler({ temperature: Number.MIN_VALUE, ...filtersOff }).sample(l)).toBe(0);
        const hot = sampler({ temperature: 1e300, ...filtersOff }).candidateDistribution(l);
        expect(hot.map((c) => c.id).sort()).toEqual([0, 1, 2]);
    });
});

describe("computeTokenStatistics", () => {
    it("entropy of uniform logits is ln(n)", () => {
        for (const n of [1, 2, 5, 32_000]) {
            const stats = computeTokenStatistics(new Float32Array(n).fill(3.5), 3);
            expect(stats.entropy).toBeCloseTo(Math.log(n), 9);
            expect(stats.logSumExp).toBeCloseTo(3.5 + Math.log(n), 9);
        }
    });

    it("matches a direct computation", () => {
        const raw = [2, 1, 0.5, 0, -1];
        const p = softmax(raw);
        const stats = computeTokenStatistics(Float32Array.from(raw), 5);
        const entropy = -p.reduce((s, x) => s + x * Math.log(x), 0);
        expect(stats.entropy).toBeCloseTo(entropy, 12);
        for (const { id, logprob } of stats.top) {
            expect(logprob).toBeCloseTo(Math.log(p[id]!), 12);
        }
    });

    it("lists the top tokens in descending order, lower id first on ties", () => {
        const l = Float32Array.from([0.5, 3, -1, 3, 2, 7, -Infinity, 2]);
        const stats = computeTokenStatistics(l, 5);
        expect(stats.top.map((t) => t.id)).toEqual([5, 1, 3, 4, 7]);
        for (let i = 1; i < stats.top.length; i++) {
            expect(stats.top[i]!.logprob).toBeLessThanOrEqual(stats.top[i - 1]!.logprob);
        }
        expect(computeTokenStatistics(l, 0).top).toEqual([]);
        // Masked tokens are never listed, so asking for everything returns the 7 unmasked ones.
        expect(computeTokenStatistics(l, 100).top).toHaveLength(7);
    });

    it("is stable for huge logits and -Infinity entries", () => {
        const l = Float32Array.from([1e4, 1e4, -Infinity, 1e4 - 1, -Infinity]);
        const stats = computeTokenStatistics(l, 3);
        const p = softmax([1e4, 1e4, 1e4 - 1]);
        const entropy = -p.reduce((s, x) => s + x * Math.log(x), 0);
        expect(Number.isFinite(stats.logSumExp)).toBe(true);
        expect(stats.entropy).toBeCloseTo(entropy, 9);
        expect(logProbOf(l, 0, stats.logSumExp)).toBeCloseTo(Math.log(p[0]!), 9);
        expect(logProbOf(l, 3, stats.logSumExp)).toBeCloseTo(Math.log(p[2]!), 9);
        expect(logProbOf(l, 2, stats.logSumExp)).toBe(-Infinity);
        expect(stats.top.map((t) => t.id)).toEqual([0, 1, 3]);

        const negative = Float32Array.from([-1e4, -1e4]);
        const negStats = computeTokenStatistics(negative, 1);
        expect(negStats.entropy).toBeCloseTo(Math.log(2), 12);
        expect(logProbOf(negative, 1, negStats.logSumExp)).toBeCloseTo(-Math.log(2), 9);
    });

    it("gives zero entropy for a single unmasked token", () => {
        const stats = computeTokenStatistics(Float32Array.from([-Infinity, 4, -Infinity]), 2);
        expect(stats.entropy).toBe(0);
        expect(stats.top).toEqual([{ id: 1, logprob: 0 }]);
    });

    it("validates its inputs", () => {
        expect(() => computeTokenStatistics(Float32Array.from([1, NaN]), 1)).toThrow(InvalidLogitsError);
        expect(() => computeTokenStatistics(Float32Array.from([-Infinity]), 1)).toThrow(InvalidLogitsError);
        expect(() => computeTokenStatistics(Float32Array.from([1]), -1)).toThrow(RangeError);
        expect(() => logProbOf(Float32Array.from([1]), 1, 0)).toThrow(RangeError);
    });
});
