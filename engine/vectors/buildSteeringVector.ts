// Building a steering vector from contrastive pairs: one direction per layer, with per-layer
// diagnostics so the user can pick layers and a strength.
//
// Methods (per layer l, features h⁺ᵢ, h⁻ᵢ of pair i, differences dᵢ = h⁺ᵢ − h⁻ᵢ, d̄ their mean):
//   mean        v = d̄ = mean(h⁺) − mean(h⁻)                    (CAA's mean difference)
//   pca-diff    top eigenvector of the covariance of the differences, Σ (dᵢ − d̄)(dᵢ − d̄)ᵀ: the
//               axis along which the pairs' differences vary most *around* their shared shift d̄
//               (repeng's pca_diff: sklearn's PCA centres its input). It can be nearly orthogonal
//               to d̄ — then it describes how pairs differ from one another, not the concept — and
//               the build warns.
//   pca-center  first principal component of the pair-centred activations h±ᵢ − (h⁺ᵢ + h⁻ᵢ)/2 =
//               ±dᵢ/2 (repeng's pca_center). Pair-centring removes each pair's own location (its
//               topic, its length) but keeps the sign of the concept, so these rows have mean 0
//               whatever the data, and their PCA is the top eigenvector of the *second moment*
//               Σ dᵢdᵢᵀ = Σ (dᵢ − d̄)(dᵢ − d̄)ᵀ + n·d̄d̄ᵀ: the axis of the largest mean squared
//               difference, shared shift included. It lies between the two others — the shift d̄
//               alone (mean) and the spread alone (pca-diff) — and differs from both whenever the
//               differences have a spread and a shift that are not aligned.
// The sign is fixed so that positives project higher than negatives. PCA directions are unit
// vectors û scaled to the mean separation along them, ⟨d̄, û⟩, so that α = 1 moves a negative
// example's mean to the positive one's along û for every method alike. (repeng stores unit
// vectors: its coefficient c is Tiller's α × ‖v_l‖, see the README.)
//
// Separation is measured honestly: pairs carry a group (their template or source); whole groups
// go to a validation and a test split, the best layer is the one with the highest *validation*
// AUROC, and the figures reported for it come from the *test* split, which chose nothing.
import { TillerError } from "../protocol/TillerError.js";
import { assertSteerableRange, type LayerRange } from "../runtime/layers.js";
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { usableCalibration, type LayerCalibration } from "../runtime/vectorCalibration.js";
import { collectPairActivations, type PairActivations } from "./collectPairActivations.js";
import { tokenizePair, type PairTexts, type ReadPosition } from "./pairTokens.js";
import {
    auroc, dot64, firstPrincipalComponent, meanRow, norm64, pairedAccuracy, projectionCalibration, standardizedMeanDifference
} from "./vectorStatistics.js";

export type BuildMethod = "mean" | "pca-diff" | "pca-center";

/** Below this |cos(PCA direction, mean difference)| a PCA direction is reported as nearly orthogonal to the concept's shift. */
export const ORTHOGONAL_WARNING_COSINE = 0.3;

/** Default share of pairs held out: half for validation (choosing the layer), half for test (reporting it). */
export const DEFAULT_HELD_OUT_FRACTION = 0.4;

export interface BuildVectorOptions {
    /** default "mean" */
    method?: BuildMethod;
    /** default "last" */
    readAt?: ReadPosition;
    /** blocks to build directions for (llama.cpp numbering); default every steerable block */
    layers?: LayerRange;
    /**
     * share of pairs held out of building (whole groups), split evenly into validation and test;
     * default 0.4 (0 = none: every figure is then a training figure)
     */
    heldOutFraction?: number;
    /** seeds the split of groups; default 0 */
    seed?: number;
    /** per pair, its group (template / source); default: every pair a group of its own */
    groups?: readonly (string | undefined)[];
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
    /** |cos(v_l, mean difference)| on the training pairs (1 for "mean") */
    cosineToMean: number;
    /** AUROC of ⟨h, v̂⟩ separating positives from negatives, on the pairs used to build */
    trainAuroc: number;
    /** the same on the validation split (NaN when none is held out): what chooses the best layer */
    validationAuroc: number;
    /** the same on the test split (NaN when none is held out): what is reported */
    heldOutAuroc: number;
    /** share of test pairs (training pairs when none is held out) whose positive projects above its negative */
    pairedAccuracy: number;
    /** Cohen's d of the projections, test pairs when there are any, else training pairs */
    standardizedMeanDifference: number;
    /** class midpoint and pooled σ of the training projections (what σ-unit read-outs use) */
    calibration: LayerCalibration;
}

