// The native row analysis (engine/native/src/row_analysis.cc) against the reference implementation
// in engine/runtime/sampling (the test oracle): argmax, top alternatives, log-sum-exp, entropy,
// read-outs, and seeded sampling with the same ids for the same seed; ties, −∞, NaN and +∞ logits;
// vocabularies up to 262,144. Plus analytic cases of the read-outs.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import type { TillerNativeAddon } from "../../engine/native/AddonTypes.js";
import { analyzeLogits } from "../../engine/runtime/RowAnalysis.js";
import { argmaxLogit } from "../../engine/runtime/sampling/argmaxLogit.js";
import { InvalidLogitsError } from "../../engine/runtime/sampling/InvalidLogitsError.js";
import { resolveSamplingOptions, type SamplingOptions } from "../../engine/runtime/sampling/SamplingOptions.js";
import { SeededRandom } from "../../engine/runtime/sampling/SeededRandom.js";
import { computeLogitGap, computeThermoReadout } from "../../engine/runtime/sampling/ThermoReadouts.js";
import { TokenSampler } from "../../engine/runtime/sampling/TokenSampler.js";
import { computeTokenStatistics, logProbOf } from "../../engine/runtime/sampling/TokenStatistics.js";

// the analysis needs no llama.cpp functions, so the addon is used without binding it
const addon = createRequire(import.meta.url)("../../engine/native/build/Release/tiller_native.node") as TillerNativeAddon;

/** Random logits with ties and masked entries: values on a coarse grid so exact ties are common. */
function randomLogits(random: SeededRandom, n: number, { masked = 0.1, grid = 0.25, spread = 12 } = {}): Float32Array {
    const logits = new Float32Array(n);
    for (let i = 0; i < n; i++) {
        const u = random.next();
        logits[i] = u < masked ? -Infinity : Math.round(((random.next() - 0.5) * spread) / grid) * grid;
    }
    return logits;
}

const fastTolerance = 2e-5;

