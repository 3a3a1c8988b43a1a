// The one hand-written contract between the engine and its clients (the renderer, scripts).
// Every transport (Electron MessagePort, WebSocket for `tiller serve`, in-process) carries exactly
// these requests and events; clients and servers derive their types from the maps below.
//
// This file only assembles the maps. Each domain keeps its schemas and result types in a file of
// its own (shapes shared across domains in shapes.ts; the wire messages in wire.ts). Adding a
// request: its schema and result type in the domain's file (or a new file with its own map), one
// spread line in engineRequestSchemas and one name in EngineResults' extends list, one handler in
// the engine service.
import type { z } from "zod";
import { modelRequestSchemas, type ModelEvents, type ModelResults } from "./models.js";
import { probeRequestSchemas, type ProbeResults } from "./probes.js";
import { runRequestSchemas, type RunEvents, type RunResults } from "./runs.js";
import { sessionRequestSchemas, type SessionResults } from "./sessions.js";
import { thermoRequestSchemas, type ThermoResults } from "./thermoRequests.js";
import { vectorRequestSchemas, type VectorResults } from "./vectors.js";
import { blackboxRequestSchemas, type BlackboxResults } from "./blackbox.js";
import { forensicsRequestSchemas, type ForensicsResults } from "./forensics.js";

// Every domain's names are importable from here too (one re-export each, so callers need not know
// which file a type lives in).
export * from "./shapes.js";
export * from "./models.js";
export * from "./vectors.js";
export * from "./runs.js";
export * from "./probes.js";
export * from "./sessions.js";
export * from "./blackbox.js";
export * from "./forensics.js";
export * from "./thermoRequests.js";

/** Every request: its params' schema (validated at the server boundary). */
export const engineRequestSchemas = {
    ...modelRequestSchemas,
    ...vectorRequestSchemas,
    ...runRequestSchemas,
    ...probeRequestSchemas,
    ...sessionRequestSchemas,
    ...blackboxRequestSchemas,
    ...forensicsRequestSchemas,
    ...thermoRequestSchemas
} as const;

/** Every request's result type. */
export interface EngineResults extends
    ModelResults,
    VectorResults,
    RunResults,
    ProbeResults,
    SessionResults,
    BlackboxResults,
    ForensicsResults,
    ThermoResults {}

export type EngineMethod = keyof typeof engineRequestSchemas;
export type EngineParams<M extends EngineMethod> = z.input<typeof engineRequestSchemas[M]>;
export type EngineResult<M extends EngineMethod> = EngineResults[M];

/** Events (engine → client, unsolicited). */
export interface EngineEvents extends
    RunEvents,
    ModelEvents {
    /** progress of a long request, by request id */
    "progress": { requestId: string; done: number; total: number; label: string };
    /** the engine process died and a fresh one was started (it knows no model); sent just before the transport drops */
    "engine.restarted": { reason: string };
}
export type EngineEventName = keyof EngineEvents;
