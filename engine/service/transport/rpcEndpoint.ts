// Where engine clients are attached, whatever carries them (a WebSocket of `tiller serve`, a
// MessagePort Electron main relays): the engine in this process (EngineRpcServer) or in a process of
// its own (EngineProcessHost). Free of Node and Electron imports, so Electron main can use it too.
import type { RpcConnection } from "../EngineRpcServer.js";

/** One client as the engine side sees it. */
export interface RpcClientLink extends RpcConnection {
    /** a ServerMessage already serialised (the engine child sends frames, not objects) */
    sendText(frame: string): void;
    /** close the transport: the client reconnects (used when the engine behind it restarted) */
    drop(reason: string): void;
}

export interface RpcEndpoint {
    connect(client: RpcClientLink): { receive(raw: string): void; close(): void };
}

/** The largest client frame read; a longer one ends the connection (WebSocket close 1009). */
export const MAX_CLIENT_FRAME_BYTES = 16 * 1024 * 1024;
