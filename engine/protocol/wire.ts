// The wire: the messages every transport (Electron MessagePort, WebSocket, in-process) carries, and
// the client interface built on them. Derived from the contract's maps in EngineContract.ts.
import { z } from "zod";
import type { EngineEventName, EngineEvents, EngineMethod, EngineParams, EngineResult } from "./EngineContract.js";
import type { TillerErrorPayload } from "./TillerError.js";

export type ClientMessage =
    | { kind: "request"; id: string; method: EngineMethod; params: unknown }
    | { kind: "cancel"; id: string };

export type ServerMessage =
    | { kind: "response"; id: string; result: unknown }
    | { kind: "error"; id: string; error: TillerErrorPayload }
    | { kind: "event"; event: EngineEventName; data: unknown };

export const clientMessageSchema = z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("request"), id: z.string().min(1).max(100), method: z.string(), params: z.unknown() }),
    z.object({ kind: z.literal("cancel"), id: z.string().min(1).max(100) })
]);

/** What every client offers, whatever carries it (MessagePort, WebSocket, in-process). */
export interface EngineClient {
    request<M extends EngineMethod>(method: M, params: EngineParams<M>, options?: { signal?: AbortSignal }): Promise<EngineResult<M>>;
    on<E extends EngineEventName>(event: E, listener: (data: EngineEvents[E]) => void): () => void;
    /** "connected" until the transport drops (the engine process died, the server stopped) */
    readonly state: "connecting" | "connected" | "disconnected";
    onStateChange(listener: (state: "connecting" | "connected" | "disconnected") => void): () => void;
}
