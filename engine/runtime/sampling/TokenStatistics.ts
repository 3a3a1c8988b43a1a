import { argmaxLogit } from "./argmaxLogit.js";
import { selectTopLogits } from "./selectTopLogits.js";

/** One entry of a "most likely tokens" list. */
export interface TokenLogProb {
    id: number;
    /** Natural-log probability under the raw (temperature 1) softmax. */
    logprob: number;
}

/**
 * Per-position description of the model's own next-token distribution.
 *
 * Everything here is computed from the raw logits at temperature 1, deliberately independent of
 * the sampling settings: these numbers are what a steering experiment measures (how confident or
 * surprised the model is with and without a vector), and they must not shift just because the
 * user changed temperature, top-k or top-p for the sampled text.
 */
export interface TokenStatistics {
    /** log Σ exp(logit): the softmax normaliser, reusable with {@link logProbOf}. */
    logSumExp: number;
    /** Shannon entropy of softmax(logits), in nats. 0 = certain, ln(nVocab) = uniform. */
    entropy: number;
    /** The topN most likely tokens, most likely first (lower id first on exact ties). */
    top: TokenLogProb[];
}

/**
 * Computes logSumExp, entropy and the topN tokens in a few O(nVocab) passes, without sorting the
 * vocabulary (see selectTopLogits).
 *
 * Numerical stability: everything is evaluated relative to the maximum logit m, so exponentials
 * never overflow even for logits around 1e4:
 *   S = Σ exp(x_i - m),  logSumExp = m + ln S,
 *   H = -Σ p_i ln p_i = ln S - Σ exp(x_i - m)·(x_i - m) / S.
 * Masked tokens (-Infinity) contribute p = 0 and are skipped, which avoids the 0·(-Infinity) NaN.
 *
 * Masked tokens never appear in `top`, so it can be shorter than topN.
 * Throws InvalidLogitsError for empty, NaN, +Infinity or fully masked logits.
 */
export function computeTokenStatistics(logits: Float32Array, topN: number): TokenStatistics {
    if (!Number.isSafeInteger(topN) || topN < 0) {
        throw new RangeError(`topN must be an integer >= 0, got ${topN}`);
    }
    const max = logits[argmaxLogit(logits)]!;

    let sumExp = 0;
    let weighted = 0;
    const n = logits.length;
    for (let i = 0; i < n; i++) {
        const v = logits[i]!;
        if (v === -Infinity) {
            continue;
        }
        const shifted = v - max;
        const e = Math.exp(shifted);
        sumExp += e;
        weighted += e * shifted;
    }
    const logS = Math.log(sumExp);
    const logSumExp = max + logS;
    // Rounding can leave a tiny negative value for near-deterministic distributions.
    const entropy = Math.max(0, logS - weighted / sumExp);

    const top = topTokens(logits, topN, logSumExp);
    return { logSumExp, entropy, top };
}

/**
 * Log-probability of one token given a logSumExp from {@link computeTokenStatistics}, e.g. for
 * scoring the token that was actually sampled. -Infinity for a masked token.
 */
export function logProbOf(logits: Float32Array, id: number, logSumExp: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= logits.length) {
        throw new RangeError(`token id ${id} is outside the vocabulary of ${logits.length} tokens`);
    }
    return logits[id]! - logSumExp;
}

function topTokens(logits: Float32Array, topN: number, logSumExp: number): TokenLogProb[] {
    const limit = Math.min(topN, logits.length);
    if (limit === 0) {
        return [];
    }
    // topN is small (a UI list), so these per-call buffers are cheap.
    const ids = new Int32Array(limit);
    const values = new Float64Array(limit);
    const count = selectTopLogits(logits, limit, ids, values);

    const top: TokenLogProb[] = [];
    for (let j = 0; j < count; j++) {
        top.push({ id: ids[j]!, logprob: values[j]! - logSumExp });
    }
    top.sort((a, b) => b.logprob - a.logprob || a.id - b.id);
    return top;
}
