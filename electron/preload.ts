// The preload: one fixed, named API object for the sandboxed page (TillerPreloadApi, ipcContract.ts).
// It speaks no engine protocol: it asks main for an engine connection and hands the MessagePort that
// main sends back to the page (contextBridge cannot carry ports; window.postMessage can), where the
// renderer's one client core (renderer/src/engineClient) runs over it.
// A sandboxed preload may require only "electron" and a few builtins, so this file is bundled into
// dist/electron/preload.cjs (vite.preload.config.ts): the contract's values are inlined, "electron"
// stays a require.
import { contextBridge, ipcRenderer, webUtils } from "electron";
import { enginePortMessage, ipcChannels, type TillerPreloadApi } from "./ipcContract.js";

ipcRenderer.on(ipcChannels.enginePort, (event) => {
    // to this window only, whatever its origin string ("*" names no other target: it is our own window)
    window.postMessage(enginePortMessage, "*", event.ports);
});

const api: TillerPreloadApi = {
    connectEngine: () => ipcRenderer.send(ipcChannels.connectEngine),
    openFileDialog: (kind) => ipcRenderer.invoke(ipcChannels.openFileDialog, kind) as Promise<string | null>,
    pathForFile: (file) => webUtils.getPathForFile(file),
    onOpenModel: (listener) => {
        const forward = (_event: Electron.IpcRendererEvent, file: unknown): void => {
            if (typeof file === "string")
                listener(file);
        };
        ipcRenderer.on(ipcChannels.openModel, forward);
        return () => {
            ipcRenderer.off(ipcChannels.openModel, forward);
        };
    }
};

contextBridge.exposeInMainWorld("tiller", api);
