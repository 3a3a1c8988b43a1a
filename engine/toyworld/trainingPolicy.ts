// How the toy world is trained: the learning-rate schedule, AdamW's settings and every tensor's
// initial values. The native trainer (engine/native/src/training.cc, its graph in training_graph.cc)
// only carries these out: a seeded generator for the initial values and one optimizer step per
// window with the rate given.
import type { NativeOptimizerSettings, NativeWeightInit } from "../native/AddonTypes.js";

/**
 * AdamW as the committed model was trained: beta2 0.99 (ggml's default is 0.999), ggml's epsilon.
 * Changing any of these changes the model `tiller toyworld build` reproduces. The weight decay here
 * is only toyworldOptimizer's fallback (0: what the trainer's own tests assume); the recipe's decay
 * is TOYWORLD_DEFAULTS.weightDecay (buildToyworld.ts, 0.1 since session 11), which a build passes in.
 */
export const TOYWORLD_ADAMW = { beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0 } as const;

export interface CosineSchedule {
    /** the rate at step 0 (after the warm-up, if any) */
    start: number;
    /** the rate at totalSteps (and after) */
    end: number;
    totalSteps: number;
    /** steps over which the rate rises linearly from start/warmupSteps to start (default 0: none) */
    warmupSteps?: number;
    /** the step where the cosine decay begins; the rate holds at start until then (default 0) */
    decayFrom?: number;
}

/**
 * Cosine decay from `start` to `end` between decayFrom and totalSteps: step k (0-based, of the run)
 * trains at end + ½ (start − end) (1 + cos(π · min(1, (k − decayFrom) / (totalSteps − decayFrom))))
 * for k ≥ decayFrom, at `start` before it, and during the warm-up (k < warmupSteps) at that rate
 * × (k + 1) / warmupSteps. The rates are float32, as AdamW takes them; start, end and their
 * difference are rounded to float32 first, as the committed model's run computed them (so the same
 * options reproduce it bit for bit: with no warm-up and decayFrom 0 this is the plain cosine).
 */
export function cosineLearningRate(schedule: CosineSchedule, step: number): number {
    const start = Math.fround(schedule.start);
    const end = Math.fround(schedule.end);
    const decayFrom = schedule.decayFrom ?? 0;
    const warmupSteps = schedule.warmupSteps ?? 0;
    const progress = Math.min(1, Math.max(0, step - decayFrom) / Math.max(1, schedule.totalSteps - decayFrom));
    const span = Math.fround(start - end);
    const rate = Math.fround(end + 0.5 * span * (1 + Math.cos(Math.PI * progress)));
    return step < warmupSteps ? Math.fround(rate * (step + 1) / warmupSteps) : rate;
}

/** The rates of steps [fromStep, fromStep + count) of the run, one per window of a train() call. */
export function cosineLearningRates(schedule: CosineSchedule, fromStep: number, count: number): Float32Array {
    return Float32Array.from({ length: count }, (_, i) => cosineLearningRate(schedule, fromStep + i));
}

/**
 * One train() call's optimizer settings: the toy world's AdamW with the schedule's rates for those
 * steps (and another decoupled weight decay, when given: ggml-opt shrinks every weight by
 * rate × weightDecay per step).
 */
export function toyworldOptimizer(schedule: CosineSchedule, fromStep: number, count: number, weightDecay: number = TOYWORLD_ADAMW.weightDecay): NativeOptimizerSettings {
    return { ...TOYWORLD_ADAMW, weightDecay, learningRates: cosineLearningRates(schedule, fromStep, count) };
}

/**
 * Initial values (GPT-2's choices): norms start at 1, matrices at N(0, 0.02²), and the projections
 * that write into the residual stream (attn_output, ffn_down) scaled down by sqrt(2 · nLayer) so the
 * stream does not grow with depth at initialisation.
 *
 * The token embeddings get one shared component per row besides their own random one: a key
 * every position has from the first step, which a query can match at a chosen relative offset
 * (RoPE), so positional attention ("the token before me") is easy to find from the first block on.
 * (It dates from llama_opt_epoch, which never trained the embeddings or K/V; the trainer's own
 * graph trains them, and the rule stays so a seed keeps its meaning.)
 */
export function toyworldInitialisation(tensorNames: readonly string[], nLayer: number): NativeWeightInit[] {
    const std = 0.02;
    return tensorNames.map((name): NativeWeightInit => {
        if (name.includes("_norm"))
            return { name, fill: 1 };
        if (name === "token_embd.weight")
            return { name, normalStd: std, sharedRow: true };
        if (name.endsWith("attn_output.weight") || name.endsWith("ffn_down.weight"))
            return { name, normalStd: std / Math.sqrt(2 * nLayer) };
        return { name, normalStd: std };
    });
}