export interface BuiltVector {
    vector: SteeringVector;
    method: BuildMethod;
    readAt: ReadPosition;
    diagnostics: LayerDiagnostics[];
    /** the layer whose validation (else training) AUROC is highest */
    bestLayer: number;
    /** what chose bestLayer */
    bestLayerChosenBy: "validation" | "training";
    trainPairs: number;
    /** validation + test */
    heldOutPairs: number;
    validationPairs: number;
    testPairs: number;
    /** groups in the whole dataset */
    groups: number;
    /** things the user should know (a PCA direction nearly orthogonal to the mean difference, …) */
    warnings: string[];
    elapsedMs: number;
}

export interface PairSplit {
    train: number[];
    validation: number[];
    test: number[];
}

/**
 * Splits pair indices by group: groups are shuffled (splitmix32, seeded) and whole groups go to the
 * test split, then the validation split, until each holds `fraction / 2` of the pairs (at least one
 * group each); the rest train. Needs at least three groups when anything is held out.
 */
export function splitPairsByGroup(groups: readonly (string | undefined)[], fraction: number, seed: number): PairSplit {
    const count = groups.length;
    const all = Array.from({ length: count }, (_, i) => i);
    if (!(fraction >= 0 && fraction < 1))
        throw new TillerError("INVALID_ARGUMENT", `the held-out fraction must be in [0, 1), not ${fraction}`);
    if (fraction === 0)
        return { train: all, validation: [], test: [] };
    const members = new Map<string, number[]>();
    groups.forEach((group, i) => {
        const key = group ?? `\u0000pair ${i}`; // ungrouped pairs: a group each
        members.set(key, [...(members.get(key) ?? []), i]);
    });
    if (members.size < 3)
        throw new TillerError("INVALID_ARGUMENT",
            `holding pairs out needs at least 3 groups (train, validation, test), but the pairs form ${members.size}; use a held-out fraction of 0`);
    const order = [...members.keys()].sort();
    const random = new SeededRandom(seed >>> 0);
    for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random.next() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const target = Math.max(1, Math.round((count * fraction) / 2));
    const take = (from: string[]): number[] => {
        const taken: number[] = [];
        while (from.length > 1 && (taken.length === 0 || taken.length < target))
            taken.push(...members.get(from.shift()!)!);
        return taken;
    };
    const test = take(order);
    const validation = take(order);
    const train = order.flatMap((group) => members.get(group)!);
    if (train.length === 0)
        throw new TillerError("INVALID_ARGUMENT", `holding out ${validation.length + test.length} of ${count} pairs leaves none to build from`);
    const sorted = (indices: number[]) => indices.sort((a, b) => a - b);
    return { train: sorted(train), validation: sorted(validation), test: sorted(test) };
}

function differencesOf(positive: readonly Float32Array[], negative: readonly Float32Array[]): Float64Array[] {
    return positive.map((row, i) => Float64Array.from(row, (value, k) => value - negative[i]![k]!));
}

/** The method's direction (unnormalised for "mean", a unit vector for the PCA methods; sign arbitrary). */
export function rawDirection(method: BuildMethod, positive: readonly Float32Array[], negative: readonly Float32Array[], d: number): Float64Array {
    const differences = differencesOf(positive, negative);
    if (method === "mean")
        return meanRow(differences.map((row) => Float32Array.from(row)), d);
    if (method === "pca-diff")
        return firstPrincipalComponent(differences, d, { centre: true });
    // pca-center: the pair-centred rows ±dᵢ/2; their mean is zero by construction, so centring them
    // again (as sklearn would) changes nothing — this is the second moment of the differences
    const rows = differences.flatMap((row) => [row.map((value) => value / 2), row.map((value) => -value / 2)]);
    return firstPrincipalComponent(rows, d, { centre: false });
}

function projections(rows: readonly Float32Array[], indices: readonly number[], unit: Float64Array): number[] {
    return indices.map((i) => dot64(rows[i]!, unit));
}

