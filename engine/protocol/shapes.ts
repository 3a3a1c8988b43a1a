// Shapes shared by more than one domain of the contract: layer ranges, patches, probes, sampling,
// the per-token record and the per-layer diagnostics. Each domain file (models, vectors, runs,
// probes, sessions) imports from here; nothing here imports a domain file.
import { z } from "zod";

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
        window: z.number().int().min(1).max(256).optional()
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
    layers: z.array(z.number().int().min(0)).optional()
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
    heldOutAuroc: number | null;
    standardizedMeanDifference: number;
}

export interface TokenProjectionInfo {
    probe: string;
    layer: number;
    dot: number;
    cosine: number;
}

/** One generated token as a run streams it and a session records it. */
export interface TokenInfo {
    index: number;
    position: number;
    id: number;
    piece: string;
    logprob: number;
    entropy: number;
    top: { id: number; piece: string; logprob: number }[];
    activePatches: string[];
    projections: TokenProjectionInfo[];
}
