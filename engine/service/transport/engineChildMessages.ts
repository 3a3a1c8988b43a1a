// The messages between EngineProcessHost and its engine process (serveEngineChild), over Node IPC
// (`tiller serve`) or Electron's parentPort (the desktop app).
import type { TillerErrorPayload } from "../../protocol/TillerError.js";

export type HostToChild =
    | { kind: "connect"; conn: number }
    | { kind: "message"; conn: number; data: string }
    | { kind: "close"; conn: number };

export type ChildToHost =
    | { kind: "ready"; error?: TillerErrorPayload }
    | { kind: "frame"; conn: number; frame: string };
