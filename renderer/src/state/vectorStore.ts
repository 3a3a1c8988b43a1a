// The vector library, the built-in datasets, vector building (progress, diagnostics) and the
// library operations (rename, delete, export, import, combine).
import { create } from "zustand";
import type { DatasetInfo, EngineParams, EngineResults, VectorInfo } from "../../../engine/protocol/EngineContract";
import { getEngineClient } from "../engineClient/getEngineClient";
import { notify, reportError } from "./notificationStore";

export type BuildResult = Omit<EngineResults["vectors.build"], "vector"> & { vectorId: string; vectorName: string };

export interface BuildForm {
    dataset: string;
    method: "mean" | "pca-diff" | "pca-center";
    readAt: "last" | "mean" | "answer";
    /** null: every steerable layer */
    first: number | null;
    last: number | null;
    name: string;
}

export interface BuildProgress {
    running: boolean;
    done: number;
    total: number;
    label: string;
}

interface VectorState {
    /** library order (newest first) */
    ids: string[];
    byId: Record<string, VectorInfo>;
    problems: { file: string; message: string }[];
    datasets: DatasetInfo[];
    buildForm: BuildForm;
    build: BuildProgress | null;
    /** diagnostics of vectors built in this app, by vector id (kept in localStorage) */
    diagnostics: Record<string, BuildResult>;
    /** the build whose chart is shown */
    shownBuild: string | null;
    setBuildForm(patch: Partial<BuildForm>): void;
}

const DIAGNOSTICS_KEY = "tiller.buildDiagnostics";

function readDiagnostics(): Record<string, BuildResult> {
    try {
        const value: unknown = JSON.parse(localStorage.getItem(DIAGNOSTICS_KEY) ?? "{}");
        return value != null && typeof value === "object" ? value as Record<string, BuildResult> : {};
    } catch {
        return {};
    }
}

function saveDiagnostics(diagnostics: Record<string, BuildResult>): void {
    try {
        localStorage.setItem(DIAGNOSTICS_KEY, JSON.stringify(diagnostics));
    } catch {
        // not kept
    }
}

export const useVectorStore = create<VectorState>()((set) => ({
    ids: [],
    byId: {},
    problems: [],
    datasets: [],
    buildForm: { dataset: "", method: "mean", readAt: "last", first: null, last: null, name: "" },
    build: null,
    diagnostics: readDiagnostics(),
    shownBuild: null,
    setBuildForm: (patch) => set((state) => ({ buildForm: { ...state.buildForm, ...patch } }))
}));

function setVectors(vectors: VectorInfo[]): void {
    const sorted = [...vectors].sort((a, b) => b.metadata.createdAt.localeCompare(a.metadata.createdAt));
    useVectorStore.setState({ ids: sorted.map((vector) => vector.id), byId: Object.fromEntries(sorted.map((vector) => [vector.id, vector])) });
}

function upsertVector(vector: VectorInfo): void {
    const { ids, byId } = useVectorStore.getState();
    useVectorStore.setState({ ids: ids.includes(vector.id) ? ids : [vector.id, ...ids], byId: { ...byId, [vector.id]: vector } });
}

export async function refreshVectors(): Promise<void> {
    try {
        const { vectors, problems } = await getEngineClient().request("vectors.list", {});
        setVectors(vectors);
        useVectorStore.setState({ problems });
    } catch (error) {
        reportError(error, "Could not list the vector library");
    }
}

export async function refreshDatasets(): Promise<void> {
    try {
        const datasets = await getEngineClient().request("datasets.list", {});
        const { buildForm } = useVectorStore.getState();
        useVectorStore.setState({ datasets });
        if (buildForm.dataset === "" && datasets.length > 0)
            useVectorStore.getState().setBuildForm({ dataset: datasets.find((d) => d.name === "sentiment")?.name ?? datasets[0]!.name });
    } catch (error) {
        reportError(error, "Could not list the datasets");
    }
}

let buildAbort: AbortController | null = null;

