// The messages between EngineProcessHost and its engine process (serveEngineChild), over Node IPC
// (`tiller serve`) or Electron's parentPort (the desktop app).
import type { TillerErrorPayload } from "../../protocol/TillerError.js";

export type HostToChild =
    | { kind: "connect"; conn: number }
    /** a client message: parsed by the host when it is JSON (the child parses the rest and answers the error) */
    | { kind: "message"; conn: number; data: unknown }
    | { kind: "close"; conn: number };

export type ChildToHost =
    | { kind: "ready"; error?: TillerErrorPayload }
    | { kind: "frame"; conn: number; frame: string }
    /** the engine is done with one of the connection's messages (fairRequestQueue meters by this) */
    | { kind: "settled"; conn: number; id: string };
