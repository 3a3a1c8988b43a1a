// Shapes shared by more than one domain of the contract: layer ranges, patches, probes, sampling,
// the per-token record and the per-layer diagnostics. Each domain file (models, vectors, runs,
// probes, sessions) imports from here; nothing here imports a domain file.
import { z } from "zod";
import type { TokenReadouts } from "./thermoReadouts.js";

/** An inclusive range of blocks in llama.cpp numbering (layer N = block N; block 0 cannot be steered). */
export const layerRangeSchema = z.object({ first: z.number().int().min(0), last: z.number().int().min(0) });
export type LayerRange = z.infer<typeof layerRangeSchema>;

/** Conditions that switch a patch on during a run (see the engine's PatchTrigger for timing). */
export const triggerSpecSchema = z.discriminatedUnion("kind", [
    z.object({
        kind: z.literal("projection"),
        vectorId: z.string().min(1),
        layer: z.number().int().min(0),
        threshold: z.number().refine(Number.isFinite, "threshold must be finite"),
        when: z.enum(["above", "below"]).optional(),
        holdTokens: z.number().int().min(1).optional(),
        hysteresis: z.number().min(0).optional(),
        window: z.number().int().min(1).max(256).optional(),
        /** "sigma": threshold and hysteresis in σ units of the vector's calibration (default "raw") */
        units: z.enum(["raw", "sigma"]).optional(),
        /** after a hold: "crossing" (default) waits for a fresh crossing, "level" re-engages while past the threshold */
        rearm: z.enum(["crossing", "level"]).optional()
    }),
    z.object({ kind: z.literal("text"), match: z.string().min(1), regex: z.boolean().optional(), holdTokens: z.number().int().min(1).optional() })
]);
export type TriggerSpec = z.infer<typeof triggerSpecSchema>;

/** A patch as data: the library vector `vectorId` × `strength` on `layers`, for generated tokens [fromToken, untilToken). */
export const patchSpecSchema = z.object({
    id: z.string().min(1),
    vectorId: z.string().min(1),
    strength: z.number().refine(Number.isFinite, "strength must be a finite number"),
    layers: layerRangeSchema.optional(),
    fromToken: z.number().int().min(0).optional(),
    untilToken: z.number().int().min(1).optional(),
    trigger: triggerSpecSchema.optional()
});
export type PatchSpec = z.infer<typeof patchSpecSchema>;

export const probeSpecSchema = z.object({
    vectorId: z.string().min(1),
    /** blocks to read; default every block the vector has */
    layers: z.array(z.number().int().min(0).max(4096)).max(4096).optional()
});
export type ProbeSpec = z.infer<typeof probeSpecSchema>;

export const samplingSchema = z.object({
    temperature: z.number().min(0).optional(),
    topK: z.number().int().min(0).optional(),
    topP: z.number().gt(0).max(1).optional(),
    minP: z.number().min(0).lt(1).optional(),
    seed: z.number().int().min(0).max(0xffffffff).optional()
});
export type SamplingSpec = z.infer<typeof samplingSchema>;

export interface LayerDiagnosticsInfo {
    layer: number;
    norm: number;
    activationNorm: number;
    trainAuroc: number;
    /** AUROC on the test split (the validation split chose the best layer); null when none is held out */
    heldOutAuroc: number | null;
    standardizedMeanDifference: number;
    /** AUROC on the validation split, which chooses the best layer */
    validationAuroc?: number | null;
    /** share of test (else training) pairs whose positive projects above its own negative */
    pairedAccuracy?: number | null;
    /** |cos(direction, mean difference)| */
    cosineToMean?: number;
    /** class midpoint and pooled σ of the training projections */
    calibration?: { midpoint: number; sigma: number };
}

/** A projection probe's read-out at one token and block. */
export interface TokenProjectionInfo {
    probe: string;
    layer: number;
    /** ⟨h, v̂⟩: the residual stream's component along the unit direction */
    dot: number;
    /** ⟨h, v̂⟩ / ‖h‖ */
    cosine: number;
    /** (dot − midpoint) / σ with the vector's calibration at this layer; absent for uncalibrated vectors */
    sigma?: number;
}

/** A token the sampler could have drawn instead, with its log-probability. */
export interface TokenAlternativeInfo {
    id: number;
    piece: string;
    logprob: number;
}

/** One generated token as the engine's generate() yields it, a run streams it and a session records it. */
export interface TokenInfo {
    /** 0-based among generated tokens */
    index: number;
    /** position in the context (prompt tokens come first) */
    position: number;
    id: number;
    /** the text this token completes (multi-byte characters land on the token that finishes them) */
    piece: string;
    /** log p(token) under the distribution it was drawn from, at temperature 1 (steered if steered) */
    logprob: number;
    /** entropy (nats) of that distribution */
    entropy: number;
    top: TokenAlternativeInfo[];
    /** ids of the patches that acted on this token's distribution */
    activePatches: string[];
    projections: TokenProjectionInfo[];
    /** thermodynamic read-outs at T = 1 and at the sampler's temperature (absent in sessions recorded before them) */
    readouts?: TokenReadouts;
}
