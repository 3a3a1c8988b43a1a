// Patch detection: was a run steered, where, and with what? Compares an observation of the run's
// tokens (teacher-forced as the run was: its activations and distributions) with a clean reference
// on the same tokens.
//
//   black box  KL(p_obs ‖ p_ref) and Δ log-prob of each emitted token
//   white box  Δh_l(t) = h_obs − h_ref. For an additive patch α·v from layer l₀ and position t₀,
//              every block below l₀ and every position before t₀ is unchanged, and at (l₀, t₀)
//              Δ = α·v_{l₀} exactly: the first layer, the onset, the direction (best cosine match
//              in the library) and α̂ = ⟨Δ, v⟩/‖v‖² follow.
import type { ProbesDetectResult, VectorMatchInfo } from "../protocol/probes.js";
import { vectorNorm, type SteeringVector } from "../runtime/SteeringVector.js";
import type { Observation } from "./teacherForce.js";

export interface DetectionOptions {
    /** a change counts when ‖Δh‖ > relativeTolerance·‖h_ref‖ + absoluteTolerance; defaults 1e-4, 1e-6 */
    relativeTolerance?: number;
    absoluteTolerance?: number;
}

/** A match as the detection names it: by the candidate vector's name (the service maps it to a library id). */
export type VectorMatch = Omit<VectorMatchInfo, "vectorId">;

/** The detection's findings; the service adds the tokens, their blocks and timing to make the protocol's result. */
export type DetectionReport = Pick<ProbesDetectResult, "steered" | "kl" | "deltaLogprob" | "onsetToken" | "onsetPosition" | "firstLayer" | "deltaNorms">
    & { matches: VectorMatch[] };

function klDivergence(logP: Float32Array, logQ: Float32Array): number {
    let sum = 0;
    for (let i = 0; i < logP.length; i++) {
        const p = Math.exp(logP[i]!);
        if (p > 0)
            sum += p * (logP[i]! - logQ[i]!);
    }
    return Math.max(0, sum);
}

export function detectPatch(observed: Observation, reference: Observation, library: readonly SteeringVector[], options: DetectionOptions = {}): DetectionReport {
    const relative = options.relativeTolerance ?? 1e-4;
    const absolute = options.absoluteTolerance ?? 1e-6;
    const { promptLength, nEmbd } = observed;
    const positions = observed.tokens.length;
    const layers = [...observed.residuals.keys()].sort((a, b) => a - b);

    // black box: position p predicts token p+1, i.e. generated token k = p − promptLength + 1
    const kl: number[] = [];
    const deltaLogprob: number[] = [];
    for (let p = promptLength - 1; p < positions - 1; p++) {
        kl.push(klDivergence(observed.logProbs[p]!, reference.logProbs[p]!));
        const next = observed.tokens[p + 1]!;
        deltaLogprob.push(observed.logProbs[p]![next]! - reference.logProbs[p]![next]!);
    }

    // white box: where does the residual stream first differ?
    const deltaNorm = (layer: number, position: number): { delta: number; reference: number } => {
        const obs = observed.residuals.get(layer)!;
        const ref = reference.residuals.get(layer)!;
        let delta = 0, norm = 0;
        for (let i = position * nEmbd; i < (position + 1) * nEmbd; i++) {
            delta += (obs[i]! - ref[i]!) ** 2;
            norm += ref[i]! ** 2;
        }
        return { delta: Math.sqrt(delta), reference: Math.sqrt(norm) };
    };
    let onsetPosition: number | null = null;
    let firstLayer: number | null = null;
    for (let p = 0; p < positions && onsetPosition == null; p++) {
        for (const layer of layers) {
            const { delta, reference: norm } = deltaNorm(layer, p);
            if (delta > relative * norm + absolute) {
                onsetPosition = p;
                firstLayer = layer;
                break;
            }
        }
    }
    const deltaNorms: number[][] = [];
    for (let p = Math.max(0, promptLength - 1); p < positions - 1; p++)
        deltaNorms.push(layers.map((layer) => deltaNorm(layer, p).delta));

    const matches: VectorMatch[] = [];
    if (onsetPosition != null && firstLayer != null) {
        const obs = observed.residuals.get(firstLayer)!;
        const ref = reference.residuals.get(firstLayer)!;
        const delta = Float32Array.from({ length: nEmbd }, (_, i) => obs[onsetPosition! * nEmbd + i]! - ref[onsetPosition! * nEmbd + i]!);
        const deltaLength = vectorNorm(delta);
        for (const vector of library) {
            const direction = vector.directions.get(firstLayer);
            if (direction == null || direction.length !== nEmbd)
                continue;
            const norm = vectorNorm(direction);
            if (norm === 0)
                continue;
            let dotProduct = 0;
            for (let i = 0; i < nEmbd; i++)
                dotProduct += delta[i]! * direction[i]!;
            matches.push({ name: vector.name, cosine: dotProduct / (norm * deltaLength), strength: dotProduct / (norm * norm), norm });
        }
        matches.sort((a, b) => Math.abs(b.cosine) - Math.abs(a.cosine));
    }
    return {
        steered: onsetPosition != null,
        kl,
        deltaLogprob,
        onsetToken: onsetPosition == null ? null : Math.max(0, onsetPosition - promptLength + 1),
        onsetPosition,
        firstLayer,
        matches,
        deltaNorms
    };
}
