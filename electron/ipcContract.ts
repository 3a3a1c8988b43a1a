// The contract between Electron main, the preload and the page, in one place: the IPC channels
// (main ↔ preload), the page message that hands over the engine's port (preload → page), and the
// API the preload exposes on `window.tiller`. The engine's own RPC does not go through here: it
// travels as wire frames on a MessagePort that main relays to the engine process.
// Pure declarations: main (tsc), the preload (bundled) and the renderer (Vite) all import it.

export const ipcChannels = {
    /** page → main (via the preload): open a connection to the engine; main answers on enginePort */
    connectEngine: "tiller:connect-engine",
    /** main → preload: the MessagePort of a new engine connection */
    enginePort: "tiller:engine-port",
    /** main → renderer: open this model (from the menu, drag-and-drop on the dock, or --model) */
    openModel: "tiller:open-model",
    /** renderer → main (invoke): a native open-file dialog */
    openFileDialog: "tiller:open-file-dialog"
} as const;

/**
 * The window message the preload posts to hand the engine's MessagePort to the page
 * (contextBridge cannot carry ports; window.postMessage with a transfer list can).
 */
export const enginePortMessage = "tiller:engine-port";

export type FileDialogKind = "model" | "vector" | "dataset";
export const fileDialogKinds: readonly FileDialogKind[] = ["model", "vector", "dataset"];

/** What the preload exposes on `window.tiller` (absent in a plain browser, where the page talks WebSocket). */
export interface TillerPreloadApi {
    /** asks main for a new engine connection; its port arrives as a window message `enginePortMessage` */
    connectEngine(): void;
    /** a native open dialog; resolves with the chosen path, or null when cancelled */
    openFileDialog(kind: FileDialogKind): Promise<string | null>;
    /** the path of a dropped file (Electron's webUtils.getPathForFile) */
    pathForFile(file: File): string;
    /** main asks to open a model (menu, file dropped on the dock icon, --model); returns an unsubscribe */
    onOpenModel(listener: (path: string) => void): () => void;
}
