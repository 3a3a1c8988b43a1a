import { argmaxLogit } from "./argmaxLogit.js";
import { resolveSamplingOptions, validateSeed } from "./SamplingOptions.js";
import type { SamplingOptions } from "./SamplingOptions.js";
import { SeededRandom } from "./SeededRandom.js";
import { selectTopLogits } from "./selectTopLogits.js";

/** A token and its probability in the final (filtered, renormalised) sampling distribution. */
export interface TokenProbability {
    id: number;
    p: number;
}

/**
 * Below this many candidates the nucleus search just insertion-sorts; above it, it partitions.
 * Insertion sort wins on the tiny sets that top-k / min-p usually leave behind.
 */
const SMALL_RANGE = 24;

/**
 * Turns one logit vector into one token id. Runs once per generated token, so it reuses its
 * scratch buffers across calls and never sorts the whole vocabulary.
 *
 * temperature == 0: greedy argmax, lowest id on ties; the other filters are irrelevant.
 *
 * Otherwise the chain is:
 *   1. top-k   keep the k highest logits (partial heap selection). topK = 0, or topK >= nVocab,
 *              keeps every unmasked token.
 *   2. softmax with temperature over the survivors: p_i ∝ exp((x_i - max) / T).
 *   3. top-p   keep the smallest most-likely set whose mass (in the step-2 distribution) is
 *              >= topP; always at least one token. topP = 1 is off.
 *   4. min-p   drop tokens with p_i < minP · p_max. minP = 0 is off.
 *   5. renormalise the survivors and draw with the seeded PRNG.
 * This differs from llama.cpp's default chain, which applies temperature last (top-k → top-p →
 * min-p → temperature). Here temperature comes before top-p and min-p so that both filters judge
 * the distribution that is actually sampled from: a high temperature widens the nucleus and a low
 * one narrows it. At T = 1 the two orders coincide.
 *
 * Implementation notes that keep this O(nVocab) without a full sort:
 *   - min-p is applied *before* top-p. That is equivalent to the documented order: renormalising
 *     after top-p scales p_i and p_max alike (and p_max always survives top-p), so min-p keeps
 *     exactly {p_i >= minP · p_max} either way; and since both filters keep a most-likely prefix,
 *     top-p measured with the un-renormalised step-2 mass lands on the same cut. Applying min-p
 *     first is a single linear pass that usually shrinks tens of thousands of candidates to a few.
 *   - top-p then uses a mass-aware quickselect (expected linear time) rather than a sort: it
 *     partitions around a pivot, and recurses only into the side that contains the cut. This
 *     matters when topK is 0 and minP is 0, where the candidate set is the whole vocabulary.
 *   - Ranking is (probability descending, id ascending), a strict total order, so the nucleus is
 *     well defined under ties and equals what a full stable sort would give. The only possible
 *     difference from a sorted prefix sum is floating-point summation order when a cumulative
 *     sum lands within rounding error of topP.
 *   - Tokens whose probability underflows to 0 are dropped; they could never be drawn anyway.
 */
export class TokenSampler {
    readonly options: Readonly<SamplingOptions>;
    private readonly random: SeededRandom;
    private ids = new Int32Array(0);
    private probs = new Float64Array(0);

    constructor(options: SamplingOptions) {
        // Re-validate: options may have been built by hand rather than via resolveSamplingOptions.
        this.options = Object.freeze(resolveSamplingOptions(options));
        this.random = new SeededRandom(this.options.seed);
    }

    /**
     * Restarts the random sequence, from `seed` if given or otherwise from the configured seed,
     * so a generation can be replayed exactly.
     */
    reset(seed?: number): void {
        const next = seed ?? this.options.seed;
        validateSeed(next);
        this.random.reset(next);
    }

    /**
     * Consumes the uniform draw that the next {@link sample} would use and returns it (0, and no
     * draw, when greedy). The native row analysis samples with this sampler's options and these
     * draws, so a run follows the same random sequence whichever implementation picks the token.
     */
    drawUniform(): number {
        return this.options.temperature === 0 ? 0 : this.random.next();
    }

    /** Picks the next token id. Throws InvalidLogitsError for NaN/+Infinity/fully masked logits. */
    sample(logits: Float32Array): number {
        const greedy = argmaxLogit(logits); // also validates the logits
        if (this.options.temperature === 0) {
            return greedy;
        }
        const count = this.filter(logits);
        const ids = this.ids;
        const probs = this.probs;

        let total = 0;
        for (let j = 0; j < count; j++) {
            total += probs[j]!;
        }
        // Scaling the uniform draw by the kept mass renormalises without another pass.
        const target = this.random.next() * total;
        let cumulative = 0;
        for (let j = 0; j < count; j++) {
            cumulative += probs[j]!;
            if (target < cumulative) {
                return ids[j]!;
            }
        }
        // Only reachable through rounding at the very top of the range.
        return ids[count - 1]!;
    }