describe("native row analysis against the reference", () => {
    const cases: { n: number; masked: number; grid: number; spread: number }[] = [
        { n: 1, masked: 0, grid: 1, spread: 1 },
        { n: 2, masked: 0, grid: 1, spread: 0 },          // a tie of two
        { n: 7, masked: 0.5, grid: 1, spread: 4 },
        { n: 1000, masked: 0.1, grid: 0.25, spread: 12 },
        { n: 8192, masked: 0, grid: 1e-6, spread: 30 },
        { n: 32768, masked: 0.3, grid: 0.5, spread: 8 },
        { n: 262144, masked: 0.01, grid: 1e-4, spread: 40 }
    ];
    for (const { n, masked, grid, spread } of cases) {
        it(`matches on ${n} logits (${masked * 100}% masked)`, () => {
            const random = new SeededRandom(n);
            for (let trial = 0; trial < (n > 10000 ? 2 : 10); trial++) {
                const logits = randomLogits(random, n, { masked, grid, spread });
                if (logits.every((v) => v === -Infinity))
                    logits[0] = 0;
                const target = Math.floor(random.next() * n);
                for (const exact of [false, true]) {
                    const analysis = analyzeLogits(addon, logits, n, { topAlternatives: 5, temperature: 0.7, exact, targets: Int32Array.of(target) });
                    const reference = computeTokenStatistics(logits, 5);
                    const tolerance = exact ? 1e-9 : fastTolerance;
                    expect(analysis.greedy[0]).toBe(argmaxLogit(logits));
                    expect(Math.abs(analysis.logSumExp(0) - reference.logSumExp)).toBeLessThan(tolerance);
                    expect(Math.abs(analysis.entropy(0) - reference.entropy)).toBeLessThan(tolerance);
                    const expectedLogprob = logProbOf(logits, target, reference.logSumExp);
                    if (expectedLogprob === -Infinity)
                        expect(analysis.logprob(0)).toBe(-Infinity);
                    else
                        expect(Math.abs(analysis.logprob(0) - expectedLogprob)).toBeLessThan(tolerance);
                    // alternatives: the same ids in the same order (ties: lower id first)
                    const top = analysis.top(0);
                    expect(top.map((t) => t.id)).toEqual(reference.top.map((t) => t.id));
                    top.forEach((t, j) => expect(Math.abs(t.logprob - reference.top[j]!.logprob)).toBeLessThan(tolerance));
                    // read-outs at T = 1 and at the second temperature
                    const readouts = analysis.readouts(0);
                    expect(readouts.gap).toBe(computeLogitGap(logits));
                    for (const [got, temperature] of [[readouts.t1, 1], [readouts.sampler, 0.7]] as const) {
                        const want = computeThermoReadout(logits, temperature, target);
                        for (const key of ["freeEnergy", "meanEnergy", "entropy", "heatCapacity"] as const)
                            expect(Math.abs(got[key] - want[key]), `${key} at T=${temperature}`).toBeLessThan(tolerance * Math.max(1, Math.abs(want[key])));
                        if (want.surprisal == null)
                            expect(got.surprisal).toBeNull();
                        else
                            expect(Math.abs(got.surprisal! - want.surprisal)).toBeLessThan(tolerance * Math.max(1, want.surprisal));
                    }
                }
            }
        });
    }

    it("takes the greedy limit at temperature 0: uniform over the tied maxima", () => {
        const logits = Float32Array.from([1, 3, -Infinity, 3, 2]);
        const readouts = analyzeLogits(addon, logits, 5, { temperature: 0, targets: Int32Array.of(3) }).readouts(0);
        expect(readouts.sampler).toMatchObject({ temperature: 0, freeEnergy: 0, meanEnergy: 0, heatCapacity: 0, zeta: null });
        expect(readouts.sampler.entropy).toBeCloseTo(Math.log(2), 12);
        expect(readouts.sampler.surprisal).toBeCloseTo(Math.log(2), 12);
        expect(readouts.gap).toBe(0);
        expect(computeThermoReadout(logits, 0, 3)).toEqual(readouts.sampler);
        expect(analyzeLogits(addon, logits, 5, { temperature: 0, targets: Int32Array.of(4) }).readouts(0).sampler.surprisal).toBeNull();
    });

    it("analyses several rows in one call, each with its own target", () => {
        const random = new SeededRandom(5);
        const n = 4096;
        const rows = 6;
        const logits = new Float32Array(rows * n);
        for (let r = 0; r < rows; r++)
            logits.set(randomLogits(random, n), r * n);
        const targets = Int32Array.from({ length: rows }, (_, r) => (r * 577) % n);
        const analysis = analyzeLogits(addon, logits, n, { targets, exact: true });
        for (let r = 0; r < rows; r++) {
            const row = logits.subarray(r * n, (r + 1) * n);
            const reference = computeTokenStatistics(row, 0);
            expect(analysis.logprob(r)).toBeCloseTo(logProbOf(row, targets[r]!, reference.logSumExp), 9);
            expect(analysis.entropy(r)).toBeCloseTo(reference.entropy, 9);
        }
    });

    it("rejects NaN, +∞ and fully masked logits with the reference's messages", () => {
        for (const bad of [Float32Array.from([1, NaN, 2]), Float32Array.from([0, Infinity]), Float32Array.from([-Infinity, -Infinity])]) {
            let want = "";
            try {
                argmaxLogit(bad);
            } catch (error) {
                want = (error as Error).message;
            }
            expect(() => analyzeLogits(addon, bad, bad.length)).toThrow(InvalidLogitsError);
            expect(() => analyzeLogits(addon, bad, bad.length)).toThrow(want);
        }
        expect(() => analyzeLogits(addon, Float32Array.from([1, 2]), 2, { targets: Int32Array.of(2) })).toThrow(/outside the vocabulary/);
    });
});

