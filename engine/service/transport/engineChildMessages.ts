// The IPC messages between `tiller serve` (EngineProcessHost) and its engine child (engineChildMain).
import type { TillerErrorPayload } from "../../protocol/TillerError.js";

export type HostToChild =
    | { kind: "connect"; conn: number }
    | { kind: "message"; conn: number; data: string }
    | { kind: "close"; conn: number };

export type ChildToHost =
    | { kind: "ready"; error?: TillerErrorPayload }
    | { kind: "frame"; conn: number; frame: string };