    /**
     * The final sampling distribution (after every filter, renormalised), most likely first.
     * Allocates; intended for inspection, debugging and tests, not for the per-token loop.
     * Does not consume randomness.
     */
    candidateDistribution(logits: Float32Array): TokenProbability[] {
        const greedy = argmaxLogit(logits);
        if (this.options.temperature === 0) {
            return [{ id: greedy, p: 1 }];
        }
        const count = this.filter(logits);
        let total = 0;
        for (let j = 0; j < count; j++) {
            total += this.probs[j]!;
        }
        const result: TokenProbability[] = [];
        for (let j = 0; j < count; j++) {
            result.push({ id: this.ids[j]!, p: this.probs[j]! / total });
        }
        result.sort((a, b) => b.p - a.p || a.id - b.id);
        return result;
    }

    /**
     * Runs steps 1-4 of the chain, leaving the survivors' ids and (un-renormalised) probabilities
     * in this.ids / this.probs [0, count). Expects validated logits.
     */
    private filter(logits: Float32Array): number {
        const { temperature, topK, topP, minP } = this.options;
        const n = logits.length;
        const useTopK = topK > 0 && topK < n;
        this.ensureCapacity(useTopK ? topK : n);
        const ids = this.ids;
        const probs = this.probs;

        // 1. top-k (probs temporarily holds logits).
        let count: number;
        if (useTopK) {
            count = selectTopLogits(logits, topK, ids, probs);
        } else {
            count = 0;
            for (let i = 0; i < n; i++) {
                const v = logits[i]!;
                if (v > -Infinity) {
                    ids[count] = i;
                    probs[count] = v;
                    count++;
                }
            }
        }

        // 2. temperature softmax. Division rather than multiplying by 1/T: a subnormal T would
        //    make 1/T infinite and turn the max token's 0 · Infinity into NaN.
        let max = -Infinity;
        for (let j = 0; j < count; j++) {
            if (probs[j]! > max) {
                max = probs[j]!;
            }
        }
        let sum = 0;
        for (let j = 0; j < count; j++) {
            const e = Math.exp((probs[j]! - max) / temperature);
            probs[j] = e;
            sum += e;
        }

        // 4 (hoisted, see class comment). The max token has e = 1, so p_max = 1 / sum. Normalising
        // in the same pass keeps top-p's mass comparable to topP.
        const threshold = minP / sum;
        let kept = 0;
        for (let j = 0; j < count; j++) {
            const p = probs[j]! / sum;
            if (p > 0 && p >= threshold) {
                probs[kept] = p;
                ids[kept] = ids[j]!;
                kept++;
            }
        }
        count = kept;

        // 3. top-p.
        if (topP < 1) {
            count = nucleusCut(ids, probs, count, topP);
        }
        return count;
    }

    private ensureCapacity(size: number): void {
        if (this.ids.length < size) {
            this.ids = new Int32Array(size);
            this.probs = new Float64Array(size);
        }
    }
}

/** (pa, ia) ranks above (pb, ib): more likely, or equally likely with a lower id. */
function ranksAbove(pa: number, ia: number, pb: number, ib: number): boolean {
    return pa > pb || (pa === pb && ia < ib);
}

function swap(ids: Int32Array, probs: Float64Array, a: number, b: number): void {
    const id = ids[a]!;
    ids[a] = ids[b]!;
    ids[b] = id;
    const p = probs[a]!;
    probs[a] = probs[b]!;
    probs[b] = p;
}

/**
 * Rearranges [0, count) so the nucleus (smallest most-likely set with mass >= target) occupies
 * [0, cut) and returns cut. If everything together is below target, keeps everything. Always
 * keeps at least one entry when count > 0, since target > 0 is reached or the loop runs out.
 *
 * Quickselect on mass: after partitioning [lo, hi) around a pivot, the entries ranked above the
 * pivot are all in the nucleus iff their mass (plus the pivot's) is still short of what is needed,
 * so only one side is ever revisited. Middle-element pivots are fine here: the order is strict
 * (ids break ties) and logits arrive in id order, not in an adversarial probability order.
 */
function nucleusCut(ids: Int32Array, probs: Float64Array, count: number, target: number): number {
    let lo = 0;
    let hi = count;
    let need = target;
    while (hi - lo > SMALL_RANGE) {
        const last = hi - 1;
        swap(ids, probs, (lo + hi) >>> 1, last);
        const pivotP = probs[last]!;
        const pivotId = ids[last]!;
        let store = lo;
        let aboveMass = 0;
        for (let j = lo; j < last; j++) {
            if (ranksAbove(probs[j]!, ids[j]!, pivotP, pivotId)) {
                aboveMass += probs[j]!;
                swap(ids, probs, j, store);
                store++;
            }
        }
        swap(ids, probs, store, last);

        if (aboveMass >= need) {
            hi = store;
        } else if (aboveMass + pivotP >= need) {
            return store + 1;
        } else {
            need -= aboveMass + pivotP;
            lo = store + 1;
        }
    }

    // Small remainder: sort it and take the prefix.
    for (let j = lo + 1; j < hi; j++) {
        const p = probs[j]!;
        const id = ids[j]!;
        let k = j - 1;
        while (k >= lo && ranksAbove(p, id, probs[k]!, ids[k]!)) {
            probs[k + 1] = probs[k]!;
            ids[k + 1] = ids[k]!;
            k--;
        }
        probs[k + 1] = p;
        ids[k + 1] = id;
    }
    let cumulative = 0;
    for (let j = lo; j < hi; j++) {
        cumulative += probs[j]!;
        if (cumulative >= need) {
            return j + 1;
        }
    }
    return hi;
}
