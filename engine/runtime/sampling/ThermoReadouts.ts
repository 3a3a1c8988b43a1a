// Per-token thermodynamic read-outs (DESIGN.md §4): logits z_i, energies relative to the top logit
// m, ε_i = m − z_i, p_i(T) ∝ exp(−ε_i/T). The physics words name observed quantities of the
// model's next-token distribution; they are not claims of singular learning theory.
//
// F and U depend on the logit shift (logits are defined up to a constant per position), so they
// are reported relative to the top logit; S, C, s and ζ do not depend on it.
import type { ThermoReadout } from "../../protocol/thermoReadouts.js";
import { argmaxLogit } from "./argmaxLogit.js";

export type { ThermoReadout, TokenReadouts } from "../../protocol/thermoReadouts.js";

/** Builds one read-out from F, U, C (relative energies) and log p_T(y) at temperature T. */
export function thermoReadout(temperature: number, freeEnergy: number, meanEnergy: number, entropy: number, heatCapacity: number, targetLogprob: number): ThermoReadout {
    const surprisal = Number.isFinite(targetLogprob) ? -targetLogprob : null;
    return {
        temperature,
        freeEnergy,
        meanEnergy,
        entropy,
        entropyBits: entropy / Math.LN2,
        effectiveChoices: Math.exp(entropy),
        heatCapacity,
        surprisal,
        zeta: surprisal != null && heatCapacity > 0 ? (surprisal - entropy) / Math.sqrt(heatCapacity) : null
    };
}

/**
 * The reference implementation (double precision, plain loops): the read-outs of one logits row at
 * temperature T for token `target`. The native row analysis is tested against it; it also serves
 * callers that hold logits anyway (a temperature scan reuses one row for many T).
 */
export function computeThermoReadout(logits: Float32Array, temperature: number, target: number): ThermoReadout {
    const top = argmaxLogit(logits);
    const m = logits[top]!;
    const targetX = logits[target]! - m;
    if (temperature === 0) {
        let ties = 0;
        for (let i = 0; i < logits.length; i++)
            ties += logits[i] === m ? 1 : 0;
        return thermoReadout(0, 0, 0, Math.log(ties), 0, targetX === 0 ? -Math.log(ties) : -Infinity);
    }
    let z = 0;
    let a = 0;
    let b = 0;
    for (let i = 0; i < logits.length; i++) {
        const v = logits[i]!;
        if (v === -Infinity)
            continue;
        const x = v - m;
        const e = Math.exp(x / temperature);
        z += e;
        a += e * x;
        b += e * x * x;
    }
    const logZ = Math.log(z);
    const meanX = a / z;
    return thermoReadout(temperature, -temperature * logZ, -meanX, Math.max(0, logZ - meanX / temperature),
        Math.max(0, b / z - meanX * meanX) / (temperature * temperature), targetX / temperature - logZ);
}

/** The top-1/top-2 logit gap of a row (reference implementation); null with one unmasked token. */
export function computeLogitGap(logits: Float32Array): number | null {
    let first = -Infinity;
    let second = -Infinity;
    let seenFirst = false;
    for (let i = 0; i < logits.length; i++) {
        const v = logits[i]!;
        if (v === -Infinity)
            continue;
        if (!seenFirst || v > first) {
            if (seenFirst)
                second = first;
            first = v;
            seenFirst = true;
        } else if (v > second) {
            second = v;
        }
    }
    return second === -Infinity ? null : first - second;
}
