// The loaded model, the load form and the recent-models list.
import { create } from "zustand";
import type { LoadedModelInfo } from "../../../engine/protocol/EngineContract";
import type { BackendChoice } from "../../../engine/protocol/models";
import { getEngineClient } from "../engineClient/getEngineClient";
import { readRecentModels, rememberRecentModel, forgetRecentModel } from "../lib/recentModels";
import { notify, reportError } from "./notificationStore";

export interface ModelForm {
    path: string;
    /** "auto" or a number of layers to offload */
    gpuLayers: "auto" | number;
    /** the llama.cpp backend to load on ("auto": the engine's) */
    backend: BackendChoice;
    /** empty: the engine's default (the model's training context, at most 4096) */
    contextSize: number | null;
    /** empty: the engine's default (the cores available) */
    threads: number | null;
}

interface ModelState {
    model: LoadedModelInfo | null;
    busy: "loading" | "unloading" | null;
    progressLabel: string;
    form: ModelForm;
    recent: string[];
    setForm(patch: Partial<ModelForm>): void;
}

export const useModelStore = create<ModelState>()((set) => ({
    model: null,
    busy: null,
    progressLabel: "",
    form: { path: readRecentModels()[0] ?? "", gpuLayers: "auto", backend: "auto", contextSize: null, threads: null },
    recent: readRecentModels(),
    setForm: (patch) => set((state) => ({ form: { ...state.form, ...patch } }))
}));

/** The engine reports its loaded model (on connecting, and on `model.changed`). */
export function modelChanged(model: LoadedModelInfo | null): void {
    useModelStore.setState({ model });
}

export async function loadModel(): Promise<void> {
    const { form, busy } = useModelStore.getState();
    const path = form.path.trim();
    if (busy != null || path === "")
        return;
    useModelStore.setState({ busy: "loading", progressLabel: "loading the model" });
    try {
        const model = await getEngineClient().request("model.load", {
            path,
            gpuLayers: form.gpuLayers,
            ...(form.backend !== "auto" ? { backend: form.backend } : {}),
            ...(form.contextSize != null ? { contextSize: form.contextSize } : {}),
            ...(form.threads != null ? { threads: form.threads } : {})
        }, { onProgress: (progress) => useModelStore.setState({ progressLabel: progress.label }) });
        useModelStore.setState({ model, recent: rememberRecentModel(path) });
        notify("Model loaded", model.fileName);
    } catch (error) {
        reportError(error, "Could not load the model");
    } finally {
        useModelStore.setState({ busy: null, progressLabel: "" });
    }
}

export async function unloadModel(): Promise<void> {
    if (useModelStore.getState().busy != null)
        return;
    useModelStore.setState({ busy: "unloading" });
    try {
        await getEngineClient().request("model.unload", {});
        useModelStore.setState({ model: null });
    } catch (error) {
        reportError(error, "Could not unload the model");
    } finally {
        useModelStore.setState({ busy: null });
    }
}

export function forgetRecent(path: string): void {
    useModelStore.setState({ recent: forgetRecentModel(path) });
}
