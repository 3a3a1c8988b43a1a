// The context shapes (KV-cache size, batch size, parallel sequences) the CLI and the engine service
// create, named once: the same work gets the same shape whichever front end asks for it.

/** A context's shape (TillerContext's ContextOptions); threads and precision are the caller's. */
export interface ContextShape {
    contextSize: number;
    batchSize: number;
    sequences: number;
}

/** The most tokens a model's default context holds (less when the model was trained on less). */
export const DEFAULT_CONTEXT_SIZE = 4096;

/** The largest batch one llama_decode takes unless a shape says otherwise (never more than the context). */
export const DEFAULT_BATCH_SIZE = 512;

/** The context a loaded model gets unless one is asked for: its training context, at most DEFAULT_CONTEXT_SIZE. */
export function defaultContextSize(trainingContext: number): number {
    return Math.min(DEFAULT_CONTEXT_SIZE, trainingContext || DEFAULT_CONTEXT_SIZE);
}

/** Building a vector packs many short pairs into one large batch, 32 sequences at a time. */
export const VECTOR_BUILD_CONTEXT: ContextShape = { contextSize: 4096, batchSize: 1024, sequences: 32 };

/**
 * The vector-build shape with another context size: the batch no larger than the context, and no
 * more sequences than the batch has outputs (llama.cpp aborts the process on GGML_ASSERT n_outputs_max).
 */
export function vectorBuildContext(contextSize: number = VECTOR_BUILD_CONTEXT.contextSize): ContextShape {
    const batchSize = Math.min(VECTOR_BUILD_CONTEXT.batchSize, contextSize);
    return { contextSize, batchSize, sequences: Math.min(VECTOR_BUILD_CONTEXT.sequences, batchSize) };
}

/** Rounds a token count up to a power of two (at least 64) so probe contexts come in few shapes. */
export function contextSizeFor(tokens: number): number {
    let size = 64;
    while (size < tokens + 1)
        size *= 2;
    return size;
}

/**
 * The probes that run in a context sized to their text: the sequences each needs (a sweep and a
 * blind detection decode the steered and the reference pass side by side) and the most tokens one
 * decode may take (a temperature scan reads every position's logits, so its batch stays small).
 */
const textProbes = {
    sweep: { sequences: 2, maxBatch: Infinity },
    detect: { sequences: 1, maxBatch: Infinity },
    forensics: { sequences: 2, maxBatch: Infinity },
    thermo: { sequences: 1, maxBatch: DEFAULT_BATCH_SIZE }
} as const;

export type TextProbe = keyof typeof textProbes;

/** The context a probe of `tokens` tokens (prompt + completion) runs in. */
export function textProbeContext(probe: TextProbe, tokens: number): ContextShape {
    const contextSize = contextSizeFor(tokens);
    const { sequences, maxBatch } = textProbes[probe];
    return { contextSize, batchSize: Math.min(contextSize, maxBatch), sequences };
}

/** `tiller sweep` and `tiller explain` tokenize inside the probe, so their context is a fixed, generous one. */
export const FIXED_PROBE_CONTEXT = { contextSize: 4096, batchSize: 2048 } as const;

/** `tiller detect --blind`: short generations and their detections, one trial at a time. */
export const HIDDEN_PATCH_TRIAL_CONTEXT_SIZE = 512;

/** `tiller suspect`: the served model's context, at most this (or its training context). */
export const SUSPECT_CONTEXT_SIZE = 2048;
