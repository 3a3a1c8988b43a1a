// A p-value from a simulated null distribution: (1 + #{null ≥ observed}) / (1 + M), the usual
// Monte-Carlo estimate that never claims less than 1/(M+1). When no simulated value reaches the
// observation, a normal tail fitted to the simulation (mean, standard deviation) extrapolates below
// that floor, so strong evidence still ranks; such a value is an extrapolation and is labelled so.
export interface EmpiricalPValue {
    pValue: number;
    /** true when no simulated value reached the observation and the normal tail was used */
    extrapolated: boolean;
}

export function empiricalPValue(observed: number, nullValues: ArrayLike<number>): EmpiricalPValue {
    const m = nullValues.length;
    let exceed = 0, sum = 0, sumSquares = 0;
    for (let i = 0; i < m; i++) {
        const value = nullValues[i]!;
        if (value >= observed)
            exceed++;
        sum += value;
        sumSquares += value * value;
    }
    const floor = 1 / (1 + m);
    if (exceed > 0 || m < 2)
        return { pValue: (1 + exceed) / (1 + m), extrapolated: false };
    const mean = sum / m;
    const sd = Math.sqrt(Math.max(0, sumSquares / m - mean * mean));
    if (!(sd > 0))
        return { pValue: observed > mean ? 0 : floor, extrapolated: true };
    return { pValue: Math.min(floor, normalTail((observed - mean) / sd)), extrapolated: true };
}

/** P(Z ≥ z) for a standard normal, via erfc (Numerical Recipes' Chebyshev fit, |error| < 1.2e-7 relative). */
export function normalTail(z: number): number {
    return 0.5 * erfc(z / Math.SQRT2);
}

function erfc(x: number): number {
    const z = Math.abs(x);
    const t = 1 / (1 + 0.5 * z);
    const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
        t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
}
