export function median(values: readonly number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** tokens per second from the median interval between consecutive tokens (robust to a stalled token) */
export function medianIntervalRate(stamps: readonly number[]): number {
    if (stamps.length < 2)
        throw new Error(`only ${stamps.length} tokens were generated; the bench needs at least 2`);
    return 1000 / median(stamps.slice(1).map((stamp, i) => stamp - stamps[i]!));
}
