// Linear response of whole next-token distributions to the steering strength, from the sweep's
// stencil decodes (α₀ + k·h, k = −3..3) with every logit kept, per measured token:
//
//   O_i   = ∂ log p_i / ∂α        the observable conjugate to α (∂z_i/∂α up to a shift, which
//                                 no variance sees)
//   I_t   = Var_p(O)              Fisher information of the token's distribution about α
//   Σ_i p_i ∂² log p_i / ∂α² = −Var_p(O)    the fluctuation–dissipation identity
//
// The identity holds exactly for any smooth logits (differentiate Σ p_i ∂ log p_i = 0), so the
// measured gap Σ p κ + I is a numerical-health figure of the derivatives: it is reported with
// its own error estimate (the stencil noise of g(α) = Σ_i p_i(α₀) log p_i(α)).
//
// Memory: the centre's log-distribution and the O accumulator, 2 × tokens × vocab floats.
// Each row's log-sum-exp comes from the native row analysis the sweep runs anyway (exact mode), so
// the only exponentials here are one pass per stencil point (the centre's p_i) and one per result.
import { STENCIL_OFFSETS, SLOPE_WEIGHTS, stencilDerivative, type StencilValues } from "./stencilDerivative.js";

export interface TokenLinearResponse {
    /** I_t = Var_p(O) at α₀ */
    fisher: number;
    /** Σ_i p_i ∂² log p_i/∂α² at α₀ (≈ −I_t) */
    meanCurvature: number;
    /** meanCurvature + fisher: 0 up to numerical error */
    fdtGap: number;
    /** standard-error estimate of fdtGap (from the stencil's noise) */
    fdtGapError: number;
}

export class LinearResponseAccumulator {
    private readonly center: Float32Array;
    private readonly observable: Float32Array;
    /** g_k = Σ_i p_i (log p_i(α_k) − log p_i(α₀)) per token and stencil point */
    private readonly shifts: Float64Array;

    public constructor(public readonly tokens: number, public readonly vocab: number, private readonly step: number) {
        this.center = new Float32Array(tokens * vocab);
        this.observable = new Float32Array(tokens * vocab);
        this.shifts = new Float64Array(tokens * STENCIL_OFFSETS.length);
    }

    /** The distribution at α₀ for measured token t (call before any other stencil point of it); `lse` = log Σ exp(logits). */
    public setCenter(t: number, logits: Float32Array, lse: number): void {
        const row = this.center.subarray(t * this.vocab, (t + 1) * this.vocab);
        for (let i = 0; i < this.vocab; i++)
            row[i] = logits[i]! - lse;
    }

    /** The distribution of token t at α₀ + offset·h (a non-zero offset of STENCIL_OFFSETS); `lse` = log Σ exp(logits). */
    public addPoint(t: number, offset: number, logits: Float32Array, lse: number): void {
        const k = STENCIL_OFFSETS.indexOf(offset as never);
        if (k < 0 || offset === 0)
            throw new RangeError(`stencil offset ${offset} is not a non-zero offset of the stencil`);
        const weight = SLOPE_WEIGHTS[k]! / this.step;
        const base = t * this.vocab;
        let shift = 0;
        for (let i = 0; i < this.vocab; i++) {
            const reference = this.center[base + i]!;
            if (reference === -Infinity)
                continue;
            // differences from the centre are small, so float32 accumulation keeps their precision
            const delta = (logits[i]! - lse) - reference;
            this.observable[base + i] = this.observable[base + i]! + weight * delta;
            shift += Math.exp(reference) * delta;
        }
        this.shifts[t * STENCIL_OFFSETS.length + k] = shift;
    }

    public result(t: number): TokenLinearResponse {
        const base = t * this.vocab;
        let mean = 0, second = 0;
        for (let i = 0; i < this.vocab; i++) {
            const reference = this.center[base + i]!;
            if (reference === -Infinity)
                continue;
            const p = Math.exp(reference);
            const o = this.observable[base + i]!;
            mean += p * o;
            second += p * o * o;
        }
        const fisher = Math.max(0, second - mean * mean);
        const g = Array.from(this.shifts.subarray(t * STENCIL_OFFSETS.length, (t + 1) * STENCIL_OFFSETS.length)) as unknown as StencilValues;
        const curve = stencilDerivative(g, this.step);
        return { fisher, meanCurvature: curve.curvature, fdtGap: curve.curvature + fisher, fdtGapError: curve.curvatureError };
    }
}
