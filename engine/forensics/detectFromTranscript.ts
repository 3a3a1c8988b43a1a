// Blind patch detection from a transcript: the weights are known, the patch is not. The detector
// sees the prompt, the emitted tokens and the claimed sampler (and optionally a vector library),
// never the patch or the patched activations.
//
// Evidence is the likelihood of the emitted tokens under the claimed sampler (claimedSampler.ts):
//   clean             q̃₀(y_k)                               one teacher-forced pass
//   hypothesis h      q̃_h(y_k), h = vector × layer range × α  one suffix decode each, clean prefix shared
//   llr_k(h)          log q̃_h(y_k) − log q̃₀(y_k)
// and the tests are
//   greedy text       exact: the clean greedy sampler can only emit its argmax, so one token that is
//                     not the clean argmax (beyond a numerical tolerance) rules the clean model out;
//   library GLRT      G = max_h max_{on/off path} Σ_on llr_k(h) − penalty·switches (segmentOnOff);
//   score test        S = max_h max_k0 |Σ_{k≥k0} u_k| / √(Σ I_k + ridge), u_k = ∂ log q̃_α(y_k)/∂α at 0:
//                     the locally most powerful test for weak patches (one ± pair of decodes per h);
//   free (no library) F = max_k0 |Σ_{k≥k0} (s_k − E s_k)| / √(Σ Var s_k + 1), s_k = −log q̃₀(y_k):
//                     a CUSUM of the standardised surprise, for directions that are not in the library.
// The sampled-text statistics are calibrated by simulating the clean model's own sampling: at each
// observed position, `nullDraws` tokens are drawn from q̃₀ and pushed through the same statistic
// (the same hypotheses' distributions at that position). This "conditional" simulation reuses the
// observed prefixes, so it costs no extra decode; the benchmark measures how well it holds on
// real clean runs (observed false-positive rate).
//
// The hypothesis sweep approximates a patch from token k₀ by one that acts on every generated
// token (one decode per hypothesis); the leaders are then refitted exactly: their on/off mask is
// decoded as such (the prefix before the onset clean and shared), α is refined by golden section
// and the onset is moved ±3 tokens to the best exact likelihood.
import { TillerError } from "../protocol/TillerError.js";
import type { ForensicsCandidate, ForensicsDetectResult, ForensicsTokenEvidence, TokenInterval } from "../protocol/forensics.js";
import { assertSteerableRange, type LayerRange } from "../runtime/layers.js";
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import { composeControlVector, type ComposedControlVector } from "../runtime/SteeringPatch.js";
import { assertVectorFitsModel, vectorNorm, type SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { empiricalPValue } from "./empiricalPValue.js";
import { isGreedy, isNearArgmax, logSoftmaxInto, SamplerLikelihood, tokenRank, type ClaimedSampler } from "./claimedSampler.js";
import { nativeRowNormaliser } from "./nativeRowNormaliser.js";
import { maskOf, segmentationScore, segmentOnOff } from "./segmentOnOff.js";
import { TranscriptScorer } from "./TranscriptScorer.js";

export interface LibraryVector {
    /** the library's id (what the result names) */
    id: string;
    name: string;
    vector: SteeringVector;
}

export interface Transcript {
    /** the prompt as the model saw it (BOS included) */
    promptTokens: Int32Array;
    /** the emitted tokens, generated token 0 first */
    emitted: Int32Array;
    sampler: ClaimedSampler;
}

export interface BlindDetectionOptions {
    /**
     * the ranges of the test grid; default: every single steerable block (up to 6, evenly spaced)
     * and the full range. When not given, the two leading vectors are also tried on every other
     * contiguous range (at most 4 steerable blocks) near their best α, for attribution only.
     */
    layerRanges?: readonly LayerRange[];
    /** default ±{0.5, 1, 2, 4} */
    alphas?: readonly number[];
    /** default 200 */
    nullDraws?: number;
    /** default 0.01 */
    significance?: number;
    /** seed of the null simulation (results are deterministic); default 1 */
    seed?: number;
    /** hypotheses refitted exactly; default 2 */
    leaders?: number;
    signal?: AbortSignal;
    onProgress?(done: number, total: number, label: string): void;
}

export type BlindDetectionReport = Omit<ForensicsDetectResult, "detectionId">;

export const DEFAULT_ALPHAS: readonly number[] = [-4, -2, -1, -0.5, 0.5, 1, 2, 4];

/** the finite-difference step of the score test (α units) */
const SCORE_STEP = 0.1;

/** a sampled transcript's tokens, standardised surprise above this under the best hypothesis: not explained by it */
const RESIDUAL_SURPRISE_LIMIT = 3;

interface Hypothesis {
    entry: LibraryVector;
    layers: LayerRange;
    alpha: number;
    /** segmentation score of the approximate (always-on) llr */
    score: number;
    llr: Float64Array;
}

interface Fit {
    entry: LibraryVector;
    layers: LayerRange;
    alpha: number;
    mask: Uint8Array;
    llr: Float64Array;
    logits: Float32Array[];
    total: number;
}

/** The test grid's ranges: up to 6 single blocks, evenly spaced, and the full steerable range. */
export function defaultLayerRanges(nLayer: number): LayerRange[] {
    const steerable = nLayer - 1;
    if (steerable <= 0)
        return [];
    if (steerable === 1)
        return [{ first: 1, last: 1 }];
    const singles = new Set<number>();
    const count = Math.min(6, steerable);
    for (let i = 0; i < count; i++)
        singles.add(1 + Math.round((i * (steerable - 1)) / Math.max(1, count - 1)));
    return [...[...singles].map((layer) => ({ first: layer, last: layer })), { first: 1, last: steerable }];
}

/** Contiguous multi-block ranges that attribution also tries (none beyond 4 steerable blocks: too many). */
function attributionRanges(nLayer: number, tested: readonly LayerRange[]): LayerRange[] {
    const steerable = nLayer - 1;
    if (steerable > 4)
        return [];
    const ranges: LayerRange[] = [];
    for (let first = 1; first <= steerable; first++) {
        for (let last = first; last <= steerable; last++) {
            if (!tested.some((range) => range.first === first && range.last === last))
                ranges.push({ first, last });
        }
    }
    return ranges;
}

function rangeNorm(vector: SteeringVector, layers: LayerRange): number {
    let sum = 0;
    for (let layer = layers.first; layer <= layers.last; layer++) {
        const direction = vector.directions.get(layer);
        if (direction != null)
            sum += vectorNorm(direction) ** 2;
    }
    return Math.sqrt(sum);
}

function klRaw(p: Float64Array, q: Float64Array): number {
    let sum = 0;
    for (let i = 0; i < p.length; i++) {
        const pi = Math.exp(p[i]!);
        if (pi > 0)
            sum += pi * (p[i]! - q[i]!);
    }
    return Math.max(0, sum);
}

/** Two-sided CUSUM over onsets: max_k0 |Σ_{k≥k0} x_k| / √(Σ_{k≥k0} Var x_k + ridge). */
function cusumStatistic(excess: ArrayLike<number>, variance: ArrayLike<number>, ridge: number): number {
    let sum = 0, varSum = 0, best = 0;
    for (let k = excess.length - 1; k >= 0; k--) {
        sum += excess[k]!;
        varSum += variance[k]!;
        best = Math.max(best, Math.abs(sum) / Math.sqrt(varSum + ridge));
    }
    return best;
}

/** The free statistic: the surprise CUSUM (ridge 1 nat², so a lone token cannot dominate). */
function freeStatistic(excess: ArrayLike<number>, variance: ArrayLike<number>): number {
    return cusumStatistic(excess, variance, 1);
}

export async function detectFromTranscript(context: TillerContext, transcript: Transcript, library: readonly LibraryVector[],
    options: BlindDetectionOptions = {}): Promise<BlindDetectionReport> {
    const started = performance.now();
    const model = context.model;
    const { nLayer, nVocab } = model.shape;
    const { promptTokens, emitted, sampler } = transcript;
    const n = emitted.length;
    if (n === 0)
        throw new TillerError("INVALID_ARGUMENT", "the transcript has no emitted tokens");
    for (const entry of library)
        assertVectorFitsModel(entry.vector, model.shape);
    const ranges = options.layerRanges ?? defaultLayerRanges(nLayer);
    for (const range of ranges)
        assertSteerableRange(range, nLayer);
    const alphas = options.alphas ?? DEFAULT_ALPHAS;
    if (alphas.some((alpha) => !Number.isFinite(alpha) || alpha === 0))
        throw new TillerError("INVALID_ARGUMENT", "every α to try must be finite and non-zero");
    const draws = options.nullDraws ?? 200;
    if (!Number.isInteger(draws) || draws < 1)
        throw new TillerError("INVALID_ARGUMENT", `nullDraws must be a whole number ≥ 1, got ${draws}`);
    const significance = options.significance ?? 0.01;
    const greedy = isGreedy(sampler);
    const likelihood = new SamplerLikelihood(sampler, nativeRowNormaliser(context.model.backend.addon));
    const warnings: string[] = [];

    const grid: { entry: LibraryVector; layers: LayerRange; alpha: number; steering: ComposedControlVector }[] = [];
    for (const entry of library) {
        for (const layers of ranges) {
            for (const alpha of alphas) {
                const steering = composeControlVector([{ id: "hypothesis", vector: entry.vector, strength: alpha, layers }], 0, model.shape);
                if (steering != null)
                    grid.push({ entry, layers, alpha, steering });
            }
        }
    }
    if (library.length > 0 && grid.length === 0)
        warnings.push("no library vector has a direction in the layer ranges tried");
    const leaderCount = options.leaders ?? 2;
    const plannedRefits = Math.min(leaderCount, library.length * ranges.length) * 16;
    const total = 1 + grid.length + library.length * ranges.length + plannedRefits;
    let done = 0;
    const progress = (label: string) => options.onProgress?.(++done, total, label);

    const scorer = await TranscriptScorer.open(context, promptTokens, emitted, options.signal);
    try {
        progress("clean pass");
        // ---- the clean model: likelihoods, surprise, null draws ----------------------------------
        const logQ = new Float64Array(nVocab);
        const cleanLogprob = new Float64Array(n);
        const surpriseExcess = new Float64Array(n);
        const surpriseVariance = new Float64Array(n);
        const cleanArgmax: boolean[] = [];
        const drawIds = new Int32Array(n * draws);
        const drawClean = new Float64Array(n * draws);
        const random = new SeededRandom(options.seed ?? 1);
        const cumulative = new Float64Array(nVocab);
        for (let k = 0; k < n; k++) {
            const logits = scorer.clean(k);
            likelihood.logDistribution(logits, logQ);
            const y = emitted[k]!;
            cleanLogprob[k] = logQ[y]!;
            cleanArgmax.push(isNearArgmax(logits, y));
            let mean = 0, second = 0, running = 0;
            for (let i = 0; i < nVocab; i++) {
                const q = Math.exp(logQ[i]!);
                mean += q * -logQ[i]!;
                second += q * logQ[i]! * logQ[i]!;
                running += q;
                cumulative[i] = running;
            }
            surpriseExcess[k] = -logQ[y]! - mean;
            surpriseVariance[k] = Math.max(0, second - mean * mean);
            // the clean greedy sampler emits its argmax, always; a sampled one draws from q̃₀
            const argmax = greedy ? argmaxOf(logits) : -1;
            for (let m = 0; m < draws; m++) {
                let id = argmax;
                if (!greedy) {
                    const target = random.next() * running;
                    id = lowerBound(cumulative, target);
                }
                drawIds[k * draws + m] = id;
                drawClean[k * draws + m] = logQ[id]!;
            }
        }
        const surprise = Array.from(surpriseExcess, (excess, k) => excess / Math.sqrt(surpriseVariance[k]! + 1e-12));

        // free test: observed and simulated
        const freeObserved = freeStatistic(surpriseExcess, surpriseVariance);
        const freeNull = new Float64Array(draws);
        {
            const excess = new Float64Array(n);
            for (let m = 0; m < draws; m++) {
                // E s_k = −log q̃₀(y_k) − excess_k
                for (let k = 0; k < n; k++)
                    excess[k] = -drawClean[k * draws + m]! - (-cleanLogprob[k]! - surpriseExcess[k]!);
                freeNull[m] = freeStatistic(excess, surpriseVariance);
            }
        }
        const freePValue = empiricalPValue(freeObserved, freeNull).pValue;

        // ---- the hypothesis sweep (always on from generated token 0) ------------------------------
        const hypotheses: Hypothesis[] = [];
        const nullMax = new Float64Array(draws);
        const nullLlr = new Float64Array(n * draws);
        for (const { entry, layers, alpha, steering } of grid) {
            const rows = await scorer.score(steering);
            const llr = new Float64Array(n);
            for (let k = 0; k < n; k++) {
                likelihood.prepare(rows[k]!);
                llr[k] = likelihood.logProb(emitted[k]!) - cleanLogprob[k]!;
                for (let m = 0; m < draws; m++)
                    nullLlr[m * n + k] = likelihood.logProb(drawIds[k * draws + m]!) - drawClean[k * draws + m]!;
            }
            for (let m = 0; m < draws; m++)
                nullMax[m] = Math.max(nullMax[m]!, segmentationScore(nullLlr.subarray(m * n, (m + 1) * n)));
            hypotheses.push({ entry, layers, alpha, llr, score: segmentationScore(llr) });
            progress("hypotheses");
        }
        const libraryObserved = hypotheses.reduce((best, h) => Math.max(best, h.score), 0);
        const libraryPValue = hypotheses.length === 0 ? null : empiricalPValue(libraryObserved, nullMax).pValue;

        // ---- the score test: weak patches, linear response at α = 0 ---------------------------------
        // u_k = ∂ log q̃_α(y_k)/∂α at 0 (central difference, ±SCORE_STEP) per vector × range; its
        // variance under the clean sampler I_k (from the null draws); statistic: the two-sided CUSUM
        // max over onsets of |Σ u_k| / √(Σ I_k + ridge), maximised over the hypotheses.
        const pairs = new Map<string, { entry: LibraryVector; layers: LayerRange }>();
        for (const { entry, layers } of grid)
            pairs.set(`${entry.id}\u0000${layers.first}-${layers.last}`, { entry, layers });
        let scoreObserved = 0;
        const scoreNull = new Float64Array(draws);
        if (!greedy) { // greedy text is judged exactly; the score test would only cost decodes
            const u = new Float64Array(n), info = new Float64Array(n), uNull = new Float64Array(n * draws);
            const plusDraws = new Float64Array(draws);
            for (const { entry, layers } of pairs.values()) {
                const steer = (alpha: number) => composeControlVector([{ id: "score", vector: entry.vector, strength: alpha, layers }], 0, model.shape);
                const plus = await scorer.score(steer(SCORE_STEP));
                const minus = await scorer.score(steer(-SCORE_STEP));
                for (let k = 0; k < n; k++) {
                    likelihood.prepare(plus[k]!);
                    const plusY = likelihood.logProb(emitted[k]!);
                    for (let m = 0; m < draws; m++)
                        plusDraws[m] = likelihood.logProb(drawIds[k * draws + m]!);
                    likelihood.prepare(minus[k]!);
                    let mean = 0;
                    for (let m = 0; m < draws; m++) {
                        const value = (plusDraws[m]! - likelihood.logProb(drawIds[k * draws + m]!)) / (2 * SCORE_STEP);
                        uNull[m * n + k] = value;
                        mean += value / draws;
                    }
                    let variance = 0;
                    for (let m = 0; m < draws; m++) {
                        uNull[m * n + k] = uNull[m * n + k]! - mean;
                        variance += uNull[m * n + k]! ** 2 / draws;
                    }
                    u[k] = (plusY - likelihood.logProb(emitted[k]!)) / (2 * SCORE_STEP) - mean;
                    info[k] = variance;
                }
                const ridge = info.reduce((sum, value) => sum + value, 0) / n + 1e-9;
                scoreObserved = Math.max(scoreObserved, cusumStatistic(u, info, ridge));
                for (let m = 0; m < draws; m++)
                    scoreNull[m] = Math.max(scoreNull[m]!, cusumStatistic(uNull.subarray(m * n, (m + 1) * n), info, ridge));
                progress("score test");
            }
        }
        const scorePValue = pairs.size === 0 || greedy ? null : empiricalPValue(scoreObserved, scoreNull).pValue;

        // ---- attribution: the two leading vectors on the other ranges, near their best α ------------
        if (options.layerRanges == null) {
            const leadersByVector = new Map<string, Hypothesis>();
            for (const h of hypotheses) {
                const current = leadersByVector.get(h.entry.id);
                if (current == null || h.score > current.score)
                    leadersByVector.set(h.entry.id, h);
            }
            const leading = [...leadersByVector.values()].sort((a, b) => b.score - a.score).slice(0, 2).filter((h) => h.score > 0);
            for (const lead of leading) {
                for (const layers of attributionRanges(nLayer, ranges)) {
                    for (const alpha of [lead.alpha / 2, lead.alpha, lead.alpha * 2]) {
                        const steering = composeControlVector([{ id: "hypothesis", vector: lead.entry.vector, strength: alpha, layers }], 0, model.shape);
                        if (steering == null)
                            continue;
                        const rows = await scorer.score(steering);
                        const llr = Float64Array.from(rows, (row, k) => likelihood.prepare(row).logProb(emitted[k]!) - cleanLogprob[k]!);
                        hypotheses.push({ entry: lead.entry, layers, alpha, llr, score: segmentationScore(llr) });
                    }
                }
            }
        }

        // ---- refit the leaders exactly -------------------------------------------------------------
        const byGroup = new Map<string, Hypothesis>();
        for (const h of hypotheses) {
            const key = `${h.entry.id}\u0000${h.layers.first}-${h.layers.last}`;
            const current = byGroup.get(key);
            if (current == null || h.score > current.score)
                byGroup.set(key, h);
        }
        const groups = [...byGroup.values()].sort((a, b) => b.score - a.score);
        const evaluate = async (entry: LibraryVector, layers: LayerRange, alpha: number, mask: Uint8Array): Promise<Fit> => {
            const steering = composeControlVector([{ id: "fit", vector: entry.vector, strength: alpha, layers }], 0, model.shape);
            const logits = await scorer.score(steering, mask);
            const llr = new Float64Array(n);
            for (let k = 0; k < n; k++) {
                if (mask[k] === 1)
                    llr[k] = likelihood.prepare(logits[k]!).logProb(emitted[k]!) - cleanLogprob[k]!;
            }
            progress("refitting the leaders");
            return { entry, layers, alpha, mask, llr, logits, total: llr.reduce((sum, value) => sum + value, 0) };
        };
        const fits: Fit[] = [];
        for (const leader of groups.slice(0, leaderCount)) {
            const segmentation = segmentOnOff(leader.llr);
            if (segmentation.intervals.length === 0)
                continue;
            fits.push(await refit(leader, maskOf(segmentation.intervals, n), evaluate));
        }
        fits.sort((a, b) => b.total - a.total);
        const bestFit = fits[0];

        // ---- the verdict ---------------------------------------------------------------------------
        const greedyInconsistent = greedy ? cleanArgmax.flatMap((ok, k) => (ok ? [] : [k])) : null;
        let pValue: number;
        if (greedyInconsistent != null)
            pValue = greedyInconsistent.length > 0 ? 0 : 1;
        else
            pValue = libraryPValue == null || scorePValue == null ? freePValue : Math.min(1, 3 * Math.min(libraryPValue, scorePValue, freePValue));
        const libraryFires = (libraryPValue != null && libraryPValue <= significance) || (scorePValue != null && scorePValue <= significance);
        const steered = pValue <= significance;

        let verdict: BlindDetectionReport["verdict"] = "clean";
        let explained = false;
        const bestLogQ = new Float64Array(nVocab);
        if (bestFit != null) {
            if (greedyInconsistent != null) {
                let left = 0;
                for (let k = 0; k < n; k++) {
                    const logits = bestFit.mask[k] === 1 ? bestFit.logits[k]! : scorer.clean(k);
                    if (!isNearArgmax(logits, emitted[k]!))
                        left++;
                }
                explained = left <= Math.floor(0.25 * greedyInconsistent.length);
                if (greedyInconsistent.length >= 8 && greedyInconsistent.length >= 0.3 * n && left >= 0.3 * n) {
                    const farOff = emitted.filter((id, k) => tokenRank(scorer.clean(k), id) >= 10).length;
                    if (farOff >= 0.3 * n)
                        throw new TillerError("INVALID_ARGUMENT", `the sampler settings could not have produced this text: it claims greedy decoding, but ${farOff} of its ${n} tokens ` +
                            "are not among the clean model's 10 most likely, and no library hypothesis makes them the most likely; if it was sampled, give its temperature");
                }
            } else {
                let excess = 0, variance = 0;
                for (let k = 0; k < n; k++) {
                    if (bestFit.mask[k] !== 1)
                        continue;
                    likelihood.logDistribution(bestFit.logits[k]!, bestLogQ);
                    let mean = 0, second = 0;
                    for (let i = 0; i < nVocab; i++) {
                        const q = Math.exp(bestLogQ[i]!);
                        mean += q * -bestLogQ[i]!;
                        second += q * bestLogQ[i]! ** 2;
                    }
                    excess += -bestLogQ[emitted[k]!]! - mean;
                    variance += Math.max(0, second - mean * mean);
                }
                explained = libraryFires && excess / Math.sqrt(variance + 1) <= RESIDUAL_SURPRISE_LIMIT;
            }
        }
        if (steered)
            verdict = explained ? "library" : "outside-library";

        // ---- per-token evidence, onset, intervals ---------------------------------------------------
        const rawBest = new Float64Array(nVocab);
        const rawClean = new Float64Array(nVocab);
        const tokens: ForensicsTokenEvidence[] = Array.from(emitted, (id, k) => {
            const cleanLogits = scorer.clean(k);
            const bestLogits = bestFit?.logits[k] ?? cleanLogits;
            logSoftmaxInto(cleanLogits, 1, rawClean);
            logSoftmaxInto(bestLogits, 1, rawBest);
            const llr = bestFit != null ? likelihood.logDistribution(bestLogits, bestLogQ)[id]! - cleanLogprob[k]! : 0;
            return {
                index: k, id, piece: model.tokenText(id),
                cleanLogprob: cleanLogprob[k]!, bestLogprob: cleanLogprob[k]! + llr, llr,
                kl: klRaw(rawBest, rawClean), deltaLogprob: rawBest[id]! - rawClean[id]!,
                cleanArgmax: cleanArgmax[k]!, surprise: surprise[k]!,
                engaged: bestFit?.mask[k] === 1
            };
        });
        let intervals: TokenInterval[] = [];
        let onsetToken: number | null = null;
        let onsetRange: [number, number] | null = null;
        if (steered) {
            intervals = bestFit != null && verdict === "library" ? intervalsFrom(bestFit.mask) : freeIntervals(surpriseExcess, greedyInconsistent);
            onsetToken = intervals[0]?.from ?? null;
            if (greedyInconsistent != null && greedyInconsistent.length > 0) {
                const latest = greedyInconsistent[0]!;
                onsetToken = Math.min(onsetToken ?? latest, latest);
                onsetRange = [onsetToken, latest];
            }
        }
        const conditional = intervals.length > 1 || (intervals.length === 1 && intervals[0]!.until < n);

        const candidateOf = (entry: LibraryVector, layers: LayerRange, alpha: number, logLr: number, mask: Uint8Array | null): ForensicsCandidate => {
            const its = mask != null ? intervalsFrom(mask) : [];
            return { vectorId: entry.id, name: entry.name, layers, alpha, norm: rangeNorm(entry.vector, layers), logLrVsClean: logLr, onsetToken: its[0]?.from ?? null, intervals: its };
        };
        const candidates: ForensicsCandidate[] = [
            ...fits.map((fit) => candidateOf(fit.entry, fit.layers, fit.alpha, fit.total, fit.mask)),
            ...groups.slice(leaderCount).slice(0, 10).map((h) => {
                const segmentation = segmentOnOff(h.llr);
                return candidateOf(h.entry, h.layers, h.alpha, segmentation.score, maskOf(segmentation.intervals, n));
            })
        ];
        let best: BlindDetectionReport["best"] = null;
        if (bestFit != null) {
            const rival = candidates.find((candidate) => candidate.vectorId !== bestFit.entry.id) ?? null;
            best = {
                ...candidateOf(bestFit.entry, bestFit.layers, bestFit.alpha, bestFit.total, bestFit.mask),
                logLrVsRunnerUp: rival != null ? bestFit.total - rival.logLrVsClean : null,
                runnerUp: rival?.name ?? null
            };
        }
        return {
            method: greedy ? "greedy-exact" : "likelihood-ratio",
            steered, pValue, significance, verdict,
            tests: {
                library: libraryPValue == null ? null : { name: "library GLRT: max over hypotheses and on/off paths of Σ llr − 3·switches (nats)", statistic: libraryObserved, pValue: libraryPValue },
                score: scorePValue == null ? null : { name: "score test: max over vectors × ranges and onsets of |Σ ∂log q/∂α| / √(Σ I + ridge) at α = 0", statistic: scoreObserved, pValue: scorePValue },
                free: { name: "surprise CUSUM: max over onsets of |Σ (s − E s)| / √(Σ Var s + 1)", statistic: freeObserved, pValue: freePValue },
                greedyInconsistent
            },
            onsetToken, onsetRange, intervals, conditional, best,
            candidates, tokens,
            sampling: { ...sampler },
            promptTokens: promptTokens.length,
            hypotheses: grid.length,
            nullDraws: draws,
            decodes: scorer.decodes,
            warnings,
            elapsedMs: performance.now() - started
        };
    } finally {
        await context.setSteering(null);
        await context.clearMemory();
    }
}

/**
 * Exact refit of a leader: α by golden section on log|α| over [|α|/2.5, 2.5|α|] (same sign), then
 * the first interval's start moved by up to ±3 tokens, each on the exact masked decode.
 */
async function refit(leader: Hypothesis, mask: Uint8Array, evaluate: (entry: LibraryVector, layers: LayerRange, alpha: number, mask: Uint8Array) => Promise<Fit>): Promise<Fit> {
    const { entry, layers } = leader;
    const sign = Math.sign(leader.alpha);
    const cache = new Map<number, Fit>();
    const at = async (logAlpha: number, m: Uint8Array): Promise<Fit> => {
        const key = Math.round(logAlpha * 1e6);
        const hit = m === mask ? cache.get(key) : undefined;
        if (hit != null)
            return hit;
        const fit = await evaluate(entry, layers, sign * Math.exp(logAlpha), m);
        if (m === mask)
            cache.set(key, fit);
        return fit;
    };
    const center = Math.log(Math.abs(leader.alpha));
    let lo = center - Math.log(2.5), hi = center + Math.log(2.5);
    const ratio = (Math.sqrt(5) - 1) / 2;
    let x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo);
    let f1 = await at(x1, mask), f2 = await at(x2, mask);
    for (let i = 0; i < 7; i++) {
        if (f1.total >= f2.total) {
            hi = x2; x2 = x1; f2 = f1; x1 = hi - ratio * (hi - lo); f1 = await at(x1, mask);
        } else {
            lo = x1; x1 = x2; f1 = f2; x2 = lo + ratio * (hi - lo); f2 = await at(x2, mask);
        }
    }
    let best = f1.total >= f2.total ? f1 : f2;
    const first = mask.indexOf(1);
    let end = first;
    while (end < mask.length && mask[end] === 1)
        end++;
    const logAlpha = Math.log(Math.abs(best.alpha));
    for (const shift of [-3, -2, -1, 1, 2, 3]) {
        const start = first + shift;
        if (start < 0 || start >= end)
            continue;
        const moved = Uint8Array.from(mask);
        moved.fill(shift < 0 ? 1 : 0, Math.min(start, first), Math.max(start, first));
        const fit = await at(logAlpha, moved);
        if (fit.total > best.total)
            best = fit;
    }
    return best;
}

