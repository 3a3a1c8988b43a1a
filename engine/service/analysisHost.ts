// What the engine service lends the analysis requests (probes, forensics), and the context
// discipline they share.
//
// Single-context discipline: the service's context is claimed for the whole analysis (a run in
// progress makes it fail with BUSY, and a run started during one fails the same way), while the work
// itself happens in a context of its own, created `precise` (F16 rounding in the KV cache would
// swamp the small finite differences) with the shape the analysis needs (runtime/contextShapes.ts).
import type { EngineEvents, PatchSpec } from "../protocol/EngineContract.js";
import { TillerError } from "../protocol/TillerError.js";
import type { ContextShape } from "../runtime/contextShapes.js";
import type { SteeringPatch } from "../runtime/SteeringPatch.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import type { TillerModel } from "../runtime/TillerModel.js";
import type { SessionWriter } from "../sessions/SessionWriter.js";
import type { VectorLibrary } from "../vectors/library/VectorLibrary.js";

/** The loaded model as an analysis sees it. */
export interface LoadedForAnalysis {
    model: TillerModel;
    /** the service's context: claimed for the analysis's duration, never decoded into */
    context: TillerContext;
    /** the model's session, created at the first recorded action */
    session(): Promise<SessionWriter>;
}

export interface AnalysisHost {
    /** the loaded model; INVALID_ARGUMENT when none is */
    loaded(): LoadedForAnalysis;
    library: VectorLibrary;
    /** the engine's default thread count, if it was given one */
    threads: number | undefined;
    toPatches(specs: readonly PatchSpec[]): Promise<SteeringPatch[]>;
    emitProgress(data: EngineEvents["progress"]): void;
}

/** Claims the service's context (BUSY while a run goes), runs `work` in a precise context of its own. */
export async function withAnalysisContext<T>(host: AnalysisHost, loaded: LoadedForAnalysis, what: string, shape: ContextShape,
    work: (context: TillerContext) => Promise<T>): Promise<T> {
    const release = loaded.context.claim(what);
    try {
        const context = await loaded.model.createContext({ ...shape, threads: host.threads ?? loaded.context.threads, precise: true });
        try {
            return await work(context);
        } finally {
            await context.dispose();
        }
    } finally {
        release();
    }
}

/** An analysed text may be as long as the loaded model's context, not longer (its own context is sized to the text). */
export function assertFitsContext(loaded: LoadedForAnalysis, tokens: number): void {
    if (tokens > loaded.context.contextSize)
        throw new TillerError("PROMPT_TOO_LONG", `prompt + completion are ${tokens} tokens but the loaded context holds ${loaded.context.contextSize}; shorten them or load the model with a larger context`);
}
