// Thermodynamic read-outs against closed forms: uniform logits (S = ln V, C = 0), a two-level
// system (C(T) = (Δ/T)² p(1 − p), peaking where x·tanh(x/2) = 2 with x = Δ/T), the gauge (a shift
// of every logit moves nothing but F and U, which are reported relative to the top logit anyway),
// and the stencil derivative's exactness and error estimate.
import { describe, expect, it } from "vitest";
import { stencilDerivative, STENCIL_OFFSETS, type StencilValues } from "../../engine/probes/stencilDerivative.js";
import { gridMaximum, parseTemperatureGrid, temperatureScan } from "../../engine/probes/thermodynamics.js";
import { computeThermoReadout } from "../../engine/runtime/sampling/ThermoReadouts.js";

const thermoReadout = (logits: Float32Array, temperature: number, token: number) => computeThermoReadout(logits, temperature, token);

describe("thermodynamic read-outs", () => {
    it("uniform logits: S = ln V at every T, C = 0, F = −T ln V, ζ undefined", () => {
        for (const vocab of [2, 7, 32000]) {
            const logits = new Float32Array(vocab).fill(3.25);
            for (const temperature of [0.1, 1, 4]) {
                const readout = thermoReadout(logits, temperature, 1);
                expect(readout.entropy).toBeCloseTo(Math.log(vocab), 10);
                expect(readout.heatCapacity).toBe(0);
                expect(readout.freeEnergy).toBeCloseTo(-temperature * Math.log(vocab), 10);
                expect(Math.abs(readout.meanEnergy)).toBe(0);
                expect(readout.surprisal).toBeCloseTo(Math.log(vocab), 10);
                expect(readout.zeta).toBeNull();
            }
        }
    });

    it("a two-level system: C(T) = (Δ/T)² p(1 − p), peaking at T = Δ/x* with x*·tanh(x*/2) = 2", () => {
        const delta = 1.7;
        // masked tokens (−∞) do not count as levels
        const logits = Float32Array.from([0.5, 0.5 - delta, -Infinity, -Infinity]);
        for (const temperature of [0.2, 0.5, 1, 3]) {
            const p = 1 / (1 + Math.exp(-delta / temperature));
            const readout = thermoReadout(logits, temperature, 1);
            expect(readout.heatCapacity).toBeCloseTo((delta / temperature) ** 2 * p * (1 - p), 6);
            expect(readout.entropy).toBeCloseTo(-(p * Math.log(p) + (1 - p) * Math.log(1 - p)), 6);
            expect(readout.surprisal).toBeCloseTo(-Math.log(1 - p), 5);
            // ζ of the unlikely level: (s − S)/√C
            expect(readout.zeta).toBeCloseTo((readout.surprisal! - readout.entropy) / Math.sqrt(readout.heatCapacity), 10);
        }
        let x = 2.4; // Newton on x·tanh(x/2) − 2
        for (let i = 0; i < 50; i++) {
            const f = x * Math.tanh(x / 2) - 2, df = Math.tanh(x / 2) + x / (2 * Math.cosh(x / 2) ** 2);
            x -= f / df;
        }
        const scan = temperatureScan(logits, parseTemperatureGrid("0.05:5:200"));
        expect(scan.heatCapacityPeak).not.toBeNull();
        expect(scan.heatCapacityPeak!.temperature).toBeCloseTo(delta / x, 2);
        expect(scan.heatCapacityPeak!.heatCapacity).toBeCloseTo(x * x * Math.exp(-x) / (1 + Math.exp(-x)) ** 2, 4);
        expect(scan.logitGap).toBeCloseTo(delta, 5);
    });

    it("is gauge-free: shifting every logit leaves S, C, s, ζ and the top-relative F, U unchanged", () => {
        const logits = Float32Array.from([1, -0.5, 2.25, 0.125, -3]);
        const shifted = logits.map((value) => value + 40);
        for (const temperature of [0.3, 1, 2.5]) {
            const [a, b] = [thermoReadout(logits, temperature, 3), thermoReadout(shifted, temperature, 3)];
            for (const key of ["entropy", "heatCapacity", "surprisal", "zeta", "freeEnergy", "meanEnergy"] as const)
                expect(b[key]).toBeCloseTo(a[key] as number, 9);
            // S = (U − F)/T and the probabilities sum to one: Σ exp(−s_i) = 1
            expect(a.entropy).toBeCloseTo((a.meanEnergy - a.freeEnergy) / temperature, 12);
            const total = Array.from(logits, (_, i) => Math.exp(-thermoReadout(logits, temperature, i).surprisal!)).reduce((x, y) => x + y, 0);
            expect(total).toBeCloseTo(1, 12);
        }
    });

    it("refuses bad temperatures and bad grids", () => {
        expect(() => temperatureScan(Float32Array.from([1, 2]), [0, 1])).toThrow(/positive/);
        expect(() => parseTemperatureGrid("0:1:10")).toThrow(/FROM:TO:COUNT/);
        expect(parseTemperatureGrid("0.1:10:3")).toEqual([0.1, expect.closeTo(1, 12), expect.closeTo(10, 12)]);
        expect(gridMaximum([0, 1, 2], [3, 2, 1])).toBeNull();
    });
});

describe("the seven-point stencil derivative", () => {
    const sample = (f: (x: number) => number, x0: number, h: number) => STENCIL_OFFSETS.map((k) => f(x0 + k * h)) as unknown as StencilValues;

    it("is exact on polynomials up to degree 6, with a zero error estimate up to degree 4", () => {
        const poly = (x: number) => 0.3 - 1.2 * x + 0.7 * x ** 2 - 0.25 * x ** 3 + 0.05 * x ** 4;
        const d = stencilDerivative(sample(poly, 0.4, 0.1), 0.1);
        expect(d.slope).toBeCloseTo(-1.2 + 1.4 * 0.4 - 0.75 * 0.16 + 0.2 * 0.064, 10);
        expect(d.curvature).toBeCloseTo(1.4 - 1.5 * 0.4 + 0.6 * 0.16, 8);
        expect(d.slopeError).toBeLessThan(1e-9);
    });

    it("reports noise it cannot remove: a staircase of tiny steps has a large error, a smooth curve a small one", () => {
        const smooth = (x: number) => Math.sin(1.3 * x);
        const d = stencilDerivative(sample(smooth, 0.2, 0.05), 0.05);
        expect(Math.abs(d.slope - 1.3 * Math.cos(1.3 * 0.2))).toBeLessThan(1e-8);
        expect(d.slopeError).toBeLessThan(1e-5);
        // the same curve rounded to a grid of 1e-3 (as quantized activations would), with too small a step
        const stairs = (x: number) => Math.round(smooth(x) / 1e-3) * 1e-3;
        const tiny = stencilDerivative(sample(stairs, 0.2, 2e-4), 2e-4);
        expect(Math.abs(tiny.slope - 1.3 * Math.cos(1.3 * 0.2))).toBeLessThan(4 * tiny.slopeError);
        expect(tiny.slopeError).toBeGreaterThan(0.1);
        const wide = stencilDerivative(sample(stairs, 0.2, 0.05), 0.05);
        expect(Math.abs(wide.slope - 1.3 * Math.cos(1.3 * 0.2))).toBeLessThan(4 * wide.slopeError + 1e-3);
        expect(wide.slopeError).toBeLessThan(0.02);
    });
});
