// Picks the transport at the edge (DESIGN.md §1): in the desktop app (the preload's `window.tiller`
// is there) a MessagePort that Electron main relays to the engine process, otherwise the WebSocket
// of `tiller serve` on the page's own origin. One client core over either.
import type { TillerPreloadApi } from "../../../electron/ipcContract";
import { EngineClientCore } from "./EngineClientCore";
import { engineSocketUrl, messagePortConnector, preloadPortSource, webSocketConnector } from "./engineLinks";
import type { RendererEngineClient } from "./RendererEngineClient";

declare global {
    interface Window {
        tiller?: TillerPreloadApi;
    }
}

let client: RendererEngineClient | null = null;

export function getEngineClient(): RendererEngineClient {
    if (client == null) {
        const preload = window.tiller;
        client = new EngineClientCore(preload != null
            ? messagePortConnector(preloadPortSource(preload))
            : webSocketConnector(engineSocketUrl(window.location)));
    }
    return client;
}
