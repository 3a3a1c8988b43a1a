// Derivatives of a sampled curve f(α) at α₀ from the seven-point stencil α₀ + k·h, k = −3..3,
// with an error estimate that survives quantized models.
//
// Why not a central difference: on quantized weights ggml converts activations to Q8 inside every
// matmul, so f(α) is a fine staircase on top of a smooth curve. The step h is therefore chosen
// large enough that the staircase averages out (see the sweep), which makes truncation matter,
// and the noise that remains must be measured, not assumed away:
//
//   f′(α₀) = (f₃ − 9f₂ + 45f₁ − 45f₋₁ + 9f₋₂ − f₋₃) / 60h                     (exact to degree 6)
//   f″(α₀) = (2f₋₃ − 27f₋₂ + 270f₋₁ − 490f₀ + 270f₁ − 27f₂ + 2f₃) / 180h²     (exact to degree 6)
//
// (Richardson extrapolation of central differences at h, 2h and 3h, written out.) Two contrasts
// vanish on every smooth-enough curve and measure the noise: with o_k = (f_k − f₋ₖ)/2 and
// e_k = (f_k + f₋ₖ)/2 − f₀, the odd c₅ = 5o₁ − 4o₂ + o₃ (zero up to degree 4; variance 21σ² for
// independent noise σ) and the sixth difference c₆ = 15e₁ − 6e₂ + e₃ (zero up to degree 5;
// variance 231σ²). σ̂² = (c₅²/21 + c₆²/231)/2, and the standard errors follow from the weights:
// √(4212)/60 · σ̂/h for f′, √(387366)/180 · σ̂/h² for f″. When h is too large the contrasts also
// hold the curve's own h⁵, h⁶ terms, which makes the estimate conservative, never optimistic.
// Two degrees of freedom: read it as "about this large", not as a calibrated interval.

/** Offsets of the stencil in units of h, in the order the values are passed. */
export const STENCIL_OFFSETS = [-3, -2, -1, 0, 1, 2, 3] as const;

/** f at α₀ + k·h for k = −3..3. */
export type StencilValues = readonly [number, number, number, number, number, number, number];

/** Weights w_k with f′(α₀) ≈ Σ_k w_k f(α₀ + k·h) / h, in STENCIL_OFFSETS order. */
export const SLOPE_WEIGHTS = [-1 / 60, 9 / 60, -45 / 60, 0, 45 / 60, -9 / 60, 1 / 60] as const;
/** Weights with f″(α₀) ≈ Σ_k c_k f(α₀ + k·h) / h², in STENCIL_OFFSETS order. */
export const CURVATURE_WEIGHTS = [2 / 180, -27 / 180, 270 / 180, -490 / 180, 270 / 180, -27 / 180, 2 / 180] as const;

export interface StencilDerivative {
    /** f′(α₀) */
    slope: number;
    /** standard-error estimate of `slope` */
    slopeError: number;
    /** f″(α₀) */
    curvature: number;
    /** standard-error estimate of `curvature` */
    curvatureError: number;
}

export function stencilDerivative(values: StencilValues, h: number): StencilDerivative {
    const [m3, m2, m1, f0, p1, p2, p3] = values;
    // differences first, so a flat curve gives exactly 0
    const [o1, o2, o3] = [(p1 - m1) / 2, (p2 - m2) / 2, (p3 - m3) / 2];
    const [e1, e2, e3] = [(p1 + m1) / 2 - f0, (p2 + m2) / 2 - f0, (p3 + m3) / 2 - f0];
    const slope = (90 * o1 - 18 * o2 + 2 * o3) / (60 * h);
    const curvature = (2 * 2 * e3 - 27 * 2 * e2 + 270 * 2 * e1) / (180 * h * h);
    const oddResidual = 5 * o1 - 4 * o2 + o3;
    const sixth = 15 * e1 - 6 * e2 + e3;
    const noise = Math.sqrt((oddResidual * oddResidual / 21 + sixth * sixth / 231) / 2);
    return {
        slope,
        slopeError: (Math.sqrt(4212) / 60) * noise / h,
        curvature,
        curvatureError: (Math.sqrt(387366) / 180) * noise / (h * h)
    };
}
