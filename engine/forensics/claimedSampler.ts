// The likelihood of an emitted token under the sampler a transcript claims: the distribution the
// token was actually drawn from (temperature, then top-k / min-p / top-p, renormalised — exactly
// TokenSampler's chain), not the raw softmax.
//
// Two softenings keep the evidence finite and honest about numerics:
//   - a floor: q̃ = (1 − ε)·q_sampler + ε·softmax(z/T). A token the filters exclude is then very
//     unlikely (≈ ε·p) instead of impossible, so one filtered-out token is strong evidence but a
//     logit that differs in the last digits between the run's decode and ours cannot give −∞;
//   - greedy (T = 0) is scored as a soft argmax softmax(z/τ) with τ = GREEDY_SOFT_TEMPERATURE for
//     ranking hypotheses; whether a greedy transcript is possible at all is decided exactly, by
//     `isNearArgmax`, with a logit tolerance for the same numerical reason.
import { TillerError } from "../protocol/TillerError.js";
import { resolveSamplingOptions, type SamplingOptions } from "../runtime/sampling/SamplingOptions.js";
import { selectTopLogits } from "../runtime/sampling/selectTopLogits.js";

export type ClaimedSampler = Omit<SamplingOptions, "seed">;

/** ε of the floor: the weight of the unfiltered softmax in q̃ */
export const LIKELIHOOD_FLOOR = 1e-3;
/** τ of the soft argmax that ranks hypotheses for greedy text */
export const GREEDY_SOFT_TEMPERATURE = 0.1;
/**
 * A token counts as the argmax when its logit is within this of the largest. The run decoded token
 * by token (F16 K/V cache by default); forensics teacher-forces in a precise context, and the two
 * differ by ~1e-3 in the logits of small models.
 */
export const ARGMAX_TOLERANCE = 0.02;

/** Fills in the engine's defaults (greedy unless a temperature is given) and checks the ranges. */
export function resolveClaimedSampler(partial: Partial<SamplingOptions> = {}): ClaimedSampler {
    try {
        const { temperature, topK, topP, minP } = resolveSamplingOptions({ temperature: 0, ...partial });
        return { temperature, topK, topP, minP };
    } catch (error) {
        throw new TillerError("INVALID_ARGUMENT", `impossible sampler settings: ${(error as Error).message}`, { cause: error });
    }
}

export function isGreedy(sampler: ClaimedSampler): boolean {
    return sampler.temperature === 0;
}

/** log softmax(logits / temperature) into `out` (length nVocab). */
export function logSoftmaxInto(logits: Float32Array, temperature: number, out: Float64Array): Float64Array {
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++)
        max = Math.max(max, logits[i]!);
    let sum = 0;
    for (let i = 0; i < logits.length; i++)
        sum += Math.exp((logits[i]! - max) / temperature);
    const logSum = Math.log(sum);
    for (let i = 0; i < logits.length; i++)
        out[i] = (logits[i]! - max) / temperature - logSum;
    return out;
}

/** A row's top logit and log Σ exp((z − max)/T) at T = 1 and at a second temperature. */
export interface RowNormalisers {
    max: number;
    logZ1: number;
    logZT: number;
    /** when asked for (topK > 0): the ids of the topK largest logits (ties: the lower id), any order */
    topIds?: Int32Array;
}

/**
 * Computes a row's normalisers: the whole-vocabulary part of SamplerLikelihood.prepare; with
 * `topK`, also the top-k set (else prepare selects it itself).
 */
export type RowNormaliser = (logits: Float32Array, temperature: number, topK?: number) => RowNormalisers;

/** The normalisers in double precision in JavaScript (the reference; see nativeRowNormaliser.ts for the fast one). */
export function jsRowNormaliser(logits: Float32Array, temperature: number): RowNormalisers {
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++)
        max = Math.max(max, logits[i]!);
    let sum1 = 0, sumT = 0;
    for (let i = 0; i < logits.length; i++) {
        sum1 += Math.exp(logits[i]! - max);
        sumT += Math.exp((logits[i]! - max) / temperature);
    }
    return { max, logZ1: Math.log(sum1), logZT: Math.log(sumT) };
}

/**
 * How far (in ln p) below the min-p cut a logit is still collected for the exact test: far more
 * than the normalisers' rounding, so the prefilter never drops a token min-p keeps.
 */
const MIN_P_MARGIN = 1e-3;

/**
 * log q̃ of one position, prepared once (O(nVocab): two normalisers and the filter's kept set)
 * and then read for any token in O(1): the hypothesis sweep reads only the emitted token and the
 * null draws, so the full distribution is never materialised there. Reuse one instance per
 * detection; `prepare` overwrites the previous position. The normalisers come from `normalise`
 * (native in detection: at 262k tokens the JavaScript loops cost milliseconds per row); without
 * top-k, min-p's cut in logit space (z ≥ max + T·ln min_p) limits the exact work to the few
 * tokens near the top.
 */
export class SamplerLikelihood {
    private readonly greedy: boolean;
    private kept = new Float64Array(0);
    private keptIds = new Int32Array(0);
    private keptCount = 0;
    private isKept = new Uint8Array(0);
    /** the sampler filters nothing out (no top-k, min-p 0, top-p 1): every token with p > 0 is kept */
    private keepsAll = false;
    private topIds = new Int32Array(0);
    private topValues = new Float64Array(0);
    private logits: Float32Array = new Float32Array(0);
    private max = 0;
    /** log Σ exp((z − max)/T) over the vocabulary (greedy: T = 1) */
    private logZAll = 0;
    /** greedy: log Σ exp((z − max)/τ); sampled: log Σ_{kept} exp((z − max)/T) */
    private logZSharp = 0;