/** Builds a vector from the Vectors view's form, or from `form` (a scenario's own settings). */
export async function buildVector(form?: BuildForm): Promise<void> {
    const { build } = useVectorStore.getState();
    const buildForm = form ?? useVectorStore.getState().buildForm;
    if (build?.running || buildForm.dataset === "")
        return;
    buildAbort = new AbortController();
    useVectorStore.setState({ build: { running: true, done: 0, total: 0, label: "starting" } });
    const params: EngineParams<"vectors.build"> = {
        dataset: buildForm.dataset,
        method: buildForm.method,
        readAt: buildForm.readAt,
        ...(buildForm.first != null && buildForm.last != null ? { layers: { first: buildForm.first, last: buildForm.last } } : {}),
        ...(buildForm.name.trim() !== "" ? { name: buildForm.name.trim() } : {})
    };
    try {
        const result = await getEngineClient().request("vectors.build", params, {
            signal: buildAbort.signal,
            onProgress: (progress) => useVectorStore.setState({ build: { running: true, done: progress.done, total: progress.total, label: progress.label } })
        });
        upsertVector(result.vector);
        const { vector, ...rest } = result;
        const diagnostics = { ...useVectorStore.getState().diagnostics, [vector.id]: { ...rest, vectorId: vector.id, vectorName: vector.name } };
        saveDiagnostics(diagnostics);
        const total = useVectorStore.getState().build?.total || 1;
        useVectorStore.setState({
            diagnostics, shownBuild: vector.id,
            build: { running: false, done: total, total, label: `built “${vector.name}” in ${(result.elapsedMs / 1000).toFixed(1)} s` }
        });
    } catch (error) {
        useVectorStore.setState({ build: null });
        reportError(error, "Could not build the vector");
    } finally {
        buildAbort = null;
    }
}

/** Shows the separation chart of vector `id`'s build. */
export function showBuild(id: string): void {
    useVectorStore.setState({ shownBuild: id });
}

export function cancelBuild(): void {
    buildAbort?.abort();
}

export async function renameVector(id: string, name: string): Promise<void> {
    try {
        upsertVector(await getEngineClient().request("vectors.rename", { id, name }));
    } catch (error) {
        reportError(error, "Could not rename the vector");
    }
}

export async function deleteVector(id: string): Promise<void> {
    try {
        await getEngineClient().request("vectors.delete", { id });
        const { ids, byId } = useVectorStore.getState();
        const rest = { ...byId };
        delete rest[id];
        useVectorStore.setState({ ids: ids.filter((item) => item !== id), byId: rest });
    } catch (error) {
        reportError(error, "Could not delete the vector");
    }
}

export async function exportVector(id: string, path: string, format: "gguf" | "npy"): Promise<boolean> {
    try {
        await getEngineClient().request("vectors.export", { id, path, format });
        notify("Vector exported", path);
        return true;
    } catch (error) {
        reportError(error, "Could not export the vector");
        return false;
    }
}

export async function importVector(path: string): Promise<boolean> {
    try {
        const vector = await getEngineClient().request("vectors.import", { path });
        upsertVector(vector);
        notify("Vector imported", vector.name);
        return true;
    } catch (error) {
        reportError(error, "Could not import the vector");
        return false;
    }
}

export async function combineVectors(terms: { id: string; weight: number }[], name: string): Promise<boolean> {
    try {
        const vector = await getEngineClient().request("vectors.combine", { terms, name });
        upsertVector(vector);
        notify("Vector combined", vector.name);
        return true;
    } catch (error) {
        reportError(error, "Could not combine the vectors");
        return false;
    }
}

/** the layer to read a vector at by default: its best layer when it was built here, else its middle layer */
export function defaultLayerOf(vectorId: string): number | null {
    const { byId, diagnostics } = useVectorStore.getState();
    const best = diagnostics[vectorId]?.bestLayer;
    const layers = byId[vectorId]?.layers ?? [];
    if (best != null && layers.includes(best))
        return best;
    if (layers.length === 0)
        return best ?? null;
    const sorted = [...layers].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
}
