// One MessagePort client of the engine (the desktop app's renderer) attached to an RpcEndpoint
// (EngineProcessHost), exactly as `tiller serve` attaches a WebSocket: text frames of the wire's
// ClientMessage / ServerMessage in both directions, validated by the engine's RPC server, request
// ids private to the connection. When the engine restarts the host sends `engine.restarted` and
// drops the link: the port is closed, and the renderer's client asks for a new one.
// Electron-free: main passes its MessagePortMain; tests pass a worker_threads port in that shape.
import { MAX_CLIENT_FRAME_BYTES, type RpcEndpoint } from "./rpcEndpoint.js";

/** The slice of Electron's MessagePortMain used here (an EventEmitter with `{data}` message events). */
export interface RelayedPort {
    postMessage(message: string): void;
    on(event: "message", listener: (event: { data: unknown }) => void): unknown;
    on(event: "close", listener: () => void): unknown;
    start(): void;
    close(): void;
}

function log(line: string): void {
    process.stderr.write(`${line}\n`);
}

/** Relays `port` to a new connection of `endpoint` until either side closes. */
export function relayPort(endpoint: RpcEndpoint, port: RelayedPort): void {
    let open = true;
    const end = (): void => {
        if (!open)
            return;
        open = false;
        port.close();
    };
    const connection = endpoint.connect({
        send: (message) => {
            if (open)
                port.postMessage(JSON.stringify(message));
        },
        sendText: (frame) => {
            if (open)
                port.postMessage(frame);
        },
        drop: end
    });
    port.on("message", ({ data }) => {
        if (!open)
            return;
        // the same frames a WebSocket carries: text only (binary frames are ignored there too), bounded
        if (typeof data !== "string")
            return;
        if (data.length > MAX_CLIENT_FRAME_BYTES) {
            log(`tiller: closing an engine port that sent a ${data.length}-character frame`);
            end();
            connection.close();
            return;
        }
        connection.receive(data);
    });
    port.on("close", () => {
        open = false;
        connection.close();
    });
    port.start();
}
