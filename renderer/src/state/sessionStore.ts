// The Sessions view's state: the list (with its search), the opened session (read from disk by the
// engine, no model needed), and the replay and export in progress with their results.
import { create } from "zustand";
import type { RunReplayInfo, SessionDetailInfo, SessionSummaryInfo } from "../../../engine/protocol/sessions";
import { getEngineClient } from "../engineClient/getEngineClient";
import { notify, reportError } from "./notificationStore";

export interface ReplayState {
    busy: boolean;
    label: string;
    done: number;
    total: number;
    /** per run index, once the replay finished */
    results: Record<number, RunReplayInfo> | null;
    /** the model the replay ran on, and whether the replay had to load it */
    modelPath: string | null;
    loadedModel: boolean;
}

export interface ExportForm {
    path: string;
    format: "folder" | "zip";
}

interface SessionState {
    sessions: SessionSummaryInfo[];
    search: string;
    listing: boolean;
    openedId: string | null;
    opened: SessionDetailInfo | null;
    opening: boolean;
    replay: ReplayState | null;
    exportForm: ExportForm;
    exporting: boolean;
    /** the last export's path and file count */
    exported: { path: string; files: number } | null;
}

export const useSessionStore = create<SessionState>()(() => ({
    sessions: [],
    search: "",
    listing: false,
    openedId: null,
    opened: null,
    opening: false,
    replay: null,
    exportForm: { path: "", format: "folder" },
    exporting: false,
    exported: null
}));

let listRequest = 0;

export async function refreshSessions(search = useSessionStore.getState().search): Promise<void> {
    const request = ++listRequest;
    useSessionStore.setState({ search, listing: true });
    try {
        const sessions = await getEngineClient().request("sessions.list", search.trim() !== "" ? { search: search.trim() } : {});
        if (request === listRequest) // a later search won
            useSessionStore.setState({ sessions });
    } catch (error) {
        reportError(error, "Could not list the sessions");
    } finally {
        if (request === listRequest)
            useSessionStore.setState({ listing: false });
    }
}

export async function openSession(id: string): Promise<void> {
    useSessionStore.setState({ openedId: id, opening: true, replay: null, exported: null });
    try {
        const opened = await getEngineClient().request("sessions.open", { id });
        if (useSessionStore.getState().openedId === id)
            useSessionStore.setState({ opened });
    } catch (error) {
        reportError(error, "Could not open the session");
        if (useSessionStore.getState().openedId === id)
            useSessionStore.setState({ openedId: null, opened: null });
    } finally {
        useSessionStore.setState({ opening: false });
    }
}

export function closeSession(): void {
    useSessionStore.setState({ openedId: null, opened: null, replay: null, exported: null });
}

export async function renameSession(id: string, name: string): Promise<boolean> {
    try {
        const renamed = await getEngineClient().request("sessions.rename", { id, name });
        useSessionStore.setState((state) => ({
            sessions: state.sessions.map((session) => (session.id === id ? renamed : session)),
            opened: state.opened?.id === id ? { ...state.opened, name: renamed.name } : state.opened
        }));
        return true;
    } catch (error) {
        reportError(error, "Could not rename the session");
        return false;
    }
}

export async function deleteSession(id: string): Promise<void> {
    try {
        await getEngineClient().request("sessions.delete", { id });
        useSessionStore.setState((state) => ({ sessions: state.sessions.filter((session) => session.id !== id) }));
        if (useSessionStore.getState().openedId === id)
            closeSession();
        notify("Session deleted");
    } catch (error) {
        reportError(error, "Could not delete the session");
    }
}

/** Replays the opened session (every run, or one); loads its model in the engine when needed. */
export async function replaySession(runIndex?: number): Promise<void> {
    const { opened, replay } = useSessionStore.getState();
    if (opened == null || replay?.busy === true)
        return;
    const previous = replay?.results ?? {};
    useSessionStore.setState({ replay: { busy: true, label: "starting the replay", done: 0, total: 0, results: replay?.results ?? null, modelPath: null, loadedModel: false } });
    try {
        const result = await getEngineClient().request("sessions.replay", { id: opened.id, ...(runIndex != null ? { runIndex } : {}) }, {
            onProgress: (progress) => useSessionStore.setState((state) => ({
                replay: state.replay != null ? { ...state.replay, label: progress.label, done: progress.done, total: progress.total } : null
            }))
        });
        const results = { ...previous };
        for (const run of result.runs)
            results[run.runIndex] = run;
        useSessionStore.setState({ replay: { busy: false, label: "", done: result.runs.length, total: result.runs.length, results, modelPath: result.modelPath, loadedModel: result.loadedModel } });
        notify(result.identical ? "Replay identical" : "Replay diverged",
            result.identical ? `${result.runs.length} run(s) reproduced token for token` : "see the first divergence under each run");
    } catch (error) {
        useSessionStore.setState((state) => ({ replay: state.replay != null ? { ...state.replay, busy: false, label: "" } : null }));
        reportError(error, "Could not replay the session");
    }
}

export function setExportForm(patch: Partial<ExportForm>): void {
    useSessionStore.setState((state) => ({ exportForm: { ...state.exportForm, ...patch } }));
}

export async function exportOpenedSession(): Promise<void> {
    const { opened, exportForm, exporting } = useSessionStore.getState();
    if (opened == null || exporting || exportForm.path.trim() === "")
        return;
    useSessionStore.setState({ exporting: true, exported: null });
    try {
        const result = await getEngineClient().request("sessions.export", { id: opened.id, path: exportForm.path.trim(), format: exportForm.format });
        useSessionStore.setState({ exported: { path: result.path, files: result.files } });
        notify("Session exported", result.path);
    } catch (error) {
        reportError(error, "Could not export the session");
    } finally {
        useSessionStore.setState({ exporting: false });
    }
}
