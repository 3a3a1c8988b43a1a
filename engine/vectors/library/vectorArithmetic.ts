// Arithmetic on steering vectors, layer by layer (llama.cpp numbering; a missing layer is zero).
// Pure functions on SteeringVector values: the library (VectorLibrary.ts) stores their results as
// new entries, and anything else (patch detection's best cosine match) can use them directly.
// Every sum accumulates in float64 and is rounded to float32 once, at the end.
import { TillerError } from "../../protocol/TillerError.js";
import type { SteeringVector } from "../../runtime/SteeringVector.js";

/** ‖v‖ in float64. */
export function directionNorm(values: Float32Array): number {
    let sum = 0;
    for (let i = 0; i < values.length; i++)
        sum += values[i]! * values[i]!;
    return Math.sqrt(sum);
}

/**
 * Checks that a vector is well formed: nEmbd a whole number ≥ 1, at least one direction, every
 * layer a whole number ≥ 1 (block 0 cannot be steered), every direction nEmbd finite values.
 * Throws INVALID_ARGUMENT naming the problem.
 */
export function assertValidVector(vector: SteeringVector): void {
    const bad = (detail: string) => new TillerError("INVALID_ARGUMENT", `vector "${vector.name}" ${detail}`);
    if (!Number.isSafeInteger(vector.nEmbd) || vector.nEmbd < 1)
        throw bad(`has width ${vector.nEmbd}; the width must be a whole number ≥ 1`);
    if (vector.directions.size === 0)
        throw bad("has no directions");
    for (const [layer, direction] of vector.directions) {
        if (!Number.isSafeInteger(layer) || layer < 1)
            throw bad(`has a direction for layer ${layer}; layers are whole numbers from 1 (llama.cpp numbering: block 0 cannot be steered)`);
        if (!(direction instanceof Float32Array))
            throw bad(`layer ${layer} is not a Float32Array`);
        if (direction.length !== vector.nEmbd)
            throw bad(`layer ${layer} has ${direction.length} values, expected ${vector.nEmbd}`);
        for (let i = 0; i < direction.length; i++) {
            if (!Number.isFinite(direction[i]!))
                throw bad(`layer ${layer} has a non-finite value (${direction[i]}) at index ${i}`);
        }
    }
}

function sortedDirections(entries: Iterable<[number, Float32Array]>): Map<number, Float32Array> {
    return new Map([...entries].sort(([a], [b]) => a - b));
}

function roundToFloat32(values: Float64Array, what: string): Float32Array {
    const out = Float32Array.from(values);
    for (let i = 0; i < out.length; i++) {
        if (!Number.isFinite(out[i]!))
            throw new TillerError("INVALID_ARGUMENT", `${what} overflows float32 at index ${i} (${values[i]})`);
    }
    return out;
}

/** −v on every layer (exact in float32). */
export function negateVector(vector: SteeringVector, name: string): SteeringVector {
    const directions = [...vector.directions].map(([layer, d]): [number, Float32Array] => [layer, d.map((x) => -x)]);
    return { name, nEmbd: vector.nEmbd, directions: sortedDirections(directions) };
}

/** factor·v on every layer. Throws INVALID_ARGUMENT for a non-finite factor or a float32 overflow. */
export function scaleVector(vector: SteeringVector, factor: number, name: string): SteeringVector {
    if (typeof factor !== "number" || !Number.isFinite(factor))
        throw new TillerError("INVALID_ARGUMENT", `the scale factor must be a finite number, not ${String(factor)}`);
    const directions = [...vector.directions].map(([layer, d]): [number, Float32Array] =>
        [layer, roundToFloat32(Float64Array.from(d, (x) => x * factor), `scaling layer ${layer} of "${vector.name}" by ${factor}`)]);
    return { name, nEmbd: vector.nEmbd, directions: sortedDirections(directions) };
}

