// Small linear-algebra and statistics helpers for building vectors and their diagnostics. All
// accumulate in float64; inputs and outputs are Float32Array rows of width d.
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";

/** Mean of rows (each of length d). */
export function meanRow(rows: readonly Float32Array[], d: number): Float64Array {
    const mean = new Float64Array(d);
    for (const row of rows) {
        for (let i = 0; i < d; i++)
            mean[i]! += row[i]!;
    }
    for (let i = 0; i < d; i++)
        mean[i]! /= Math.max(1, rows.length);
    return mean;
}

export function dot64(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let sum = 0;
    for (let i = 0; i < a.length; i++)
        sum += a[i]! * b[i]!;
    return sum;
}

export function norm64(a: ArrayLike<number>): number {
    return Math.sqrt(dot64(a, a));
}

/**
 * First principal component of the rows, by power iteration on XᵀX applied as Xᵀ(Xv): O(n·d) per
 * step, never a d×d matrix. `centre` subtracts the rows' mean first (classic PCA); without it this
 * is the top right-singular vector, which keeps a shift shared by every row. Returns a unit vector
 * (sign arbitrary).
 */
export function firstPrincipalComponent(rows: readonly Float64Array[], d: number, options: { centre: boolean; seed?: number }): Float64Array {
    const mean = new Float64Array(d);
    if (options.centre) {
        for (const row of rows) {
            for (let i = 0; i < d; i++)
                mean[i]! += row[i]!;
        }
        for (let i = 0; i < d; i++)
            mean[i]! /= Math.max(1, rows.length);
    }
    const centred = rows.map((row) => row.map((value, i) => value - mean[i]!));
    const seed = options.seed ?? 1;

    const random = new SeededRandom(seed >>> 0);
    let v = Float64Array.from({ length: d }, () => random.next() - 0.5);
    normalizeInPlace(v);
    const scores = new Float64Array(centred.length);
    for (let iteration = 0; iteration < 500; iteration++) {
        for (const [k, row] of centred.entries())
            scores[k] = dot64(row, v);
        const next = new Float64Array(d);
        for (const [k, row] of centred.entries()) {
            const score = scores[k]!;
            for (let i = 0; i < d; i++)
                next[i]! += score * row[i]!;
        }
        if (norm64(next) === 0)
            return v; // all rows identical: any direction is as good
        normalizeInPlace(next);
        const change = 1 - Math.abs(dot64(next, v));
        v = next;
        if (change < 1e-12)
            break;
    }
    return v;
}

export function normalizeInPlace(v: Float64Array): void {
    const n = norm64(v);
    if (n > 0) {
        for (let i = 0; i < v.length; i++)
            v[i]! /= n;
    }
}

/**
 * Area under the ROC curve for "positive scores are higher": P(pos > neg) + ½·P(pos = neg), over
 * every positive/negative combination (Mann–Whitney U / (n_pos·n_neg)). 0.5 is chance.
 */
export function auroc(positive: readonly number[], negative: readonly number[]): number {
    if (positive.length === 0 || negative.length === 0)
        return Number.NaN;
    const all = [...positive.map((score) => ({ score, positive: true })), ...negative.map((score) => ({ score, positive: false }))]
        .sort((a, b) => a.score - b.score);
    // rank sum of the positives, with tied scores sharing their average rank
    let rankSum = 0;
    for (let start = 0; start < all.length;) {
        let end = start;
        while (end + 1 < all.length && all[end + 1]!.score === all[start]!.score)
            end++;
        const averageRank = (start + end) / 2 + 1;
        for (let k = start; k <= end; k++) {
            if (all[k]!.positive)
                rankSum += averageRank;
        }
        start = end + 1;
    }
    const u = rankSum - (positive.length * (positive.length + 1)) / 2;
    return u / (positive.length * negative.length);
}

/** Cohen's d: (mean_pos − mean_neg) / pooled standard deviation. */
export function standardizedMeanDifference(positive: readonly number[], negative: readonly number[]): number {
    const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const variance = (values: readonly number[], m: number) =>
        values.reduce((sum, value) => sum + (value - m) ** 2, 0) / Math.max(1, values.length - 1);
    const mp = mean(positive), mn = mean(negative);
    const pooled = Math.sqrt(((positive.length - 1) * variance(positive, mp) + (negative.length - 1) * variance(negative, mn)) /
        Math.max(1, positive.length + negative.length - 2));
    return pooled > 0 ? (mp - mn) / pooled : (mp === mn ? 0 : Math.sign(mp - mn) * Infinity);
}

/**
 * Paired accuracy (repeng's criterion): the share of pairs whose positive side projects higher than
 * its own negative side. Unlike AUROC it compares each example only with its partner, so an offset
 * shared by a pair (its topic, its length) cannot help or hurt. Ties count half.
 */
export function pairedAccuracy(positive: readonly number[], negative: readonly number[]): number {
    if (positive.length === 0 || positive.length !== negative.length)
        return Number.NaN;
    let score = 0;
    for (let i = 0; i < positive.length; i++)
        score += positive[i]! > negative[i]! ? 1 : positive[i]! === negative[i]! ? 0.5 : 0;
    return score / positive.length;
}

/**
 * The class midpoint and pooled within-class standard deviation of projections: a read-out p is
 * (p − midpoint) / sigma σ away from the boundary between the classes (0: halfway between their
 * means; ±d/2: at one class's mean, d being Cohen's d).
 */
export function projectionCalibration(positive: readonly number[], negative: readonly number[]): { midpoint: number; sigma: number } {
    const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    const mp = mean(positive), mn = mean(negative);
    const squares = (values: readonly number[], m: number) => values.reduce((sum, value) => sum + (value - m) ** 2, 0);
    const dof = Math.max(1, positive.length + negative.length - 2);
    return { midpoint: (mp + mn) / 2, sigma: Math.sqrt((squares(positive, mp) + squares(negative, mn)) / dof) };
}
