// The two links EngineClientCore runs over, chosen at the edge (getEngineClient): a WebSocket to
// `tiller serve` (the browser), or a MessagePort that Electron main relays to the engine process
// (the desktop app). Both carry the same JSON text frames; this file is all that differs, and the
// only one in the renderer that touches WebSocket or MessagePort.
import { enginePortMessage, type TillerPreloadApi } from "../../../electron/ipcContract";
import type { EngineConnector } from "./EngineClientCore";

/**
 * The URL of the engine's WebSocket for a page served by `tiller serve` (same origin). The server
 * exchanged the URL's token for an HttpOnly cookie, which the browser sends with the upgrade; a
 * token still in the address (an older server) is passed on.
 */
export function engineSocketUrl(location: Pick<Location, "protocol" | "host" | "search">): string {
    const token = new URLSearchParams(location.search).get("token");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/rpc${token != null ? `?token=${encodeURIComponent(token)}` : ""}`;
}

export function webSocketConnector(url: string): EngineConnector {
    return (events) => {
        const socket = new WebSocket(url); // a throw here counts as a failed attempt (EngineClientCore)
        socket.onopen = () => events.opened();
        socket.onmessage = (message) => {
            if (typeof message.data === "string")
                events.received(message.data);
        };
        socket.onclose = () => events.closed();
        socket.onerror = () => {
            // onclose follows and reports it
        };
        return {
            send: (frame) => {
                if (socket.readyState === WebSocket.OPEN)
                    socket.send(frame);
            },
            close: () => socket.close()
        };
    };
}

/** The MessagePort API used here: the DOM's (the page), or Node's worker_threads port (tests). */
export interface EnginePort {
    onmessage: ((event: MessageEvent) => void) | null;
    addEventListener(type: "close", listener: () => void): void;
    postMessage(message: string): void;
    close(): void;
}

/**
 * Links over MessagePorts from `requestPort` (a new port per link; it rejects when none comes).
 * The port's far end closes when the engine restarts or main drops the connection (the `close`
 * event Electron and Chromium send for entangled ports).
 */
export function messagePortConnector(requestPort: () => Promise<EnginePort>): EngineConnector {
    return (events) => {
        let port: EnginePort | null = null;
        let abandoned = false;
        requestPort().then((received) => {
            if (abandoned) {
                received.close();
                return;
            }
            port = received;
            received.addEventListener("close", () => events.closed());
            received.onmessage = (message) => { // setting onmessage starts the port
                if (typeof message.data === "string")
                    events.received(message.data);
            };
            events.opened();
        }, () => events.closed());
        return {
            send: (frame) => port?.postMessage(frame),
            close: () => {
                abandoned = true;
                port?.close();
            }
        };
    };
}

/** How long to wait for main to hand over an engine port before trying again. */
const PORT_TIMEOUT_MS = 10_000;

/** Ports from Electron main: asks through the preload, then waits for the preload to post the port to this window. */
export function preloadPortSource(preload: TillerPreloadApi): () => Promise<EnginePort> {
    return () => new Promise((resolve, reject) => {
        const onMessage = (event: MessageEvent): void => {
            // only the preload posts this, to this very window
            if (event.source !== window || event.data !== enginePortMessage || event.ports[0] == null)
                return;
            finish();
            resolve(event.ports[0]);
        };
        const timer = setTimeout(() => {
            finish();
            reject(new Error("no engine port from the main process"));
        }, PORT_TIMEOUT_MS);
        const finish = (): void => {
            clearTimeout(timer);
            window.removeEventListener("message", onMessage);
        };
        window.addEventListener("message", onMessage);
        preload.connectEngine();
    });
}
