// How urgently a context's decodes compete for the CPU. A desktop lab must keep its UI responsive
// while a model decodes, so an engine serving a UI (`tiller serve`, the desktop app) decodes at
// "background" priority: below its own JavaScript thread (which streams the tokens), the server
// and the browser's renderer. The CLI's own commands decode at "normal" unless asked.
//
// "background" runs the context's llama.cpp work on a thread of its own with a lowered priority
// (engine/native/src/background_thread.h): on Linux nice + 10 (capped at 19) for that thread and
// ggml's worker threads (they inherit it); QoS "utility" on macOS; below-normal on Windows.
import { TillerError } from "../protocol/TillerError.js";

export const decodePriorities = ["normal", "background"] as const;
export type DecodePriority = typeof decodePriorities[number];

/** An engine serving a UI decodes in the background unless told otherwise. */
export const UI_ENGINE_DECODE_PRIORITY: DecodePriority = "background";

/** `name` as a decode priority, or INVALID_ARGUMENT naming the choices. */
export function parseDecodePriority(name: string): DecodePriority {
    const priority = decodePriorities.find((entry) => entry === name);
    if (priority == null)
        throw new TillerError("INVALID_ARGUMENT", `the decode priority must be one of ${decodePriorities.join(", ")}; got "${name}"`);
    return priority;
}

/** `$TILLER_DECODE_PRIORITY` (how `tiller serve` tells its engine process), or undefined when unset. */
export function decodePriorityFromEnv(env: NodeJS.ProcessEnv = process.env): DecodePriority | undefined {
    const name = env.TILLER_DECODE_PRIORITY;
    return name == null || name === "" ? undefined : parseDecodePriority(name);
}