function intervalsFrom(mask: Uint8Array): TokenInterval[] {
    const intervals: TokenInterval[] = [];
    for (let k = 0; k < mask.length; k++) {
        if (mask[k] !== 1)
            continue;
        const from = k;
        while (k < mask.length && mask[k] === 1)
            k++;
        intervals.push({ from, until: k });
    }
    return intervals;
}

/** Without a library explanation: greedy, from the first non-argmax token; sampled, the surprise CUSUM's change point. */
function freeIntervals(excess: Float64Array, greedyInconsistent: number[] | null): TokenInterval[] {
    const n = excess.length;
    if (greedyInconsistent != null)
        return greedyInconsistent.length > 0 ? [{ from: greedyInconsistent[0]!, until: n }] : [];
    let sum = 0, best = -Infinity, at = 0;
    for (let k = n - 1; k >= 0; k--) {
        sum += excess[k]!;
        if (Math.abs(sum) > best) {
            best = Math.abs(sum);
            at = k;
        }
    }
    return [{ from: at, until: n }];
}

function argmaxOf(logits: Float32Array): number {
    let best = 0;
    for (let i = 1; i < logits.length; i++) {
        if (logits[i]! > logits[best]!)
            best = i;
    }
    return best;
}

/** first index whose cumulative value exceeds target */
function lowerBound(cumulative: Float64Array, target: number): number {
    let lo = 0, hi = cumulative.length - 1;
    while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid]! > target)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}
