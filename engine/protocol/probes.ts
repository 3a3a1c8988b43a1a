// The contract's probe requests: the susceptibility sweep (how each token of a completion responds
// to a vector) and steering detection (was a run steered, where, with what). Pure TypeScript + zod.
import { z } from "zod";
import { layerRangeSchema, patchSpecSchema, type LayerRange } from "./shapes.js";

/** The text a probe measures: typed (prompt + completion), or a recorded run of this session by its id. */
const probeTextSchema = {
    prompt: z.string().optional(),
    promptMode: z.enum(["plain", "chat"]).optional(),
    completion: z.string().optional(),
    runId: z.string().min(1).optional()
};

export const probesSweepSchema = z.object({
    ...probeTextSchema,
    vectorId: z.string().min(1),
    /** default: every block the vector has */
    layers: layerRangeSchema.optional(),
    alphas: z.array(z.number().refine(Number.isFinite, "every α must be finite")).min(1).max(201),
    alpha0: z.number().refine(Number.isFinite, "α₀ must be finite").optional(),
    step: z.number().gt(0).max(1).optional(),
    /** also χ_{t,l}: the patch at one block at a time */
    perLayer: z.boolean().optional()
});
export type ProbesSweepParams = z.infer<typeof probesSweepSchema>;

export const probesDetectSchema = z.object({
    ...probeTextSchema,
    /** the settings the observed run claims (typed text only; a recorded run brings its own) */
    patches: z.array(patchSpecSchema).optional(),
    /** the reference it is compared with; default: no patch (a clean run) */
    reference: z.object({ patches: z.array(patchSpecSchema) }).optional(),
    /** library vectors the white box may name; default: the whole library */
    candidates: z.array(z.string().min(1)).optional()
});
export type ProbesDetectParams = z.infer<typeof probesDetectSchema>;

export const probeRequestSchemas = {
    /** per-token susceptibility of a completion to a vector; streams `progress`, cancellable */
    "probes.sweep": probesSweepSchema,
    /** was a run steered, where and with what: black-box KL/Δlog-prob and the white-box report */
    "probes.detect": probesDetectSchema
} as const;

// ---- results ------------------------------------------------------------------------------------

export interface SweepTokenInfo {
    index: number;
    id: number;
    piece: string;
    /** log p_t(α) at each α of the grid */
    logprobs: number[];
    entropies: number[];
    chi: number;
    curvature: number;
    entropyResponse: number;
    /** χ_{t,l} for the layers of the range, when perLayer */
    chiPerLayer?: number[];
}

export interface ProbesSweepResult {
    sweepId: string;
    prompt: string;
    completion: string;
    vectorId: string;
    vectorName: string;
    alphas: number[];
    alpha0: number;
    step: number;
    layers: LayerRange;
    vectorNorms: Record<number, number>;
    tokens: SweepTokenInfo[];
    totalChi: number;
    decodes: { prefix: number; suffix: number; suffixTokens: number; prefixTokens: number };
    elapsedMs: number;
}

export interface ProbesDetectResult {
    detectionId: string;
    /** the generated tokens compared (KL[k] is about tokens[k]) */
    tokens: { id: number; piece: string }[];
    steered: boolean;
    kl: number[];
    deltaLogprob: number[];
    onsetToken: number | null;
    onsetPosition: number | null;
    firstLayer: number | null;
    /** library vectors ranked by |cosine| with Δh at (firstLayer, onsetPosition) */
    matches: { vectorId: string; name: string; cosine: number; strength: number; norm: number }[];
    /** blocks of deltaNorms' columns */
    layers: number[];
    /** ‖Δh‖ per generated token and block */
    deltaNorms: number[][];
    elapsedMs: number;
}

export interface ProbeResults {
    "probes.sweep": ProbesSweepResult;
    "probes.detect": ProbesDetectResult;
}
