// The three build methods against an exact eigendecomposition (Jacobi) on small fixed data, the
// orthogonality warning, the group splits (validation chooses the layer, test reports it), paired
// accuracy and the projection calibration. Pure code: the activations are given.
import { describe, expect, it } from "vitest";
import { buildFromActivations, splitPairsByGroup, type BuildMethod } from "../../engine/vectors/buildSteeringVector.js";
import type { PairActivations } from "../../engine/vectors/collectPairActivations.js";
import { pairedAccuracy, projectionCalibration } from "../../engine/vectors/vectorStatistics.js";
import { parseContrastiveDataset, serializeContrastiveDataset } from "../../engine/vectors/datasets/ContrastiveDataset.js";
import { loadBuiltinDataset } from "../../engine/vectors/datasets/builtinDatasets.js";

/** Eigenvector of the largest eigenvalue of a symmetric matrix, by cyclic Jacobi rotations (exact to rounding). */
function topEigenvector(matrix: number[][]): number[] {
    const n = matrix.length;
    const a = matrix.map((row) => [...row]);
    const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
    for (let sweep = 0; sweep < 100; sweep++) {
        let off = 0;
        for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
        if (off < 1e-30) break;
        for (let p = 0; p < n; p++) {
            for (let q = p + 1; q < n; q++) {
                if (Math.abs(a[p]![q]!) < 1e-300) continue;
                const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
                const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                const c = 1 / Math.sqrt(t * t + 1), s = t * c;
                for (let k = 0; k < n; k++) { // A ← A·J
                    const akp = a[k]![p]!, akq = a[k]![q]!;
                    a[k]![p] = c * akp - s * akq;
                    a[k]![q] = s * akp + c * akq;
                }
                for (let k = 0; k < n; k++) { // A ← Jᵀ·A
                    const apk = a[p]![k]!, aqk = a[q]![k]!;
                    a[p]![k] = c * apk - s * aqk;
                    a[q]![k] = s * apk + c * aqk;
                }
                for (let k = 0; k < n; k++) {
                    const vkp = v[k]![p]!, vkq = v[k]![q]!;
                    v[k]![p] = c * vkp - s * vkq;
                    v[k]![q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let best = 0;
    for (let i = 1; i < n; i++) if (a[i]![i]! > a[best]![best]!) best = i;
    return v.map((row) => row[best]!);
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((sum, value, i) => sum + value * b[i]!, 0);
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));
const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => dot(a, b) / (norm(a) * norm(b));

// d = 4, six pairs. Each pair has a location of its own (a topic shared by both sides); the
// differences share a shift along e₀ (length ≈ 1) and spread about as much along (e₁ + e₂)/√2,
// with a little noise in e₃ — so the shift, the spread and the second moment point three ways
// (|cos| ≈ 0.16 mean/pca-diff, 0.87 mean/pca-center, 0.62 pca-diff/pca-center).
const locations = [[3, 1, 0, 2], [-2, 4, 1, 0], [0, -3, 2, 1], [1, 1, -4, 3], [5, 0, 0, -2], [-1, 2, 3, 3]];
const spread = [1.2, -1.0, 0.9, -1.1, 1.0, -0.9];
const noise = [0.2, -0.1, 0.05, 0.15, -0.2, 0.1];
const differences = spread.map((s, i) => [1 + 0.1 * (i % 2), s / Math.SQRT2 + 0.3, s / Math.SQRT2, noise[i]!]);
const positive = locations.map((loc, i) => Float32Array.from(loc, (value, k) => value + differences[i]![k]! / 2));
const negative = locations.map((loc, i) => Float32Array.from(loc, (value, k) => value - differences[i]![k]! / 2));

function activations(layers: Record<number, { positive: Float32Array[]; negative: Float32Array[] }>): PairActivations {
    const keys = Object.keys(layers).map(Number);
    return {
        layers: keys,
        nEmbd: layers[keys[0]!]!.positive[0]!.length,
        positive: new Map(keys.map((layer) => [layer, layers[layer]!.positive])),
        negative: new Map(keys.map((layer) => [layer, layers[layer]!.negative]))
    };
}

const build = (method: BuildMethod) => buildFromActivations(activations({ 1: { positive, negative } }), { method, pairCount: 6, heldOutFraction: 0 });

describe("the three build methods", () => {
    // the differences as the float32 rows the builder sees
    const dRows = positive.map((row, i) => Array.from(row, (value, k) => value - negative[i]![k]!));
    const meanDifference = [0, 1, 2, 3].map((k) => dRows.reduce((sum, row) => sum + row[k]!, 0) / dRows.length);
    const secondMoment = [0, 1, 2, 3].map((j) => [0, 1, 2, 3].map((k) => dRows.reduce((sum, row) => sum + row[j]! * row[k]!, 0)));
    const covariance = [0, 1, 2, 3].map((j) => [0, 1, 2, 3].map((k) =>
        dRows.reduce((sum, row) => sum + (row[j]! - meanDifference[j]!) * (row[k]! - meanDifference[k]!), 0)));

    it("mean is the mean difference itself", () => {
        const v = build("mean").vector.directions.get(1)!;
        meanDifference.forEach((value, k) => expect(v[k]).toBeCloseTo(value, 5));
    });

    it("pca-diff is the top eigenvector of the differences' covariance (centred), pca-center that of their second moment", () => {
        const pcaDiff = build("pca-diff").vector.directions.get(1)!;
        const pcaCenter = build("pca-center").vector.directions.get(1)!;
        expect(Math.abs(cosine(pcaDiff, topEigenvector(covariance)))).toBeGreaterThan(1 - 1e-6);
        expect(Math.abs(cosine(pcaCenter, topEigenvector(secondMoment)))).toBeGreaterThan(1 - 1e-6);
        // and the two matrices' eigenvectors are not the same here, so this is not one method twice
        expect(Math.abs(cosine(topEigenvector(covariance), topEigenvector(secondMoment)))).toBeLessThan(0.9);
    });

    it("the three directions differ pairwise, each points towards the positives and is scaled to the mean separation along it", () => {
        const vectors = (["mean", "pca-diff", "pca-center"] as const).map((method) => build(method).vector.directions.get(1)!);
        for (let i = 0; i < 3; i++)
            for (let j = i + 1; j < 3; j++)
                expect(Math.abs(cosine(vectors[i]!, vectors[j]!))).toBeLessThan(0.9);
        for (const v of vectors) {
            expect(dot(v, meanDifference)).toBeGreaterThan(0);
            // ‖v‖ = ⟨d̄, v̂⟩: α = 1 moves the negative mean onto the positive mean along v̂
            expect(norm(v)).toBeCloseTo(dot(meanDifference, v) / norm(v), 5);
        }
    });

    it("warns when a PCA direction is nearly orthogonal to the mean difference, and not for a well-aligned one", () => {
        const pcaDiff = build("pca-diff");
        expect(pcaDiff.diagnostics[0]!.cosineToMean).toBeLessThan(0.3);
        expect(pcaDiff.warnings.join(" ")).toMatch(/layer 1: the pca-diff direction is nearly orthogonal to the mean difference/);
        expect(build("mean").warnings).toEqual([]);
        // pairs whose differences all lie along the shift: pca-center follows it, no warning
        const aligned = locations.map((loc, i) => Float32Array.from(loc, (value, k) => value + (k === 0 ? 1 + 0.2 * i : 0)));
        const built = buildFromActivations(activations({ 1: { positive: aligned, negative: locations.map((loc) => Float32Array.from(loc)) } }),
            { method: "pca-center", pairCount: 6, heldOutFraction: 0 });
        expect(built.warnings).toEqual([]);
        expect(built.diagnostics[0]!.cosineToMean).toBeGreaterThan(0.999);
    });
});

describe("honest separation: splits by group, validation chooses, test reports", () => {
    it("keeps every group on one side, is seeded, and needs three groups", () => {
        const groups = Array.from({ length: 40 }, (_, i) => `t${i % 8}`);
        const split = splitPairsByGroup(groups, 0.4, 3);
        const sideOf = new Map<string, string>();
        for (const [side, indices] of Object.entries(split))
            for (const i of indices) {
                expect(sideOf.get(groups[i]!) ?? side).toBe(side);
                sideOf.set(groups[i]!, side);
            }
        expect(split.validation.length).toBeGreaterThan(0);
        expect(split.test.length).toBeGreaterThan(0);
        expect(split.train.length + split.validation.length + split.test.length).toBe(40);
        expect(splitPairsByGroup(groups, 0.4, 3)).toEqual(split);
        expect(splitPairsByGroup(groups, 0.4, 4)).not.toEqual(split);
        expect(() => splitPairsByGroup(["a", "a", "b", "b"], 0.4, 0)).toThrow(/at least 3 groups/);
        expect(splitPairsByGroup(["a", "a", "b"], 0, 0)).toEqual({ train: [0, 1, 2], validation: [], test: [] });
    });

    it("a dataset of fewer than three groups still builds, on every pair, and says that its figures are training figures", () => {
        const built = buildFromActivations(activations({ 1: { positive: positive.slice(0, 2), negative: negative.slice(0, 2) } }),
            { method: "mean", pairCount: 2, heldOutFraction: 0.4 });
        expect(built.trainPairs).toBe(2);
        expect(built.bestLayerChosenBy).toBe("training");
        expect(built.warnings.join(" ")).toMatch(/2 groups, too few to hold any out.*training figure/);
    });

    it("chooses the best layer on validation and reports the test split's AUROC and paired accuracy for it", () => {
        // 12 pairs in 6 groups; find which groups land in validation and test, then make layer 1
        // separate validation perfectly and test badly, layer 2 the other way round
        const groups = Array.from({ length: 12 }, (_, i) => `g${Math.floor(i / 2)}`);
        const split = splitPairsByGroup(groups, 0.4, 0);
        const make = (good: Set<number>) => {
            const pos: Float32Array[] = [], neg: Float32Array[] = [];
            for (let i = 0; i < 12; i++) {
                const gap = good.has(i) ? 2 : -0.5; // bad pairs are reversed
                pos.push(Float32Array.of(1 + gap / 2 + 0.01 * i, 0.3 * i));
                neg.push(Float32Array.of(1 - gap / 2, 0.3 * i));
            }
            return { positive: pos, negative: neg };
        };
        const trainAndValidation = new Set([...split.train, ...split.validation]);
        const trainAndTest = new Set([...split.train, ...split.test]);
        const built = buildFromActivations(activations({ 1: make(trainAndValidation), 2: make(trainAndTest) }),
            { method: "mean", pairCount: 12, groups, heldOutFraction: 0.4, seed: 0 });
        expect(built.bestLayerChosenBy).toBe("validation");
        expect(built.bestLayer).toBe(1);
        const layer1 = built.diagnostics.find((entry) => entry.layer === 1)!;
        expect(layer1.validationAuroc).toBeGreaterThan(0.9);
        expect(layer1.heldOutAuroc).toBeLessThan(0.5); // reported as it is, not the flattering validation figure
        expect(layer1.pairedAccuracy).toBe(0);
        expect(built.validationPairs + built.testPairs).toBe(built.heldOutPairs);
        expect(built.groups).toBe(6);
    });
});

describe("paired accuracy and calibration", () => {
    it("paired accuracy compares each positive with its own negative only", () => {
        // every pair ordered correctly, though the classes overlap (AUROC < 1)
        expect(pairedAccuracy([1, 5, 9], [0, 4, 8])).toBe(1);
        expect(pairedAccuracy([1, 5, 9], [2, 4, 9])).toBeCloseTo(0.5, 10);
        expect(pairedAccuracy([], [])).toBeNaN();
    });

    it("the calibration is the class midpoint and pooled within-class σ", () => {
        const { midpoint, sigma } = projectionCalibration([4, 6], [0, 2]);
        expect(midpoint).toBe(3);
        // within-class squares 2 + 2 over 4 − 2 degrees of freedom
        expect(sigma).toBeCloseTo(Math.sqrt(2), 12);
    });

    it("a built vector carries its calibration per layer, from the training projections", () => {
        const built = build("mean");
        const direction = built.vector.directions.get(1)!;
        const unit = Array.from(direction, (value) => value / norm(direction));
        const projection = (rows: Float32Array[]) => rows.map((row) => dot(row, unit));
        const expected = projectionCalibration(projection(positive), projection(negative));
        const stored = built.vector.calibration!.get(1)!;
        expect(stored.midpoint).toBeCloseTo(expected.midpoint, 5);
        expect(stored.sigma).toBeCloseTo(expected.sigma, 5);
    });
});

describe("dataset groups", () => {
    it("parse and serialize with the pair, reject an empty one, and the built-in sentiment pairs carry theirs", () => {
        const text = JSON.stringify({ name: "g", description: "", framing: "plain", positiveLabel: "p", negativeLabel: "n",
            pairs: [{ prompt: "a", positive: "b", negative: "c", group: "t1" }, { prompt: "a", positive: "d", negative: "e" }] });
        const parsed = parseContrastiveDataset(text, "g.json");
        expect(parsed.pairs.map((pair) => pair.group)).toEqual(["t1", undefined]);
        expect(parseContrastiveDataset(serializeContrastiveDataset(parsed), "g.json")).toEqual(parsed);
        expect(() => parseContrastiveDataset(text.replace('"t1"', '""'), "g.json")).toThrow(/pairs\[0\]\.group/);
        const sentiment = loadBuiltinDataset("sentiment");
        expect(new Set(sentiment.pairs.map((pair) => pair.group)).size).toBe(15);
        expect(sentiment.pairs.every((pair) => pair.group != null)).toBe(true);
    });
});
