// Thermodynamic read-outs of one next-token distribution (DESIGN.md §4), at any temperature T:
// energies E_i = −z_i, p_i ∝ exp(−E_i/T). Logits are defined up to a shift per position, so
// energies are measured from the top logit (e_i = z_max − z_i ≥ 0): F and U below are relative
// to it, while S, C, s and ζ do not depend on the shift at all.
//
//   F = −T log Σ exp(−e_i/T)      free energy (≤ 0)
//   U = ⟨e⟩                        mean energy (≥ 0)
//   S = (U − F)/T                  entropy, nats (bits = S/ln 2; e^S = effective choices)
//   C = Var_p(e)/T²                heat capacity (at T = 1 the varentropy)
//   s = (e_y − F)/T                surprisal of token y (= −log p_T(y))
//   ζ = (s − S)/√C                 standardised surprise (null when C = 0)
//
// The variance is taken around U in a second pass, so C = 0 exactly for a uniform distribution
// and stays accurate when the distribution is nearly certain. Masked logits (−∞) are skipped.
import { TillerError } from "../protocol/TillerError.js";

export interface ThermoReadout {
    temperature: number;
    freeEnergy: number;
    meanEnergy: number;
    entropy: number;
    heatCapacity: number;
    /** of the token asked about, if any */
    surprisal?: number;
    zeta?: number | null;
}

function topTwo(logits: Float32Array): { max: number; second: number } {
    let max = -Infinity, second = -Infinity;
    for (let i = 0; i < logits.length; i++) {
        const v = logits[i]!;
        if (Number.isNaN(v) || v === Infinity)
            throw new RangeError(`logit ${i} is ${v}`);
        if (v > max) {
            second = max;
            max = v;
        } else if (v > second) {
            second = v;
        }
    }
    if (max === -Infinity)
        throw new RangeError("every logit is masked");
    return { max, second };
}

/** The top-1 − top-2 logit gap (Infinity when only one token is possible). */
export function logitGap(logits: Float32Array): number {
    const { max, second } = topTwo(logits);
    return max - second;
}

/** Read-outs at one temperature (T > 0). */
export function thermoReadout(logits: Float32Array, temperature: number, token?: number): ThermoReadout {
    if (!(temperature > 0) || !Number.isFinite(temperature))
        throw new RangeError(`the temperature must be a positive number, got ${temperature}`);
    const { max } = topTwo(logits);
    let z = 0, weighted = 0;
    for (let i = 0; i < logits.length; i++) {
        const e = max - logits[i]!;
        if (e === Infinity)
            continue;
        const w = Math.exp(-e / temperature);
        z += w;
        weighted += w * e;
    }
    const meanEnergy = weighted / z;
    let variance = 0;
    for (let i = 0; i < logits.length; i++) {
        const e = max - logits[i]!;
        if (e === Infinity)
            continue;
        const d = e - meanEnergy;
        variance += Math.exp(-e / temperature) * d * d;
    }
    variance /= z;
    const freeEnergy = -temperature * Math.log(z);
    const entropy = Math.max(0, (meanEnergy - freeEnergy) / temperature);
    const heatCapacity = variance / (temperature * temperature);
    const readout: ThermoReadout = { temperature, freeEnergy, meanEnergy, entropy, heatCapacity };
    if (token != null) {
        if (!Number.isInteger(token) || token < 0 || token >= logits.length)
            throw new RangeError(`token ${token} is outside the vocabulary of ${logits.length}`);
        const surprisal = (max - logits[token]! - freeEnergy) / temperature;
        readout.surprisal = surprisal;
        readout.zeta = heatCapacity > 0 ? (surprisal - entropy) / Math.sqrt(heatCapacity) : null;
    }
    return readout;
}

export interface TemperatureScan {
    temperatures: number[];
    freeEnergy: number[];
    meanEnergy: number[];
    entropy: number[];
    heatCapacity: number[];
    /** of the token asked about, if any */
    surprisal?: number[];
    /** where C(T) peaks: the grid's maximum refined by a parabola through its neighbours (null on the grid's edge) */
    heatCapacityPeak: { temperature: number; heatCapacity: number } | null;
    /** top-1 − top-2 logit gap (temperature-free) */
    logitGap: number;
}

/** S(T), F(T), U(T), C(T) over a grid, from the same logits. */
export function temperatureScan(logits: Float32Array, temperatures: readonly number[], token?: number): TemperatureScan {
    const readouts = temperatures.map((temperature) => thermoReadout(logits, temperature, token));
    const heatCapacity = readouts.map((readout) => readout.heatCapacity);
    return {
        temperatures: [...temperatures],
        freeEnergy: readouts.map((readout) => readout.freeEnergy),
        meanEnergy: readouts.map((readout) => readout.meanEnergy),
        entropy: readouts.map((readout) => readout.entropy),
        heatCapacity,
        ...(token != null ? { surprisal: readouts.map((readout) => readout.surprisal!) } : {}),
        heatCapacityPeak: gridPeak(temperatures, heatCapacity),
        logitGap: logitGap(logits)
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
