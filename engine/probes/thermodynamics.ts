// Temperature scans of one next-token distribution (DESIGN.md §4): the read-outs of
// engine/runtime/sampling/ThermoReadouts.ts (F, U relative to the top logit; S, C, s, ζ
// shift-free) over a grid of temperatures, from the same logits, and where C(T) peaks — the
// temperature at which the choice between the leading tokens is made. For two levels a gap Δ
// apart, C(T) = (Δ/T)² p(1 − p), which peaks where x·tanh(x/2) = 2 with x = Δ/T (T ≈ Δ/2.40).
import type { TemperatureScanInfo } from "../protocol/thermoRequests.js";
import { TillerError } from "../protocol/TillerError.js";
import { argmaxLogit } from "../runtime/sampling/argmaxLogit.js";
import { computeLogitGap, computeThermoReadout, type ThermoReadout } from "../runtime/sampling/ThermoReadouts.js";

/** One scan: the protocol's shape, returned as it is (one definition). */
export type TemperatureScan = TemperatureScanInfo;

/** S(T), F(T), U(T), C(T) over a grid (T > 0), from the same logits; the surprisal of `token` when given. */
export function temperatureScan(logits: Float32Array, temperatures: readonly number[], token?: number): TemperatureScan {
    if (temperatures.some((temperature) => !(temperature > 0) || !Number.isFinite(temperature)))
        throw new TillerError("INVALID_ARGUMENT", "every temperature of a scan must be a positive number");
    const readouts = temperatures.map((temperature) => computeThermoReadout(logits, temperature, token ?? argmaxLogit(logits)));
    return scanOfReadouts(temperatures, readouts, token != null, computeLogitGap(logits));
}

/** A scan from one read-out per grid temperature (however they were computed). */
export function scanOfReadouts(temperatures: readonly number[], readouts: readonly ThermoReadout[], withSurprisal: boolean, logitGap: number | null): TemperatureScan {
    const heatCapacity = readouts.map((readout) => readout.heatCapacity);
    return {
        temperatures: [...temperatures],
        freeEnergy: readouts.map((readout) => readout.freeEnergy),
        meanEnergy: readouts.map((readout) => readout.meanEnergy),
        entropy: readouts.map((readout) => readout.entropy),
        heatCapacity,
        ...(withSurprisal ? { surprisal: readouts.map((readout) => readout.surprisal ?? Infinity) } : {}),
        heatCapacityPeak: gridPeak(temperatures, heatCapacity),
        logitGap
    };
}

/**
 * The maximum of y over an increasing grid x, refined by the vertex of the parabola through it
 * and its two neighbours; null when the maximum sits on an edge of the grid (no peak inside it).
 */
export function gridPeak(x: readonly number[], y: readonly number[]): { temperature: number; heatCapacity: number } | null {
    const peak = gridMaximum(x, y);
    return peak == null ? null : { temperature: peak.x, heatCapacity: peak.y };
}

/** The interior maximum of y(x), refined parabolically; null when it is on the grid's edge or flat. */
export function gridMaximum(x: readonly number[], y: readonly number[]): { x: number; y: number } | null {
    let best = 0;
    for (let i = 1; i < y.length; i++)
        if (y[i]! > y[best]!)
            best = i;
    if (best === 0 || best === y.length - 1)
        return null;
    const [x0, x1, x2] = [x[best - 1]!, x[best]!, x[best + 1]!];
    const [y0, y1, y2] = [y[best - 1]!, y[best]!, y[best + 1]!];
    // vertex of the parabola through three points (uneven spacing allowed)
    const d = (x0 - x1) * (x0 - x2) * (x1 - x2);
    const a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / d;
    const b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / d;
    if (!(a < 0))
        return { x: x1, y: y1 };
    const vertex = Math.min(x2, Math.max(x0, -b / (2 * a)));
    const c = y0 - a * x0 * x0 - b * x0;
    return { x: vertex, y: a * vertex * vertex + b * vertex + c };
}

/** Parses a temperature grid "FROM:TO:COUNT" (inclusive; geometric spacing, since C(T) lives on a log scale), e.g. "0.05:5:40". */
export function parseTemperatureGrid(text: string): number[] {
    const match = /^\s*([\d.eE+-]+)\s*:\s*([\d.eE+-]+)\s*:\s*(\d+)\s*$/.exec(text);
    const from = Number(match?.[1]), to = Number(match?.[2]), count = Number(match?.[3]);
    if (match == null || !(from > 0) || !(to > from) || !Number.isFinite(to) || !Number.isInteger(count) || count < 2 || count > 2001)
        throw new TillerError("INVALID_ARGUMENT", `"${text}" is not a temperature grid; write FROM:TO:COUNT with 0 < FROM < TO, e.g. 0.05:5:40`);
    return Array.from({ length: count }, (_, i) => from * Math.pow(to / from, i / (count - 1)));
}
