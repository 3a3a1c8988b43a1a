// How urgently a context's decodes compete for the CPU. A desktop lab must keep its UI responsive
// while a model decodes, so an engine serving a UI (`tiller serve`, the desktop app) decodes at
// "background" priority: below the engine's own JavaScript thread (which streams the tokens) and,
// where the scheduler compares them (the same autogroup: the desktop app's processes, not a browser
// started from another session), the renderer; and on one core fewer by default (below), which
// helps whatever the scheduler does. The CLI's own commands decode at "normal" unless asked.
//
// "background" runs the context's llama.cpp work on a thread of its own with a lowered priority
// (engine/native/src/background_thread.h): on Linux nice + 10 (capped at 19) for that thread and
// ggml's worker threads (they inherit it); QoS "utility" on macOS; below-normal on Windows.
import { TillerError } from "../protocol/TillerError.js";

export const decodePriorities = ["normal", "background"] as const;
export type DecodePriority = typeof decodePriorities[number];

/** An engine serving a UI decodes in the background unless told otherwise. */
export const UI_ENGINE_DECODE_PRIORITY: DecodePriority = "background";

/**
 * Decode threads when none are asked for: the cores available, and one fewer (at least one) at
 * background priority, so the UI always finds a core. ggml's threads meet at a spinning barrier
 * after every operation; when the UI preempts one of them, the others spin until it runs again,
 * and at a lowered priority that can be long: on this 2-core machine (load ~4) 200 tokens of an
 * 8 × 512 model took 2.6-97 s with 2 threads, 0.6-1.0 s with 1 (README "Decode priority").
 */
export function defaultDecodeThreads(priority: DecodePriority, cores: number): number {
    return priority === "background" ? Math.max(1, cores - 1) : cores;
}

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
