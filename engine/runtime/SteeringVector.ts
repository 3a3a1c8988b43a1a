import { TillerError } from "../protocol/TillerError.js";
import type { VectorCalibration } from "./vectorCalibration.js";

/**
 * A steering direction per layer (llama.cpp numbering: `directions.get(N)` is added to the output
 * of block N). Plain data: structured-clone safe, no behaviour.
 */
export interface SteeringVector {
    name: string;
    nEmbd: number;
    /** block index → direction (length nEmbd); a missing block means zero */
    directions: ReadonlyMap<number, Float32Array>;
    /** where its training classes sit along each unit direction (vectorCalibration.ts); absent for vectors from elsewhere */
    calibration?: VectorCalibration;
}

export function vectorNorm(values: Float32Array): number {
    let sum = 0;
    for (let i = 0; i < values.length; i++)
        sum += values[i]! * values[i]!;
    return Math.sqrt(sum);
}

export function dot(a: Float32Array, aOffset: number, b: Float32Array, length: number): number {
    let sum = 0;
    for (let i = 0; i < length; i++)
        sum += a[aOffset + i]! * b[i]!;
    return sum;
}

/** Checks a vector against a model's width and depth; VECTOR_MISMATCH names the problem. */
export function assertVectorFitsModel(vector: SteeringVector, shape: { nLayer: number; nEmbd: number }): void {
    if (vector.nEmbd !== shape.nEmbd)
        throw new TillerError("VECTOR_MISMATCH",
            `vector "${vector.name}" has width ${vector.nEmbd} but the model's embedding width is ${shape.nEmbd}`);
    for (const [layer, direction] of vector.directions) {
        if (direction.length !== shape.nEmbd)
            throw new TillerError("VECTOR_MISMATCH",
                `vector "${vector.name}" layer ${layer} has ${direction.length} values, expected ${shape.nEmbd}`);
        if (layer < 1 || layer > shape.nLayer - 1)
            throw new TillerError("VECTOR_MISMATCH",
                `vector "${vector.name}" has a direction for layer ${layer}, outside the model's steerable layers 1-${shape.nLayer - 1}`);
    }
}
