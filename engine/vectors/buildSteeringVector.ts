// Building a steering vector from contrastive pairs: one direction per layer, with per-layer
// diagnostics so the user can pick layers and a strength.
//
// Methods (per layer l, features h⁺ᵢ, h⁻ᵢ of pair i):
//   mean        v = mean(h⁺) − mean(h⁻)                         (CAA's mean difference)
//   pca-diff    dominant direction of the differences h⁺ᵢ − h⁻ᵢ (repeng's default; uncentred, so a
//               shift that every pair shares is kept rather than subtracted away)
//   pca-center  first principal component of h± minus their pair's mean (repeng's pca_center)
// The sign is fixed so that positives project higher than negatives. PCA directions are unit
// vectors scaled to the mean separation along them, |⟨mean(h⁺) − mean(h⁻), v̂⟩|, so that α = 1
// moves a negative example's mean to the positive one's along v̂ for every method alike.
import { TillerError } from "../protocol/TillerError.js";
import { assertSteerableRange, type LayerRange } from "../runtime/layers.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { collectPairActivations, type PairActivations } from "./collectPairActivations.js";
import { tokenizePair, type PairTexts, type ReadPosition } from "./pairTokens.js";
import { auroc, dot64, firstPrincipalComponent, meanRow, norm64, standardizedMeanDifference } from "./vectorStatistics.js";

export type BuildMethod = "mean" | "pca-diff" | "pca-center";

export interface BuildVectorOptions {
    /** default "mean" */
    method?: BuildMethod;
    /** default "last" */
    readAt?: ReadPosition;
    /** blocks to build directions for (llama.cpp numbering); default every steerable block */
    layers?: LayerRange;
    /** share of pairs held out of building and used only for the held-out separation; default 0.2 (0 = none) */
    heldOutFraction?: number;
    /** shuffles the held-out split; default 0 */
    seed?: number;
    name?: string;
    signal?: AbortSignal;
    onProgress?(pairsDone: number, pairsTotal: number): void;
}

export interface LayerDiagnostics {
    layer: number;
    /** ‖v_l‖ of the built direction */
    norm: number;
    /** mean ‖h_l‖ over every example: the scale a strength is measured against */
    activationNorm: number;
    /** AUROC of ⟨h, v̂⟩ separating positives from negatives, on the pairs used to build */
    trainAuroc: number;
    /** the same on held-out pairs (NaN when none are held out) */
    heldOutAuroc: number;
    /** Cohen's d of the projections, held-out pairs when there are any, else training pairs */
    standardizedMeanDifference: number;
}

export interface BuiltVector {
    vector: SteeringVector;
    method: BuildMethod;
    readAt: ReadPosition;
    diagnostics: LayerDiagnostics[];
    /** the layer whose held-out (else training) AUROC is highest */
    bestLayer: number;
    trainPairs: number;
    heldOutPairs: number;
    elapsedMs: number;
}