/** Builds the vector from activations already collected (pure: no model needed). */
export function buildFromActivations(activations: PairActivations, options: BuildVectorOptions & { pairCount: number }): Omit<BuiltVector, "elapsedMs"> {
    const method = options.method ?? "mean";
    const groups = options.groups ?? Array.from({ length: options.pairCount }, () => undefined);
    if (groups.length !== options.pairCount)
        throw new TillerError("INVALID_ARGUMENT", `${groups.length} group keys for ${options.pairCount} pairs`);
    const warnings: string[] = [];
    const groupCount = new Set(groups.map((group, i) => group ?? `\u0000pair ${i}`)).size;
    let fraction = options.heldOutFraction ?? DEFAULT_HELD_OUT_FRACTION;
    if (fraction > 0 && groupCount < 3) {
        // a tiny dataset still builds; it just cannot be measured on pairs it did not see
        warnings.push(`the pairs form ${groupCount} group${groupCount === 1 ? "" : "s"}, too few to hold any out ` +
            "(train, validation and test need one each): every figure is a training figure");
        fraction = 0;
    }
    const { train, validation, test } = splitPairsByGroup(groups, fraction, options.seed ?? 0);
    const directions = new Map<number, Float32Array>();
    const calibration = new Map<number, LayerCalibration>();
    const diagnostics: LayerDiagnostics[] = [];
    const d = activations.nEmbd;
    for (const layer of activations.layers) {
        const positive = activations.positive.get(layer)!;
        const negative = activations.negative.get(layer)!;
        const trainPositive = train.map((i) => positive[i]!), trainNegative = train.map((i) => negative[i]!);
        const meanDifference = rawDirection("mean", trainPositive, trainNegative, d);
        const meanNorm = norm64(meanDifference);
        let direction = rawDirection(method, trainPositive, trainNegative, d);
        let cosineToMean = 1;
        if (method !== "mean") {
            // unit û, sign towards the positives, scaled to the mean separation along it
            const separation = dot64(meanDifference, direction);
            cosineToMean = meanNorm > 0 ? Math.abs(separation) / meanNorm : 0;
            direction = direction.map((value) => value * separation);
            if (cosineToMean < ORTHOGONAL_WARNING_COSINE)
                warnings.push(`layer ${layer}: the ${method} direction is nearly orthogonal to the mean difference ` +
                    `(|cos| = ${cosineToMean.toFixed(2)}): it follows how pairs differ from one another more than the concept, ` +
                    "and its norm (the separation along it) is small; consider \"mean\"");
        }
        const norm = norm64(direction);
        const unit = direction.map((value) => value / (norm || 1));
        const evaluate = test.length > 0 ? test : train;
        const all = [...positive, ...negative];
        const trainProjections = [projections(positive, train, unit), projections(negative, train, unit)] as const;
        const layerCalibration = projectionCalibration(...trainProjections);
        diagnostics.push({
            layer,
            norm,
            activationNorm: all.reduce((sum, row) => sum + norm64(row), 0) / all.length,
            cosineToMean,
            trainAuroc: auroc(...trainProjections),
            validationAuroc: validation.length > 0 ? auroc(projections(positive, validation, unit), projections(negative, validation, unit)) : Number.NaN,
            heldOutAuroc: test.length > 0 ? auroc(projections(positive, test, unit), projections(negative, test, unit)) : Number.NaN,
            pairedAccuracy: pairedAccuracy(projections(positive, evaluate, unit), projections(negative, evaluate, unit)),
            standardizedMeanDifference: standardizedMeanDifference(projections(positive, evaluate, unit), projections(negative, evaluate, unit)),
            calibration: layerCalibration
        });
        directions.set(layer, Float32Array.from(direction));
        calibration.set(layer, layerCalibration);
    }
    const chosenBy = validation.length > 0 ? "validation" : "training";
    const score = (entry: LayerDiagnostics) => (chosenBy === "validation" ? entry.validationAuroc : entry.trainAuroc);
    const best = diagnostics.reduce((top, entry) => (score(entry) > score(top) ? entry : top), diagnostics[0]!);
    return {
        vector: { name: options.name ?? "vector", nEmbd: d, directions, calibration: usableCalibration(calibration) },
        method,
        readAt: options.readAt ?? "last",
        diagnostics,
        bestLayer: best.layer,
        bestLayerChosenBy: chosenBy,
        trainPairs: train.length,
        heldOutPairs: validation.length + test.length,
        validationPairs: validation.length,
        testPairs: test.length,
        groups: groupCount,
        warnings
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