// The AVX-512 kernel reads the row once, with per-lane running maxima whose sums are rescaled when
// a maximum rises; the AVX2 kernel does the same on 8 lanes; the scalar one is the plain loop. Rows built to
// stress the streaming: the maximum rising in every chunk (ascending), only at the very end, in a
// tail shorter than a vector, far-below-the-top logits (the exponential's clamp), rows wider than
// any vocabulary, and read-out temperatures below and above 1.
describe("every kernel against the reference (streaming sums, wide rows, T ≠ 1)", () => {
    const kernels = ["auto", "avx2", "scalar"] as const;
    const rows: { name: string; make: () => Float32Array }[] = [
        { name: "ascending 2^20 + 13 (the maximum rises in every chunk)", make: () => Float32Array.from({ length: (1 << 20) + 13 }, (_, i) => i * 2e-5) },
        { name: "descending 100,003", make: () => Float32Array.from({ length: 100003 }, (_, i) => -i * 1e-3) },
        { name: "the maximum alone in the tail", make: () => { const l = randomLogits(new SeededRandom(3), 70001, { masked: 0.3, spread: 10 }); l[70000] = 9; return l; } },
        { name: "all masked but the last two (a tie)", make: () => { const l = new Float32Array(5009).fill(-Infinity); l[5007] = 1; l[5008] = 1; return l; } },
        { name: "spread of 300 (most exponentials clamped)", make: () => randomLogits(new SeededRandom(4), 262147, { masked: 0.05, grid: 1e-3, spread: 300 }) },
        { name: "1,500,001 random logits, 20% masked", make: () => randomLogits(new SeededRandom(5), 1500001, { masked: 0.2, grid: 1e-4, spread: 40 }) }
    ];
    for (const { name, make } of rows) {
        it(name, () => {
            const logits = make();
            const n = logits.length;
            const target = Math.floor(n * 0.37);
            const reference = computeTokenStatistics(logits, 5);
            const greedy = argmaxLogit(logits);
            for (const temperature of [0.3, 1, 2.5, 0]) {
                const want = computeThermoReadout(logits, temperature, target);
                const wantT1 = computeThermoReadout(logits, 1, target);
                for (const kernel of kernels) {
                    const analysis = analyzeLogits(addon, logits, n, { topAlternatives: 5, temperature, kernel, targets: Int32Array.of(target) });
                    const where = `${kernel} at T=${temperature}`;
                    expect(analysis.greedy[0], where).toBe(greedy);
                    expect(analysis.top(0).map((t) => t.id), where).toEqual(reference.top.map((t) => t.id));
                    expect(Math.abs(analysis.logSumExp(0) - reference.logSumExp), where).toBeLessThan(fastTolerance * Math.max(1, Math.abs(reference.logSumExp)));
                    const readouts = analysis.readouts(0);
                    expect(readouts.gap, where).toBe(computeLogitGap(logits));
                    for (const [got, expected] of [[readouts.t1, wantT1], [readouts.sampler, want]] as const) {
                        for (const key of ["freeEnergy", "meanEnergy", "entropy", "heatCapacity"] as const)
                            expect(Math.abs(got[key] - expected[key]), `${key}, ${where}`).toBeLessThan(fastTolerance * Math.max(1, Math.abs(expected[key])));
                        if (expected.surprisal == null)
                            expect(got.surprisal, where).toBeNull();
                        else
                            expect(Math.abs(got.surprisal! - expected.surprisal), where).toBeLessThan(fastTolerance * Math.max(1, expected.surprisal));
                    }
                }
            }
        });
    }

    it("finds the first NaN or +∞ after a clean stretch, in every kernel", () => {
        const logits = Float32Array.from({ length: 40000 }, (_, i) => Math.sin(i));
        logits[33333] = NaN;
        logits[35000] = Infinity;
        for (const kernel of kernels)
            expect(() => analyzeLogits(addon, logits, logits.length, { kernel })).toThrow("logit of token 33333 is NaN");
    });

    it("refuses an unknown kernel", () => {
        expect(() => analyzeLogits(addon, Float32Array.from([1, 2]), 2, { kernel: "avx9" as "avx2" })).toThrow(/kernel must be/);
    });
});

describe("exact mode", () => {
    it("agrees with double-precision JavaScript to 1e-13 on every kernel (χ differentiates these over small steps)", () => {
        const random = new SeededRandom(21);
        for (const n of [7, 1000, 100003]) {
            // wide logits: exponentials from 1 down past the underflow, and masked ones
            const logits = Float32Array.from({ length: n }, () => random.next() < 0.05 ? -Infinity : 40 * (random.next() - 0.5));
            for (const temperature of [1, 0.7, 2.5]) {
                const max = Math.max(...logits.filter((v) => v > -Infinity));
                let z1 = 0, zt = 0, a1 = 0;
                for (const v of logits) {
                    if (v === -Infinity) continue;
                    z1 += Math.exp(v - max);
                    zt += Math.exp((v - max) / temperature);
                    a1 += Math.exp(v - max) * (v - max);
                }
                for (const kernel of ["auto", "avx2", "scalar"] as const) {
                    const analysis = analyzeLogits(addon, logits, n, { temperature, exact: true, kernel, targets: Int32Array.of(0) });
                    const { logZ1, logZT } = analysis.logPartitions(0);
                    expect(Math.abs(logZ1 - Math.log(z1))).toBeLessThan(1e-13);
                    expect(Math.abs(logZT - Math.log(zt))).toBeLessThan(1e-13);
                    // U = −⟨x⟩ at T = 1 (the mean energy relative to the top logit)
                    expect(Math.abs(analysis.readouts(0).t1.meanEnergy! + a1 / z1)).toBeLessThan(1e-12);
                }
            }
        }
    });
});

