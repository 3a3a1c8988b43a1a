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
    /** which run χ is the slope of: the generated token the patch acts from (0: from the prompt on); default 0 */
    fromToken: z.number().int().min(0).optional(),
    /** finite-difference step in α, or "auto" (default): relativeStep·‖h_l‖/‖v_l‖ */
    step: z.union([z.number().gt(0).max(100), z.literal("auto")]).optional(),
    relativeStep: z.number().gt(0).max(1).optional(),
    /** also χ_{t,l}: every block at α₀, one moved at a time */
    perLayer: z.boolean().optional(),
    /** keep the stencil's full distributions for I_t and the FDT gap; default true */
    linearResponse: z.boolean().optional()
});
export type ProbesSweepParams = z.infer<typeof probesSweepSchema>;

export const probesDetectSchema = z.object({
    ...probeTextSchema,
    /** the settings the observed run claims (typed text only; a recorded run brings its own) */
    patches: z.array(patchSpecSchema).max(64).optional(),
    /** the reference it is compared with; default: no patch (a clean run) */
    reference: z.object({ patches: z.array(patchSpecSchema).max(64) }).optional(),
    /** library vectors the white box may name; default: the whole library */
    candidates: z.array(z.string().min(1)).max(256).optional()
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
    /** index in the completion */
    index: number;
    id: number;
    piece: string;
    /** log p_t(α) at each α of the grid */
    logprobs: number[];
    /** entropy (nats) of the predicting distribution at each α */
    entropies: number[];
    chi: number;
    /** standard-error estimate of χ */
    chiError: number;
    curvature: number;
    entropyResponse: number;
    /** Fisher information I_t = Var_p(∂ log p/∂α); null when the distributions were not kept */
    fisher: number | null;
    /** Σ p ∂²log p/∂α² + I_t (0 up to numerical error) and its error estimate */
    fdtGap: number | null;
    fdtGapError: number | null;
    /** χ_{t,l} for the layers of the range, when perLayer */
    chiPerLayer?: number[];
    chiPerLayerError?: number[];
}

export interface ProbesSweepResult {
    sweepId: string;
    prompt: string;
    completion: string;
    vectorId: string;
    vectorName: string;
    alphas: number[];
    alpha0: number;
    /** the generated token the patch acts from (0: from the prompt on) */
    fromToken: number;
    step: number;
    stepRule: "auto" | "fixed";
    relativeStep: number;
    layerSteps: Record<number, number>;
    residualNorms: Record<number, number>;
    layers: LayerRange;
    /** ‖v_l‖ per block of the range: α means "α times this" */
    vectorNorms: Record<number, number>;
    tokens: SweepTokenInfo[];
    /** Σ_t χ_t: the response of the completion's whole log-likelihood */
    totalChi: number;
    totalChiError: number;
    /** Λ(α) = Σ_t log p_t(α) on the grid, and its maximiser */
    pathFreeEnergy: number[];
    alphaML: { alpha: number; value: number; onEdge: boolean };
    sumRule?: { maxGap: number; maxGapInErrors: number };
    linearResponseNote?: string;
    /** decodes actually run: one prefix + one suffix per evaluated strength */
    decodes: { prefix: number; suffix: number; suffixTokens: number; prefixTokens: number };
    elapsedMs: number;
}

/** A library vector the detection's white box compares with Δh. */
export interface VectorMatchInfo {
    vectorId: string;
    name: string;
    cosine: number;
    /** α̂ = ⟨Δ, v⟩/‖v‖² at the first patched layer */
    strength: number;
    /** ‖v‖ at that layer: α means α times this */
    norm: number;
}

export interface ProbesDetectResult {
    detectionId: string;
    /** the generated tokens compared (KL[k] is about tokens[k]) */
    tokens: { id: number; piece: string }[];
    steered: boolean;
    /** per generated token k: KL(p_obs ‖ p_ref) of the distribution it was drawn from */
    kl: number[];
    /** per generated token k: log p_obs(token) − log p_ref(token) */
    deltaLogprob: number[];
    /** the first generated token whose distribution the patch changed (null: none) */
    onsetToken: number | null;
    /** the first position whose residual stream differs */
    onsetPosition: number | null;
    /** the lowest block whose output differs there */
    firstLayer: number | null;
    /** library vectors ranked by |cosine| with Δh at (firstLayer, onsetPosition) */
    matches: VectorMatchInfo[];
    /** blocks of deltaNorms' columns */
    layers: number[];
    /** ‖Δh‖ per generated token and block: [token][layer] */
    deltaNorms: number[][];
    elapsedMs: number;
}

export interface ProbeResults {
    "probes.sweep": ProbesSweepResult;
    "probes.detect": ProbesDetectResult;
}
