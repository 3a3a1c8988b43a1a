// The bench's order statistics: a wrong median or quantile would misreport every target the bench checks.
import { describe, expect, it } from "vitest";
import { median, medianIntervalRate, quantile } from "../../bench/benchStatistics.js";

describe("bench statistics", () => {
    it("takes the median of odd and even counts without reordering the input", () => {
        const values = [5, 1, 4, 2, 3];
        expect(median(values)).toBe(3);
        expect(values).toEqual([5, 1, 4, 2, 3]);
        expect(median([4, 1, 3, 2])).toBe(2.5);
    });

    it("interpolates quantiles between order statistics and agrees with the median", () => {
        const values = [10, 40, 20, 30];
        expect(quantile(values, 0)).toBe(10);
        expect(quantile(values, 1)).toBe(40);
        expect(quantile(values, 0.25)).toBeCloseTo(17.5, 12);
        expect(quantile(values, 0.75)).toBeCloseTo(32.5, 12);
        for (const sample of [[3], [2, 9], [7, 1, 5], [0.94, 0.97, 0.95, 0.99, 0.96, 0.93]])
            expect(quantile(sample, 0.5)).toBeCloseTo(median(sample), 12);
        expect(() => quantile([], 0.5)).toThrow(/no values/);
    });

    it("rates a run by its median token interval, so one stalled token does not move it", () => {
        const steady = [0, 2, 4, 6, 8, 10];
        const stalled = [0, 2, 4, 54, 56, 58];
        expect(medianIntervalRate(steady)).toBe(500);
        expect(medianIntervalRate(stalled)).toBe(500);
        expect(() => medianIntervalRate([1])).toThrow(/at least 2/);
    });
});