    public constructor(public readonly sampler: ClaimedSampler, private readonly normalise: RowNormaliser = jsRowNormaliser) {
        this.greedy = isGreedy(sampler);
    }

    /** Prepares position `logits` (kept by reference until the next prepare). */
    public prepare(logits: Float32Array): this {
        const n = logits.length;
        this.logits = logits;
        if (this.isKept.length !== n)
            this.isKept = new Uint8Array(n);
        const T = this.greedy ? 1 : this.sampler.temperature;
        const { topK, topP, minP } = this.sampler;
        const useTopK = !this.greedy && topK > 0 && topK < n;
        const { max, logZ1, logZT, topIds } = this.normalise(logits, this.greedy ? GREEDY_SOFT_TEMPERATURE : T, useTopK ? topK : 0);
        this.max = max;
        this.logZAll = this.greedy || T === 1 ? logZ1 : logZT;
        if (this.greedy) {
            this.logZSharp = logZT;
            return this;
        }
        // the sampler's chain (TokenSampler): top-k, softmax at T over the survivors, min-p, top-p
        for (let j = 0; j < this.keptCount; j++)
            this.isKept[this.keptIds[j]!] = 0;
        this.keptCount = 0;
        // nothing filtered: q is softmax(z/T) itself, whose normaliser is the whole row's (no
        // O(nVocab) collection of a kept set, which cost milliseconds per row at 128k tokens)
        this.keepsAll = !useTopK && minP === 0 && topP >= 1;
        if (this.keepsAll) {
            this.logZSharp = this.logZAll;
            return this;
        }
        const size = useTopK ? topK : n;
        if (this.topIds.length < size) {
            this.topIds = new Int32Array(size);
            this.topValues = new Float64Array(size);
            this.keptIds = new Int32Array(size);
            this.kept = new Float64Array(size);
        }
        let count: number;
        let survivorsSum = 0;
        if (useTopK) {
            if (topIds != null) {
                count = topIds.length;
                for (let j = 0; j < count; j++) {
                    this.topIds[j] = topIds[j]!;
                    this.topValues[j] = logits[topIds[j]!]!;
                }
            } else
                count = selectTopLogits(logits, topK, this.topIds, this.topValues);
            for (let j = 0; j < count; j++)
                survivorsSum += Math.exp((this.topValues[j]! - max) / T);
        } else {
            // every token survives top-k: their sum is the whole row's; only those min-p can keep
            // are collected
            survivorsSum = Math.exp(this.logZAll);
            const cut = minP > 0 ? max + T * (Math.log(minP) - MIN_P_MARGIN) : -Infinity;
            count = 0;
            for (let i = 0; i < n; i++) {
                if (logits[i]! > -Infinity && logits[i]! >= cut) {
                    this.topIds[count] = i;
                    this.topValues[count++] = logits[i]!;
                }
            }
        }
        // min-p: p ≥ minP·p_max, i.e. exp((z − max)/T) ≥ minP
        let kept = 0;
        for (let j = 0; j < count; j++) {
            const e = Math.exp((this.topValues[j]! - max) / T);
            if (e / survivorsSum > 0 && e >= minP) {
                this.keptIds[kept] = this.topIds[j]!;
                this.kept[kept++] = e;
            }
        }
        if (topP < 1) {
            const order = Array.from({ length: kept }, (_, j) => j).sort((a, b) => this.kept[b]! - this.kept[a]! || this.keptIds[a]! - this.keptIds[b]!);
            let mass = 0, cut = kept;
            for (let r = 0; r < order.length; r++) {
                mass += this.kept[order[r]!]! / survivorsSum;
                if (mass >= topP) {
                    cut = r + 1;
                    break;
                }
            }
            const ids = order.slice(0, cut).map((j) => this.keptIds[j]!);
            const values = order.slice(0, cut).map((j) => this.kept[j]!);
            kept = cut;
            this.keptIds.set(ids);
            this.kept.set(values);
        }
        this.keptCount = kept;
        let keptSum = 0;
        for (let j = 0; j < kept; j++) {
            keptSum += this.kept[j]!;
            this.isKept[this.keptIds[j]!] = 1;
        }
        this.logZSharp = Math.log(keptSum);
        return this;
    }

    /** log q̃(id) at the prepared position */
    public logProb(id: number): number {
        const epsilon = LIKELIHOOD_FLOOR;
        const shifted = this.logits[id]! - this.max;
        if (this.greedy)
            return Math.log((1 - epsilon) * Math.exp(shifted / GREEDY_SOFT_TEMPERATURE - this.logZSharp) + epsilon * Math.exp(shifted - this.logZAll));
        const T = this.sampler.temperature;
        const floor = epsilon * Math.exp(shifted / T - this.logZAll);
        return Math.log(this.keepsAll || this.isKept[id] === 1 ? floor + (1 - epsilon) * Math.exp(shifted / T - this.logZSharp) : floor);
    }

    /** log q̃ of every token into `out` (length nVocab) */
    public logDistribution(logits: Float32Array, out: Float64Array): Float64Array {
        this.prepare(logits);
        for (let i = 0; i < logits.length; i++)
            out[i] = this.logProb(i);
        return out;
    }
}

/** The token's logit is within ARGMAX_TOLERANCE of the largest. */
export function isNearArgmax(logits: Float32Array, id: number): boolean {
    let max = -Infinity;
    for (let i = 0; i < logits.length; i++)
        max = Math.max(max, logits[i]!);
    return logits[id]! >= max - ARGMAX_TOLERANCE;
}

/** How many tokens have a strictly larger logit (0: the argmax). */
export function tokenRank(logits: Float32Array, id: number): number {
    const value = logits[id]!;
    let rank = 0;
    for (let i = 0; i < logits.length; i++) {
        if (logits[i]! > value)
            rank++;
    }
    return rank;
}
