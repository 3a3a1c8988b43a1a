// The preload: one fixed, named API object for the sandboxed renderer. The engine's RPC runs over
// a MessagePort that main hands over (again after every engine restart); this file speaks the
// wire protocol on it so that the page never touches ipcRenderer or raw ports.
// A sandboxed preload is a CommonJS script with a restricted `require`: no import syntax here, so
// the emitted file has no module wrapper either.
// eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/consistent-type-imports
const { contextBridge, ipcRenderer, webUtils } = require("electron") as typeof import("electron");

type State = "connecting" | "connected" | "disconnected";
interface Pending { resolve(value: unknown): void; reject(error: unknown): void }

const channels = {
    enginePort: "tiller:engine-port",
    engineExited: "tiller:engine-exited",
    openModel: "tiller:open-model",
    openFileDialog: "tiller:open-file-dialog"
} as const;

let port: MessagePort | undefined;
let state: State = "connecting";
let nextId = 0;
const pending = new Map<string, Pending>();
const eventListeners = new Map<string, Set<(data: unknown) => void>>();
const stateListeners = new Set<(state: State) => void>();
const openModelListeners = new Set<(path: string) => void>();

function setState(next: State): void {
    state = next;
    for (const listener of stateListeners)
        listener(next);
}

ipcRenderer.on(channels.enginePort, (event) => {
    port = event.ports[0];
    if (port == null)
        return;
    port.onmessage = (message: MessageEvent) => {
        const data = message.data as { kind: string; id?: string; result?: unknown; error?: { code: string; message: string }; event?: string; data?: unknown };
        if (data.kind === "event" && data.event != null) {
            for (const listener of eventListeners.get(data.event) ?? [])
                listener(data.data);
            return;
        }
        const entry = data.id != null ? pending.get(data.id) : undefined;
        if (entry == null)
            return;
        pending.delete(data.id!);
        if (data.kind === "response")
            entry.resolve(data.result);
        else
            entry.reject(Object.assign(new Error(data.error?.message ?? "engine error"), { code: data.error?.code ?? "INTERNAL" }));
    };
    port.start();
    setState("connected");
});

ipcRenderer.on(channels.engineExited, (_event, detail: unknown) => {
    port = undefined;
    // the same notice `tiller serve` sends when its engine child dies (contract event engine.restarted)
    const code = (detail as { code?: unknown } | null)?.code;
    const reason = typeof code === "number" ? `it exited with code ${code}` : "it exited";
    for (const listener of eventListeners.get("engine.restarted") ?? [])
        listener({ reason });
    for (const entry of pending.values())
        entry.reject(Object.assign(new Error("the engine stopped unexpectedly; it is being restarted"), { code: "INTERNAL" }));
    pending.clear();
    setState("disconnected");
});

ipcRenderer.on(channels.openModel, (_event, file: unknown) => {
    if (typeof file === "string") {
        for (const listener of openModelListeners)
            listener(file);
    }
});

contextBridge.exposeInMainWorld("tiller", {
    engine: {
        /** `requestId` (optional, chosen by the renderer) is what `cancel` takes and what progress events carry */
        request(method: string, params: unknown, requestId?: unknown): Promise<unknown> {
            if (port == null)
                return Promise.reject(Object.assign(new Error("the engine is not connected yet"), { code: "BUSY" }));
            const id = typeof requestId === "string" && /^[\w.-]{1,64}$/.test(requestId) && !pending.has(requestId) ? requestId : `p${nextId++}`;
            const target = port;
            return new Promise((resolve, reject) => {
                pending.set(id, { resolve, reject });
                target.postMessage({ kind: "request", id, method, params });
            });
        },
        cancel(requestId: unknown): void {
            if (typeof requestId === "string" && pending.has(requestId))
                port?.postMessage({ kind: "cancel", id: requestId });
        },
        on(event: string, listener: (data: unknown) => void): () => void {
            const set = eventListeners.get(event) ?? new Set();
            set.add(listener);
            eventListeners.set(event, set);
            return () => set.delete(listener);
        },
        getState(): State {
            return state;
        },
        onStateChange(listener: (state: State) => void): () => void {
            stateListeners.add(listener);
            return () => stateListeners.delete(listener);
        }
    },
    openFileDialog(kind: "model" | "vector" | "dataset"): Promise<string | null> {
        return ipcRenderer.invoke(channels.openFileDialog, kind) as Promise<string | null>;
    },
    pathForFile(file: File): string {
        return webUtils.getPathForFile(file);
    },
    onOpenModel(listener: (path: string) => void): () => void {
        openModelListeners.add(listener);
        return () => openModelListeners.delete(listener);
    }
});
