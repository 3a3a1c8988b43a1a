// The per-token thermodynamic read-outs as they cross processes and land in sessions and exports
// (definitions: DESIGN.md §4 and the README's "Per-token read-outs"). Pure contract: no node:*, no DOM.
import { z } from "zod";

export interface ThermoReadout {
    /** the temperature T these values are taken at (0: the greedy limit) */
    temperature: number;
    /** F = −T ln Σ exp(−ε_i/T) with ε_i = top logit − z_i: relative to the top logit (≤ 0) */
    freeEnergy: number;
    /** U = ⟨ε⟩, relative to the top logit (≥ 0) */
    meanEnergy: number;
    /** S = (U − F)/T, nats */
    entropy: number;
    /** S / ln 2 */
    entropyBits: number;
    /** e^S: the effective number of choices */
    effectiveChoices: number;
    /** C = Var(ε)/T² (at T = 1: the varentropy) */
    heatCapacity: number;
    /** s = (ε_y − F)/T = −log p_T(y) of the emitted (or scored) token y; null when y is masked (∞) */
    surprisal: number | null;
    /** ζ = (s − S)/√C, the standardised surprise; null when C = 0 or s is infinite */
    zeta: number | null;
}

export interface TokenReadouts {
    /** at T = 1: the model's own distribution */
    t1: ThermoReadout;
    /** at the sampler's temperature (0 for greedy: the T → 0 limit, uniform over tied top logits) */
    sampler: ThermoReadout;
    /** top-1 − top-2 logit (0 on a tie); null when only one token is unmasked */
    gap: number | null;
}

const thermoReadoutSchema = z.object({
    temperature: z.number(),
    freeEnergy: z.number(),
    meanEnergy: z.number(),
    entropy: z.number(),
    entropyBits: z.number(),
    effectiveChoices: z.number(),
    heatCapacity: z.number(),
    surprisal: z.number().nullable(),
    zeta: z.number().nullable()
});

export const tokenReadoutsSchema = z.object({ t1: thermoReadoutSchema, sampler: thermoReadoutSchema, gap: z.number().nullable() });

/**
 * The read-outs as flat columns (CSV headers and `readouts.npy` columns, in this order); null
 * becomes an empty CSV field and NaN in `.npy`.
 */
export const readoutColumns: readonly { name: string; value: (readouts: TokenReadouts) => number | null }[] = [
    ...(["t1", "sampler"] as const).flatMap((which) => {
        const suffix = which === "t1" ? "t1" : "ts";
        return [
            { name: `temperature_${suffix}`, value: (r: TokenReadouts) => r[which].temperature },
            { name: `free_energy_${suffix}`, value: (r: TokenReadouts) => r[which].freeEnergy },
            { name: `mean_energy_${suffix}`, value: (r: TokenReadouts) => r[which].meanEnergy },
            { name: `entropy_nats_${suffix}`, value: (r: TokenReadouts) => r[which].entropy },
            { name: `entropy_bits_${suffix}`, value: (r: TokenReadouts) => r[which].entropyBits },
            { name: `effective_choices_${suffix}`, value: (r: TokenReadouts) => r[which].effectiveChoices },
            { name: `heat_capacity_${suffix}`, value: (r: TokenReadouts) => r[which].heatCapacity },
            { name: `surprisal_${suffix}`, value: (r: TokenReadouts) => r[which].surprisal },
            { name: `zeta_${suffix}`, value: (r: TokenReadouts) => r[which].zeta }
        ];
    }),
    { name: "logit_gap", value: (r: TokenReadouts) => r.gap }
];
