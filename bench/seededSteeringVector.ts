import type { SteeringVector } from "../engine/runtime/SteeringVector.js";

/**
 * A reproducible random steering vector for benches: every steerable block (1..nLayer−1) gets a
 * direction of uniform values in ±scale/2 from a seeded LCG (speed is what is measured, not meaning).
 */
export function seededSteeringVector(name: string, nLayer: number, nEmbd: number, seed: number, scale: number): SteeringVector {
    let state = seed >>> 0;
    const next = () => {
        state = (state * 1664525 + 1013904223) >>> 0;
        return (state / 2 ** 32 - 0.5) * scale;
    };
    const directions = new Map<number, Float32Array>();
    for (let layer = 1; layer < nLayer; layer++)
        directions.set(layer, Float32Array.from({ length: nEmbd }, next));
    return { name, nEmbd, directions };
}
