// Errors that cross process boundaries as plain data `{code, message}`. The set of codes is closed
// so that every consumer (CLI, RPC clients, the UI) can react to each one deliberately.
// Pure TypeScript: imported by the engine and the renderer alike.

export const tillerErrorCodes = [
    "NOT_GGUF",               // the file is not a GGUF file
    "TRUNCATED_FILE",         // a GGUF file that ends early
    "UNSUPPORTED_GGUF",       // GGUF version or content this build cannot read
    "MODEL_LOAD_FAILED",      // llama.cpp refused the model
    "VECTOR_MISMATCH",        // a steering vector that does not fit the model
    "INVALID_LAYER_RANGE",    // a layer range outside the model
    "INVALID_ARGUMENT",       // a malformed or out-of-range argument (NaN strength, bad sampling option...)
    "PROMPT_TOO_LONG",        // prompt + generation do not fit the context
    "FILE_NOT_FOUND",
    "DISPOSED",               // use of a model/context after dispose()
    "BUSY",                   // the context is already running something
    "ABORTED",
    "NATIVE_ADDON",           // the native addon is missing or does not match node-llama-cpp
    "TRAINING_STALLED",       // training's loss did not fall as it must (engine/toyworld's regression guard)
    "STEERING_UNSUPPORTED",   // the model's architecture ignores control vectors or hides block outputs (measured at load)
    "ENGINE_RESTARTED",       // the engine process died (a native crash) and a fresh one took its place
    "ORACLE_UNAVAILABLE",     // a log-prob endpoint that cannot be reached, refuses us, or does not answer in time
    "ORACLE_NONCONFORMING",   // a log-prob endpoint whose answers are not OpenAI-compatible completions with logprobs
    "INTERNAL"
] as const;

export type TillerErrorCode = typeof tillerErrorCodes[number];

/** What an error looks like on the wire. */
export interface TillerErrorPayload {
    code: TillerErrorCode;
    message: string;
}

export class TillerError extends Error {
    public readonly code: TillerErrorCode;

    public constructor(code: TillerErrorCode, message: string, options?: { cause?: unknown }) {
        super(message, options);
        this.name = "TillerError";
        this.code = code;
    }

    public toPayload(): TillerErrorPayload {
        return { code: this.code, message: this.message };
    }
}

/** Any thrown value as a wire payload; unknown errors become INTERNAL with their message kept. */
export function toTillerErrorPayload(error: unknown): TillerErrorPayload {
    if (error instanceof TillerError)
        return error.toPayload();
    if (error instanceof Error)
        return { code: "INTERNAL", message: error.message };
    return { code: "INTERNAL", message: String(error) };
}