/** v_l/‖v_l‖ on every layer; a zero layer stays zero. */
export function normalizeVector(vector: SteeringVector, name: string): SteeringVector {
    const directions = [...vector.directions].map(([layer, d]): [number, Float32Array] => {
        const norm = directionNorm(d);
        return [layer, norm === 0 ? new Float32Array(d.length) : Float32Array.from(d, (x) => x / norm)];
    });
    return { name, nEmbd: vector.nEmbd, directions: sortedDirections(directions) };
}

/**
 * Σ wᵢ·vᵢ per layer, over the union of the terms' layers (a term lacking a layer adds zero there).
 * Throws INVALID_ARGUMENT for no terms or a non-finite weight, VECTOR_MISMATCH when the widths differ.
 */
export function weightedSumOfVectors(terms: ReadonlyArray<{ vector: SteeringVector; weight: number }>, name: string): SteeringVector {
    if (terms.length === 0)
        throw new TillerError("INVALID_ARGUMENT", "a weighted sum needs at least one vector");
    const nEmbd = terms[0]!.vector.nEmbd;
    for (const { vector, weight } of terms) {
        if (typeof weight !== "number" || !Number.isFinite(weight))
            throw new TillerError("INVALID_ARGUMENT", `the weight of "${vector.name}" must be a finite number, not ${String(weight)}`);
        if (vector.nEmbd !== nEmbd)
            throw new TillerError("VECTOR_MISMATCH",
                `cannot add vectors of different widths: "${terms[0]!.vector.name}" has ${nEmbd}, "${vector.name}" has ${vector.nEmbd}`);
    }
    const sums = new Map<number, Float64Array>();
    for (const { vector, weight } of terms) {
        for (const [layer, d] of vector.directions) {
            let sum = sums.get(layer);
            if (sum === undefined) {
                sum = new Float64Array(nEmbd);
                sums.set(layer, sum);
            }
            for (let i = 0; i < nEmbd; i++)
                sum[i]! += weight * d[i]!;
        }
    }
    const directions = [...sums].map(([layer, sum]): [number, Float32Array] => [layer, roundToFloat32(sum, `the weighted sum at layer ${layer}`)]);
    return { name, nEmbd, directions: sortedDirections(directions) };
}

/** Per layer, the cosine similarity of every pair of vectors. */
export interface CosineMatrices {
    /** the union of the vectors' layers, ascending */
    layers: number[];
    /** layer → n×n matrix, [i][j] = cos(vᵢ,l, vⱼ,l); NaN where either lacks the layer or is zero there */
    matrices: Map<number, number[][]>;
}

/**
 * Cosine similarity matrices, one per layer (float64; clamped to [-1, 1] against rounding). Throws
 * VECTOR_MISMATCH when the widths differ.
 */
export function cosineSimilarityMatrices(vectors: readonly SteeringVector[]): CosineMatrices {
    for (const v of vectors) {
        if (v.nEmbd !== vectors[0]!.nEmbd)
            throw new TillerError("VECTOR_MISMATCH",
                `cannot compare vectors of different widths: "${vectors[0]!.name}" has ${vectors[0]!.nEmbd}, "${v.name}" has ${v.nEmbd}`);
    }
    const layers = [...new Set(vectors.flatMap((v) => [...v.directions.keys()]))].sort((a, b) => a - b);
    const matrices = new Map<number, number[][]>();
    for (const layer of layers) {
        const rows = vectors.map((v) => v.directions.get(layer));
        const norms = rows.map((d) => (d === undefined ? 0 : directionNorm(d)));
        matrices.set(layer, rows.map((a, i) => rows.map((b, j) => {
            if (a === undefined || b === undefined || norms[i] === 0 || norms[j] === 0)
                return Number.NaN;
            let sum = 0;
            for (let k = 0; k < a.length; k++)
                sum += a[k]! * b[k]!;
            return Math.min(1, Math.max(-1, sum / (norms[i]! * norms[j]!)));
        })));
    }
    return { layers, matrices };
}