describe("native seeded sampling", () => {
    const configurations: Partial<SamplingOptions>[] = [
        { temperature: 0 },
        { temperature: 1, topK: 40, topP: 0.95, minP: 0.05 },
        { temperature: 0.7, topK: 0, topP: 1, minP: 0 },
        { temperature: 1.3, topK: 0, topP: 0.9, minP: 0 },
        { temperature: 0.5, topK: 100, topP: 0.5, minP: 0.01 },
        { temperature: 2, topK: 3, topP: 1, minP: 0.2 },
        { temperature: 1, topK: 1, topP: 1, minP: 0 },
        // no top-k with min-p: only logits near or above the min-p cut are exponentiated exactly
        { temperature: 0.8, topK: 0, topP: 0.95, minP: 0.05 },
        { temperature: 1.5, topK: 0, topP: 1, minP: 0.01 }
    ];
    for (const configuration of configurations) {
        it(`draws the same ids as TokenSampler for ${JSON.stringify(configuration)}`, () => {
            const options = resolveSamplingOptions({ ...configuration, seed: 1234 });
            const reference = new TokenSampler(options);
            const native = new TokenSampler(options);
            const random = new SeededRandom(99);
            const distinct = new Set<number>();
            for (let step = 0; step < 300; step++) {
                const n = step % 3 === 0 ? 50 : 3000;
                const logits = randomLogits(random, n, { masked: 0.2, grid: step % 2 === 0 ? 0.5 : 1e-5, spread: 6 });
                logits[step % n] = 4;
                const want = reference.sample(logits);
                const got = analyzeLogits(addon, logits, n, { sampler: native, statistics: step % 2 === 0 }).sampled[0];
                expect(got).toBe(want);
                distinct.add(want);
            }
            // sampling that never varies would not test the draws
            if (options.temperature > 0 && options.topK !== 1)
                expect(distinct.size).toBeGreaterThan(10);
        });
    }
});

describe("native seeded sampling at the min-p cut", () => {
    it("keeps and drops the same tokens as TokenSampler when many logits sit on the cut", () => {
        // the top logit 0, and many logits within ±1e-6 of T·ln(min_p): the exact test decides each
        for (const temperature of [0.7, 1, 1.3]) {
            const options = resolveSamplingOptions({ temperature, topK: 0, topP: 1, minP: 0.1, seed: 5 });
            const reference = new TokenSampler(options);
            const native = new TokenSampler(options);
            const random = new SeededRandom(3);
            const n = 20000;
            const cut = temperature * Math.log(0.1);
            const kept = new Set<number>();
            for (let step = 0; step < 200; step++) {
                const logits = new Float32Array(n).map(() => cut - 2 - 3 * random.next());
                for (let i = 1; i < 400; i++)
                    logits[i * 37] = Math.fround(cut + (random.next() - 0.5) * 2e-6);
                logits[step] = 0;
                const want = reference.sample(logits);
                expect(analyzeLogits(addon, logits, n, { sampler: native, statistics: false }).sampled[0]).toBe(want);
                kept.add(want);
            }
            // draws that land on the cut's tokens, not only on the top one
            expect(kept.size).toBeGreaterThan(50);
        }
    });
});

describe("read-outs: analytic cases", () => {
    it("uniform logits: S = ln V, C = 0, F = −T ln V, U = 0, ζ undefined", () => {
        for (const n of [1, 5, 262144]) {
            const readouts = analyzeLogits(addon, new Float32Array(n).fill(2.5), n, { temperature: 0.6 }).readouts(0);
            for (const readout of [readouts.t1, readouts.sampler]) {
                expect(readout.entropy).toBeCloseTo(Math.log(n), 5);
                expect(readout.entropyBits).toBeCloseTo(Math.log2(n), 5);
                expect(readout.effectiveChoices / n).toBeCloseTo(1, 5);
                expect(readout.heatCapacity).toBe(0);
                expect(readout.meanEnergy).toBe(0);
                expect(readout.freeEnergy).toBeCloseTo(-readout.temperature * Math.log(n), 5);
                expect(readout.surprisal).toBeCloseTo(Math.log(n), 5);
                expect(readout.zeta).toBeNull();
            }
        }
    });

    it("a two-level system: C(T) = (Δ/T)² p(1 − p), peaking where the formula says", () => {
        const delta = 3;
        const logits = Float32Array.from([delta, 0]);
        const temperatures = Array.from({ length: 60 }, (_, i) => 0.2 + i * 0.05);
        const curve = temperatures.map((temperature) => {
            const readout = analyzeLogits(addon, logits, 2, { temperature, exact: true, targets: Int32Array.of(1) }).readouts(0).sampler;
            const p = 1 / (1 + Math.exp(-delta / temperature)); // the upper level's probability
            expect(readout.heatCapacity).toBeCloseTo((delta / temperature) ** 2 * p * (1 - p), 10);
            expect(readout.surprisal).toBeCloseTo(Math.log1p(Math.exp(delta / temperature)), 9);
            expect(readout.zeta).toBeCloseTo((readout.surprisal! - readout.entropy) / Math.sqrt(readout.heatCapacity), 12);
            // the fast path agrees within float rounding
            const fast = analyzeLogits(addon, logits, 2, { temperature }).readouts(0).sampler;
            expect(Math.abs(fast.heatCapacity - readout.heatCapacity)).toBeLessThan(1e-5);
            return readout.heatCapacity;
        });
        // Schottky peak: d/dx[x² p(1−p)] = 0 at x = Δ/T ≈ 2.3994 (x·tanh(x/2) = 2)
        const peak = temperatures[curve.indexOf(Math.max(...curve))]!;
        expect(Math.abs(peak - delta / 2.3994)).toBeLessThan(0.05);
    });
});

