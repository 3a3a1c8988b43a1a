// The few channels between Electron main and the preload, in one place (the engine's own RPC does
// not go through here: it travels on a MessagePort straight to the engine's utility process).
export const ipcChannels = {
    /** main → renderer: the MessagePort to the engine (sent again after every engine restart) */
    enginePort: "tiller:engine-port",
    /** main → renderer: the engine process died and is being restarted */
    engineExited: "tiller:engine-exited",
    /** main → renderer: open this model (from the menu, drag-and-drop on the dock, or --model) */
    openModel: "tiller:open-model",
    /** renderer → main (invoke): a native open-file dialog */
    openFileDialog: "tiller:open-file-dialog"
} as const;

export type FileDialogKind = "model" | "vector" | "dataset";
export const fileDialogKinds: readonly FileDialogKind[] = ["model", "vector", "dataset"];
