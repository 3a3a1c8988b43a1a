// What the user can do about each error code (STYLE.md §7: the UI shows the message and what to do).
import type { TillerErrorCode } from "../../../engine/protocol/TillerError";

const hints: Record<TillerErrorCode, string> = {
    NOT_GGUF: "Pick a .gguf model or control-vector file.",
    TRUNCATED_FILE: "The file ends early — download or copy it again.",
    UNSUPPORTED_GGUF: "Convert the file with a current llama.cpp (GGUF v2 or v3).",
    MODEL_LOAD_FAILED: "Try fewer GPU layers, a smaller context, or another model file.",
    VECTOR_MISMATCH: "Use a vector built for this model (same width and layer count), or rebuild it.",
    INVALID_LAYER_RANGE: "Choose layers inside the model: 1 … n_layer − 1 (block 0 cannot be steered).",
    INVALID_ARGUMENT: "Check the values you entered.",
    PROMPT_TOO_LONG: "Shorten the prompt or the max tokens, or reload the model with a larger context.",
    FILE_NOT_FOUND: "Check the path; it is read on the machine that runs the engine.",
    DISPOSED: "The model was unloaded meanwhile — load it again.",
    BUSY: "The engine runs one thing at a time: wait for it or press Stop (Esc).",
    ABORTED: "Cancelled.",
    NATIVE_ADDON: "The native addon does not match node-llama-cpp: run `npm install` again.",
    TRAINING_STALLED: "Training stopped learning: check the llama.cpp version (see the toy world section of the README).",
    STEERING_UNSUPPORTED: "llama.cpp ignores control vectors (or hides block outputs) for this architecture: pick a model of a supported one (see the README's architecture table).",
    ENGINE_RESTARTED: "Load the model again to continue; runs and builds up to the crash are in the session.",
    ORACLE_UNAVAILABLE: "Check the endpoint URL, that the server is running, and the API key.",
    ORACLE_NONCONFORMING: "Point at an OpenAI-compatible /v1/completions endpoint that returns logprobs (llama.cpp server, vLLM, LM Studio, tiller suspect).",
    INTERNAL: "An unexpected error — check the engine's log; reloading the page reconnects."
};

export function errorHint(code: TillerErrorCode): string {
    return hints[code] ?? hints.INTERNAL;
}