function heldOutSplit(count: number, fraction: number, seed: number): { train: number[]; heldOut: number[] } {
    const order = Array.from({ length: count }, (_, i) => i);
    let state = (seed >>> 0) || 0x9e3779b9;
    for (let i = count - 1; i > 0; i--) {
        state = (state * 1664525 + 1013904223) >>> 0;
        const j = state % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const heldOutCount = fraction > 0 ? Math.max(1, Math.round(count * fraction)) : 0;
    if (count - heldOutCount < 1)
        throw new TillerError("INVALID_ARGUMENT", `holding out ${heldOutCount} of ${count} pairs leaves none to build from`);
    return { heldOut: order.slice(0, heldOutCount).sort((a, b) => a - b), train: order.slice(heldOutCount).sort((a, b) => a - b) };
}

function meanDifferenceOf(positive: readonly Float32Array[], negative: readonly Float32Array[], d: number): Float64Array {
    const negativeMean = meanRow(negative, d);
    return meanRow(positive, d).map((value, i) => value - negativeMean[i]!);
}

function directionFor(method: BuildMethod, positive: Float32Array[], negative: Float32Array[], d: number): Float64Array {
    const meanDifference = meanDifferenceOf(positive, negative, d);
    if (method === "mean")
        return meanDifference;
    const rows: Float64Array[] = [];
    if (method === "pca-diff") {
        for (let i = 0; i < positive.length; i++)
            rows.push(Float64Array.from(positive[i]!, (value, k) => value - negative[i]![k]!));
    } else {
        for (let i = 0; i < positive.length; i++) {
            const center = Float64Array.from(positive[i]!, (value, k) => (value + negative[i]![k]!) / 2);
            rows.push(Float64Array.from(positive[i]!, (value, k) => value - center[k]!));
            rows.push(Float64Array.from(negative[i]!, (value, k) => value - center[k]!));
        }
    }
    const unit = firstPrincipalComponent(rows, d, { centre: method === "pca-center" });
    const separation = dot64(meanDifference, unit);
    return unit.map((value) => value * separation); // sign and scale from the mean separation
}

function projections(rows: readonly Float32Array[], indices: readonly number[], unit: Float64Array): number[] {
    return indices.map((i) => dot64(rows[i]!, unit));
}

/** Builds the vector from activations already collected (pure: no model needed). */
export function buildFromActivations(activations: PairActivations, options: BuildVectorOptions & { pairCount: number }): Omit<BuiltVector, "elapsedMs"> {
    const method = options.method ?? "mean";
    const { train, heldOut } = heldOutSplit(options.pairCount, options.heldOutFraction ?? 0.2, options.seed ?? 0);
    const directions = new Map<number, Float32Array>();
    const diagnostics: LayerDiagnostics[] = [];
    const d = activations.nEmbd;
    for (const layer of activations.layers) {
        const positive = activations.positive.get(layer)!;
        const negative = activations.negative.get(layer)!;
        let direction = directionFor(method, train.map((i) => positive[i]!), train.map((i) => negative[i]!), d);
        const meanDifference = meanDifferenceOf(train.map((i) => positive[i]!), train.map((i) => negative[i]!), d);
        if (dot64(direction, meanDifference) < 0)
            direction = direction.map((value) => -value);
        const norm = norm64(direction);
        const unit = direction.map((value) => value / (norm || 1));
        const evaluate = heldOut.length > 0 ? heldOut : train;
        const all = [...positive, ...negative];
        diagnostics.push({
            layer,
            norm,
            activationNorm: all.reduce((sum, row) => sum + norm64(row), 0) / all.length,
            trainAuroc: auroc(projections(positive, train, unit), projections(negative, train, unit)),
            heldOutAuroc: heldOut.length > 0 ? auroc(projections(positive, heldOut, unit), projections(negative, heldOut, unit)) : Number.NaN,
            standardizedMeanDifference: standardizedMeanDifference(projections(positive, evaluate, unit), projections(negative, evaluate, unit))
        });
        directions.set(layer, Float32Array.from(direction));
    }
    const score = (entry: LayerDiagnostics) => (Number.isNaN(entry.heldOutAuroc) ? entry.trainAuroc : entry.heldOutAuroc);
    const best = diagnostics.reduce((top, entry) => (score(entry) > score(top) ? entry : top), diagnostics[0]!);
    return {
        vector: { name: options.name ?? "vector", nEmbd: d, directions },
        method,
        readAt: options.readAt ?? "last",
        diagnostics,
        bestLayer: best.layer,
        trainPairs: train.length,
        heldOutPairs: heldOut.length
    };
}

/**
 * Evaluates every pair once (shared prefixes once), reads every requested layer from that pass,
 * and builds the vector. The context must not be running anything else.
 */
export async function buildSteeringVector(context: TillerContext, pairs: readonly PairTexts[], options: BuildVectorOptions = {}): Promise<BuiltVector> {
    const started = performance.now();
    if (pairs.length === 0)
        throw new TillerError("INVALID_ARGUMENT", "there are no pairs to build a vector from");
    const { nLayer } = context.model.shape;
    const range = options.layers ?? { first: 1, last: nLayer - 1 };
    assertSteerableRange(range, nLayer);
    const layers = Array.from({ length: range.last - range.first + 1 }, (_, i) => range.first + i);
    const readAt = options.readAt ?? "last";
    const tokens = pairs.map((pair) => tokenizePair(context.model, pair, readAt));
    const release = context.claim("building a vector");
    try {
        const activations = await collectPairActivations(context, tokens, layers, options);
        return { ...buildFromActivations(activations, { ...options, pairCount: pairs.length }), elapsedMs: performance.now() - started };
    } finally {
        release();
    }
}
