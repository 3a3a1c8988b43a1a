import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";

/** The control vector of ../shared/llamacpp-parity: direction.N[i] = 0.5·sin(0.37·(i+1) + 1.3·N), N = 1..4, width 64. */
export function sineVector(name = "sine"): SteeringVector {
    const directions = new Map<number, Float32Array>();
    for (let n = 1; n <= 4; n++)
        directions.set(n, Float32Array.from({ length: 64 }, (_, i) => 0.5 * Math.sin(0.37 * (i + 1) + 1.3 * n)));
    return { name, nEmbd: 64, directions };
}

/** A deterministic pseudo-random vector on every layer 1..nLayer-1 (for read-out tests). */
export function randomVector(name: string, nLayer: number, nEmbd: number, seed: number): SteeringVector {
    let state = seed >>> 0;
    const next = () => {
        state = (state * 1664525 + 1013904223) >>> 0;
        return state / 2 ** 32 - 0.5;
    };
    const directions = new Map<number, Float32Array>();
    for (let layer = 1; layer < nLayer; layer++)
        directions.set(layer, Float32Array.from({ length: nEmbd }, next));
    return { name, nEmbd, directions };
}
