// The contract's temperature-scan request (issue 14): params' schema and result type, which the
// engine's scan (engine/probes) returns as they are.
// EngineContract.ts spreads these into its request map. Pure TypeScript + zod.
import { z } from "zod";

export const probesThermoSchema = z.object({
    /** a typed text (scanned unsteered) … */
    prompt: z.string().optional(),
    promptMode: z.enum(["plain", "chat"]).optional(),
    completion: z.string().optional(),
    /** … or a recorded run of this session, teacher-forced with the patches it was produced with */
    runId: z.string().min(1).optional(),
    /** increasing positive temperatures */
    temperatures: z.array(z.number().gt(0).refine(Number.isFinite, "every temperature must be finite")).min(2).max(2001),
    /** scan one completion token only (its index) */
    index: z.number().int().min(0).optional()
});
export type ProbesThermoParams = z.infer<typeof probesThermoSchema>;

/** S, F, U, C of one next-token distribution over a temperature grid (engine/probes/thermodynamics.ts). */
export interface TemperatureScanInfo {
    temperatures: number[];
    /** F and U relative to the top logit; S in nats; C = Var(E)/T²; s the token's surprisal */
    freeEnergy: number[];
    meanEnergy: number[];
    entropy: number[];
    heatCapacity: number[];
    /** of the token asked about, if any */
    surprisal?: number[];
    /** where C(T) peaks: the grid's maximum refined by a parabola through its neighbours (null on the grid's edge) */
    heatCapacityPeak: { temperature: number; heatCapacity: number } | null;
    /** top-1 − top-2 logit gap (temperature-free); null when one token is possible */
    logitGap: number | null;
}

/** The scan of one completion token's next-token distribution. */
export interface ThermoTokenInfo extends TemperatureScanInfo {
    index: number;
    id: number;
    piece: string;
}

/** The scan of a text (engine/probes/textTemperatureScan.ts). */
export interface ProbesThermoResult {
    temperatures: number[];
    tokens: ThermoTokenInfo[];
    /** per-token means over the scanned tokens */
    mean: { entropy: number[]; heatCapacity: number[]; freeEnergy: number[]; meanEnergy: number[] };
    meanHeatCapacityPeak: { temperature: number; heatCapacity: number } | null;
    elapsedMs: number;
}

export const thermoRequestSchemas = {
    /** S(T), F(T), U(T), C(T) of each completion token's next-token distribution */
    "probes.thermo": probesThermoSchema
} as const;

export interface ThermoResults {
    "probes.thermo": ProbesThermoResult;
}
