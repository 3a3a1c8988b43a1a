// What the Electron preload exposes on `window.tiller` (one fixed, named API object; STYLE.md §3).
// Absent in a plain browser (`tiller serve`), where the renderer talks WebSocket instead.
import type { EngineMethod, EngineParams, EngineResult } from "../../../engine/protocol/EngineContract";
import type { EngineClient } from "../../../engine/protocol/wire";

export type EngineConnectionState = EngineClient["state"];

/**
 * The engine as the preload hands it over. contextBridge copies values and cannot carry getters
 * or AbortSignals, so `state` may be a snapshot (or absent, with `getState()` instead), requests
 * carry a plain id instead of a signal, and the renderer wraps this object in an adapter that keeps
 * track of the state.
 */
export interface PreloadEngine {
    /** `requestId`: the renderer's id for the request, for `cancel` and for telling its progress events apart */
    request<M extends EngineMethod>(method: M, params: EngineParams<M>, requestId?: string): Promise<EngineResult<M>>;
    /** asks the engine to stop request `requestId` (it then fails with ABORTED) */
    cancel?(requestId: string): void;
    on: EngineClient["on"];
    onStateChange: EngineClient["onStateChange"];
    readonly state?: EngineConnectionState;
    getState?(): EngineConnectionState;
}

export type FileDialogKind = "model" | "vector" | "dataset";

export interface TillerPreloadApi {
    engine: PreloadEngine;
    /** a native open/save dialog; resolves with the chosen path, or null when cancelled */
    openFileDialog?(kind: FileDialogKind): Promise<string | null>;
    /** the path of a dropped file (Electron's webUtils.getPathForFile) */
    pathForFile?(file: File): string;
    /** main asks to open a model (menu, file dropped on the dock icon, --model); returns an unsubscribe */
    onOpenModel?(listener: (path: string) => void): () => void;
}

declare global {
    interface Window {
        tiller?: TillerPreloadApi;
    }
}
