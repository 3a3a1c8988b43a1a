// The Model view's machine-wide state: the GGUF files the engine found (scan), the recommended
// catalog with its downloads (progress, cancel, resume), and the backends the engine can load on.
import { create } from "zustand";
import type { BackendsInfo, CatalogModelInfo, ScannedModelInfo } from "../../../engine/protocol/models";
import { getEngineClient } from "../engineClient/getEngineClient";
import { errorPayloadOf, notify, reportError } from "./notificationStore";

export interface DownloadState {
    status: "downloading" | "cancelled" | "failed" | "done";
    done: number;
    total: number;
    /** where it landed, once done */
    path?: string;
    message?: string;
}

interface ModelLibraryState {
    scanned: ScannedModelInfo[] | null;
    modelsDir: string | null;
    scanning: boolean;
    catalog: CatalogModelInfo[] | null;
    /** by catalog id (or the URI for a typed one) */
    downloads: Record<string, DownloadState>;
    backends: BackendsInfo | null;
}

export const useModelLibraryStore = create<ModelLibraryState>()(() => ({
    scanned: null,
    modelsDir: null,
    scanning: false,
    catalog: null,
    downloads: {},
    backends: null
}));

/** the in-flight downloads' cancel switches, by the same key as `downloads` */
const downloadControllers = new Map<string, AbortController>();

export async function scanModels(): Promise<void> {
    if (useModelLibraryStore.getState().scanning)
        return;
    useModelLibraryStore.setState({ scanning: true });
    try {
        const { models, modelsDir } = await getEngineClient().request("models.scan", {});
        useModelLibraryStore.setState({ scanned: models, modelsDir });
    } catch (error) {
        reportError(error, "Could not scan for models");
    } finally {
        useModelLibraryStore.setState({ scanning: false });
    }
}

export async function refreshCatalogAndBackends(): Promise<void> {
    const client = getEngineClient();
    const [catalog, backends] = await Promise.allSettled([client.request("models.catalog", {}), client.request("backends.info", {})]);
    if (catalog.status === "fulfilled")
        useModelLibraryStore.setState({ catalog: catalog.value.models, modelsDir: catalog.value.modelsDir });
    else
        reportError(catalog.reason, "Could not read the model catalog");
    if (backends.status === "fulfilled")
        useModelLibraryStore.setState({ backends: backends.value });
    else
        reportError(backends.reason, "Could not read the backends");
}

function setDownload(key: string, state: DownloadState): void {
    useModelLibraryStore.setState((current) => ({ downloads: { ...current.downloads, [key]: state } }));
}

/** Downloads into the project's models/ folder; a cancelled download keeps its part and resumes on the next try. */
export async function downloadModel(key: string, uri: string): Promise<void> {
    if (downloadControllers.has(key))
        return;
    const controller = new AbortController();
    downloadControllers.set(key, controller);
    const previous = useModelLibraryStore.getState().downloads[key];
    setDownload(key, { status: "downloading", done: previous?.done ?? 0, total: previous?.total ?? 0 });
    try {
        const result = await getEngineClient().request("models.download", { uri }, {
            signal: controller.signal,
            onProgress: (progress) => setDownload(key, { status: "downloading", done: progress.done, total: progress.total })
        });
        setDownload(key, { status: "done", done: result.sizeBytes, total: result.sizeBytes, path: result.path });
        notify("Model downloaded", result.path);
        void scanModels();
    } catch (error) {
        const payload = errorPayloadOf(error);
        const current = useModelLibraryStore.getState().downloads[key];
        if (payload.code === "ABORTED")
            setDownload(key, { status: "cancelled", done: current?.done ?? 0, total: current?.total ?? 0, message: "cancelled; Download again resumes it" });
        else {
            setDownload(key, { status: "failed", done: current?.done ?? 0, total: current?.total ?? 0, message: payload.message });
            reportError(error, "The download failed");
        }
    } finally {
        downloadControllers.delete(key);
    }
}

export function cancelDownload(key: string): void {
    downloadControllers.get(key)?.abort();
}
