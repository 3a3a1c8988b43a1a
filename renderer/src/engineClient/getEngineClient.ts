// Picks the transport at the edge (DESIGN.md §1): in the desktop app (the preload's `window.tiller`
// is there) a MessagePort that Electron main relays to the engine process, otherwise the WebSocket
// of `tiller serve` on the page's own origin. One client core over either.
import { enginePortMessage, type TillerPreloadApi } from "../../../electron/ipcContract";
import { EngineClientCore } from "./EngineClientCore";
import { engineSocketUrl, messagePortConnector, webSocketConnector, type EnginePort } from "./engineLinks";
import type { RendererEngineClient } from "./RendererEngineClient";

declare global {
    interface Window {
        tiller?: TillerPreloadApi;
    }
}

/** How long to wait for main to hand over an engine port before trying again. */
const PORT_TIMEOUT_MS = 10_000;

let client: RendererEngineClient | null = null;

export function getEngineClient(): RendererEngineClient {
    if (client == null) {
        const preload = window.tiller;
        client = new EngineClientCore(preload != null
            ? messagePortConnector(() => requestEnginePort(preload))
            : webSocketConnector(engineSocketUrl(window.location)));
    }
    return client;
}

/** Asks main (through the preload) for an engine port and waits for the preload to post it to this window. */
function requestEnginePort(preload: TillerPreloadApi): Promise<EnginePort> {
    return new Promise((resolve, reject) => {
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
