// Layer numbering, in exactly one place.
//
// Tiller uses llama.cpp's numbering everywhere a user sees a layer: "layer N" is 0-based block N,
// `direction.N` of a control-vector file is added to the output of block N, and `l_out-N` is that
// output. Block 0 cannot be steered (llama.cpp has no control-vector slot for it). The only other
// convention is llama_set_adapter_cvec's buffer, whose chunk N-1 steers block N.
import { TillerError } from "../protocol/TillerError.js";

/** An inclusive range of 0-based blocks (llama.cpp numbering). */
export interface LayerRange {
    first: number;
    last: number;
}

/** Offset (in floats) of block `layer`'s chunk in llama_set_adapter_cvec's (nLayer-1)×nEmbd buffer. */
export function controlVectorChunkOffset(layer: number, nEmbd: number): number {
    return (layer - 1) * nEmbd;
}

/** Floats in the buffer llama_set_adapter_cvec expects for a model. */
export function controlVectorBufferLength(nLayer: number, nEmbd: number): number {
    return (nLayer - 1) * nEmbd;
}

/** The steerable blocks of a model: 1..nLayer-1. */
export function steerableLayerRange(nLayer: number): LayerRange {
    return { first: 1, last: nLayer - 1 };
}

/** Throws INVALID_LAYER_RANGE unless every block in `range` can be steered on a model of nLayer blocks. */
export function assertSteerableRange(range: LayerRange, nLayer: number): void {
    const { first, last } = range;
    if (!Number.isInteger(first) || !Number.isInteger(last) || first > last)
        throw new TillerError("INVALID_LAYER_RANGE", `layer range ${first}-${last} is not an increasing pair of whole numbers`);
    if (first < 1 || last > nLayer - 1)
        throw new TillerError("INVALID_LAYER_RANGE",
            `layer range ${first}-${last} is outside the steerable layers 1-${nLayer - 1} of this ${nLayer}-layer model ` +
            "(llama.cpp numbering: layer N is block N; block 0 cannot be steered)");
}

/** Throws INVALID_LAYER_RANGE unless `layer` is a block of the model (0..nLayer-1); for read-outs. */
export function assertReadableLayer(layer: number, nLayer: number): void {
    if (!Number.isInteger(layer) || layer < 0 || layer > nLayer - 1)
        throw new TillerError("INVALID_LAYER_RANGE", `layer ${layer} is outside this model's layers 0-${nLayer - 1}`);
}

/** Parses "A-B" or "A" (inclusive, llama.cpp numbering). */
export function parseLayerRange(text: string): LayerRange {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
    if (match == null)
        throw new TillerError("INVALID_LAYER_RANGE", `"${text}" is not a layer range; write it as A-B (inclusive) or A`);
    const first = Number(match[1]);
    const last = match[2] != null ? Number(match[2]) : first;
    if (first > last)
        throw new TillerError("INVALID_LAYER_RANGE", `layer range "${text}" runs backwards`);
    return { first, last };
}
