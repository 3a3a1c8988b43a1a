// Probes → Forensics: which page of Probes is shown, and the black-box localisation (form,
// progress, result). The API key lives only in this store's memory: never persisted, never logged,
// sent to the engine with each request (the engine makes the HTTP calls; the page's CSP forbids it).
import { create } from "zustand";
import type { EngineParams, EngineResults } from "../../../engine/protocol/EngineContract";
import { getEngineClient } from "../engineClient/getEngineClient";
import { reportError } from "./notificationStore";

export type LocateResult = EngineResults["blackbox.locate"];

export interface BlackboxForm {
    endpoint: string;
    apiKey: string;
    prompt: string;
    /** empty: the endpoint's own greedy continuation */
    probe: string;
    budget: number;
}

export interface ForensicsProgress {
    kind: "locate";
    done: number;
    total: number;
    label: string;
}

interface ForensicsState {
    /** the Probes page shown: the susceptibility sweep (with "Explain a recorded run") or forensics */
    page: "sweep" | "forensics";
    tab: "blackbox";
    form: BlackboxForm;
    progress: ForensicsProgress | null;
    locate: LocateResult | null;
    setPage(page: "sweep" | "forensics"): void;
    setForm(patch: Partial<BlackboxForm>): void;
}

export const useForensicsStore = create<ForensicsState>()((set) => ({
    page: "sweep",
    tab: "blackbox",
    form: { endpoint: "http://127.0.0.1:8080/v1", apiKey: "", prompt: "", probe: "", budget: 300 },
    progress: null,
    locate: null,
    setPage: (page) => set({ page }),
    setForm: (patch) => set((state) => ({ form: { ...state.form, ...patch } }))
}));

let forensicsAbort: AbortController | null = null;

export function locateParams(form: BlackboxForm): EngineParams<"blackbox.locate"> | null {
    if (form.endpoint.trim() === "" || form.prompt.trim() === "")
        return null;
    return {
        endpoint: form.endpoint.trim(),
        prompt: form.prompt,
        budget: form.budget,
        ...(form.apiKey !== "" ? { apiKey: form.apiKey } : {}),
        ...(form.probe !== "" ? { probe: form.probe } : {})
    };
}

export async function runLocate(): Promise<void> {
    const { form, progress } = useForensicsStore.getState();
    const params = locateParams(form);
    if (progress != null || params == null)
        return;
    forensicsAbort = new AbortController();
    useForensicsStore.setState({ progress: { kind: "locate", done: 0, total: params.budget ?? 0, label: "starting" } });
    try {
        const locate = await getEngineClient().request("blackbox.locate", params, {
            signal: forensicsAbort.signal,
            onProgress: (update) => useForensicsStore.setState({ progress: { kind: "locate", done: update.done, total: update.total, label: update.label } })
        });
        useForensicsStore.setState({ locate });
    } catch (error) {
        if (!forensicsAbort.signal.aborted)
            reportError(error, "Localisation failed");
    } finally {
        forensicsAbort = null;
        useForensicsStore.setState({ progress: null });
    }
}

export function cancelForensics(): void {
    forensicsAbort?.abort();
}
