export function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics (q = 0.5 is the median). */
export function quantile(values: readonly number[], q: number): number {
    if (values.length === 0)
        throw new Error("the quantile of no values");
    const sorted = [...values].sort((a, b) => a - b);
    const at = q * (sorted.length - 1);
    const below = Math.floor(at);
    const above = Math.min(below + 1, sorted.length - 1);
    return sorted[below]! + (at - below) * (sorted[above]! - sorted[below]!);
}

/** tokens per second from the median interval between consecutive tokens (robust to a stalled token) */
export function medianIntervalRate(stamps: readonly number[]): number {
    if (stamps.length < 2)
        throw new Error(`only ${stamps.length} tokens were generated; the bench needs at least 2`);
    return 1000 / median(stamps.slice(1).map((stamp, i) => stamp - stamps[i]!));
}
