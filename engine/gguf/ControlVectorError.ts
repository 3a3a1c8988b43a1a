/**
 * Errors about control vectors as such (the GGUF container itself fails with `GgufError`).
 */

export type ControlVectorErrorCode =
    /** The vector's width differs from the model's `n_embd`. */
    | "WIDTH_MISMATCH"
    /** A `direction.N` names block 0 or a block the model does not have. */
    | "LAYER_OUT_OF_RANGE"
    /** `controlvector.model_hint` names another architecture than the model's. */
    | "ARCH_MISMATCH"
    /** The file is valid GGUF but not a valid control vector (or the value given to write is not). */
    | "MALFORMED";

export class ControlVectorError extends Error {
    override readonly name = "ControlVectorError";

    constructor(
        readonly code: ControlVectorErrorCode,
        message: string
    ) {
        super(message);
    }
}
