// A steering patch is plain, serialisable data: h_l(t) ← h_l(t) + strength · v_l for blocks l in
// `layers` and generated tokens t in [fromToken, untilToken). Several patches sum per layer.
import { TillerError } from "../protocol/TillerError.js";
import { assertSteerableRange, controlVectorBufferLength, controlVectorChunkOffset, type LayerRange } from "./layers.js";
import { assertVectorFitsModel, type SteeringVector } from "./SteeringVector.js";

export interface SteeringPatch {
    /** unique within a run; changes and removals refer to it */
    id: string;
    vector: SteeringVector;
    /** α; must be finite */
    strength: number;
    /** inclusive, llama.cpp numbering; default: every steerable layer the vector has */
    layers?: LayerRange;
    /**
     * First generated token whose distribution is steered (default 0). 0 steers from the prompt on,
     * like llama.cpp's --control-vector; K > 0 leaves tokens 0..K-1 exactly as unsteered.
     */
    fromToken?: number;
    /** first generated token no longer steered (exclusive end); default: never off */
    untilToken?: number;
}

export interface ModelDims {
    nLayer: number;
    nEmbd: number;
}

/** Validates a patch against a model; throws TillerError naming the field. */
export function validatePatch(patch: SteeringPatch, dims: ModelDims): void {
    if (!Number.isFinite(patch.strength))
        throw new TillerError("INVALID_ARGUMENT", `patch "${patch.id}": strength must be a finite number, got ${patch.strength}`);
    assertVectorFitsModel(patch.vector, dims);
    if (patch.layers != null)
        assertSteerableRange(patch.layers, dims.nLayer);
    const from = patch.fromToken ?? 0;
    if (!Number.isInteger(from) || from < 0)
        throw new TillerError("INVALID_ARGUMENT", `patch "${patch.id}": fromToken must be a whole number ≥ 0, got ${from}`);
    if (patch.untilToken != null && (!Number.isInteger(patch.untilToken) || patch.untilToken <= from))
        throw new TillerError("INVALID_ARGUMENT",
            `patch "${patch.id}": untilToken must be a whole number after fromToken (${from}), got ${patch.untilToken}`);
}

export function isPatchActiveAt(patch: SteeringPatch, token: number): boolean {
    return token >= (patch.fromToken ?? 0) && (patch.untilToken == null || token < patch.untilToken);
}

/** The control vector llama.cpp should apply: the full buffer plus the range of blocks it touches. */
export interface ComposedControlVector {
    data: Float32Array;
    firstLayer: number;
    lastLayer: number;
}

/**
 * Sums the patches active at `token` into llama_set_adapter_cvec's buffer. Returns null when no
 * patch contributes, so the caller clears steering and the graph is exactly the unsteered one.
 */
export function composeControlVector(patches: Iterable<SteeringPatch>, token: number, dims: ModelDims): ComposedControlVector | null {
    let data: Float32Array | undefined;
    let firstLayer = Infinity;
    let lastLayer = -Infinity;
    for (const patch of patches) {
        if (!isPatchActiveAt(patch, token) || patch.strength === 0)
            continue;
        const first = patch.layers?.first ?? 1;
        const last = patch.layers?.last ?? dims.nLayer - 1;
        for (let layer = first; layer <= last; layer++) {
            const direction = patch.vector.directions.get(layer);
            if (direction == null)
                continue;
            data ??= new Float32Array(controlVectorBufferLength(dims.nLayer, dims.nEmbd));
            const offset = controlVectorChunkOffset(layer, dims.nEmbd);
            for (let i = 0; i < dims.nEmbd; i++)
                data[offset + i]! += patch.strength * direction[i]!;
            firstLayer = Math.min(firstLayer, layer);
            lastLayer = Math.max(lastLayer, layer);
        }
    }
    return data == null ? null : { data, firstLayer, lastLayer };
}