describe("a temperature grid in one analysis", () => {
    // 0 (greedy limit), the row's own second temperature (0.7), 1, and temperatures summed in pairs
    // with an odd one left over (a pass with a single scale)
    const grid = [0, 0.05, 0.3, 0.7, 1, 1.6, 2.5, 10, 1e6];
    for (const [n, masked] of [[7, 0.3], [1000, 0.1], [131072, 0.02]] as const) {
        it(`gives the reference's read-outs at every grid temperature (${n} logits, ${masked * 100}% masked)`, () => {
            const random = new SeededRandom(n + 17);
            const logits = randomLogits(random, n, { masked, grid: 0.125, spread: 16 });
            logits[3] = 8;  // unmasked, and the target below
            const runs = [...(["auto", "avx2", "scalar"] as const).map((kernel) => ({ exact: false, kernel })), { exact: true, kernel: "auto" as const }];
            for (const { exact, kernel } of runs) {
                const target = exact ? 3 : n - 1;
                const analysis = analyzeLogits(addon, logits, n, { temperature: 0.7, exact, kernel, targets: Int32Array.of(target), temperatureGrid: grid });
                const readouts = analysis.gridReadouts(0);
                expect(readouts.map((r) => r.temperature)).toEqual(grid);
                const tolerance = exact ? 1e-9 : fastTolerance;
                for (const got of readouts) {
                    const want = computeThermoReadout(logits, got.temperature, target);
                    for (const key of ["freeEnergy", "meanEnergy", "entropy", "heatCapacity"] as const)
                        expect(Math.abs(got[key] - want[key]), `${key} at T=${got.temperature} (${kernel})`).toBeLessThan(tolerance * Math.max(1, Math.abs(want[key])));
                    if (want.surprisal == null)
                        expect(got.surprisal, `surprisal at T=${got.temperature}`).toBeNull();
                    else
                        expect(Math.abs(got.surprisal! - want.surprisal), `surprisal at T=${got.temperature}`).toBeLessThan(tolerance * Math.max(1, want.surprisal));
                }
            }
        });
    }

    it("refuses temperatures it cannot sum (negative, non-finite, < 1e-30, > 1e6), and a grid without statistics", () => {
        const logits = Float32Array.from([1, 2, 3]);
        expect(() => analyzeLogits(addon, logits, 3, { temperatureGrid: [1, -0.5] })).toThrow(/within \[1e-30, 1e6\]/);
        expect(() => analyzeLogits(addon, logits, 3, { temperatureGrid: [Number.NaN] })).toThrow(/within \[1e-30, 1e6\]/);
        // where a float 1/T overflows, and where a masked logit's exponential would no longer underflow
        expect(() => analyzeLogits(addon, logits, 3, { temperatureGrid: [1e-39] })).toThrow(/within \[1e-30, 1e6\]/);
        expect(() => analyzeLogits(addon, logits, 3, { temperatureGrid: [1e17] })).toThrow(/within \[1e-30, 1e6\]/);
        expect(() => analyzeLogits(addon, logits, 3, { temperature: 1e-39 })).toThrow(/within \[1e-30, 1e6\]/);
        // the native binding refuses what the TypeScript side would never send
        expect(() => addon.analyzeLogits(logits, 3, null, { topN: 0, temperature: 1, statistics: true, exact: false, temperatureGrid: [1, 2] as unknown as Float64Array }, null)).toThrow(/Float64Array/);
        expect(() => addon.analyzeLogits(logits, 3, null, { topN: 0, temperature: 1, statistics: true, exact: false, temperatureGrid: Float64Array.of(1e-39) }, null)).toThrow(/within \[1e-30, 1e6\]/);
        expect(() => analyzeLogits(addon, logits, 3, { temperatureGrid: [1], statistics: false })).toThrow(/needs statistics/);
    });
});
