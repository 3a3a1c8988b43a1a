// Probes → Forensics: which page of Probes is shown, and the black-box localisation (form,
// progress, result). The API key lives only in this store's memory: never persisted, never logged,
// sent to the engine with each request (the engine makes the HTTP calls; the page's CSP forbids it).
import { create } from "zustand";
import type { EngineParams, EngineResults } from "../../../engine/protocol/EngineContract";
import { transcriptSchema, type TranscriptParams } from "../../../engine/protocol/forensics";
import { TillerError } from "../../../engine/protocol/TillerError";
import { lastRunId } from "./probeStore";
import { getEngineClient } from "../engineClient/getEngineClient";
import { reportError } from "./notificationStore";
import { TrackedRequest, type RequestProgress } from "./trackedRequest";

export type LocateResult = EngineResults["blackbox.locate"];
export type TranscriptDetection = EngineResults["forensics.detect"];
export type SessionRun = EngineResults["sessions.open"]["runs"][number];

/** Where the transcript comes from: the Run view's last run, a run of a stored session, pasted text, or a JSON file. */
export type TranscriptSource = "lastRun" | "session" | "pasted" | "file";

export interface TranscriptForm {
    source: TranscriptSource;
    /** pasted */
    prompt: string;
    completion: string;
    temperature: number;
    /** session: the session and the chosen run */
    sessionId: string;
    sessionRuns: SessionRun[];
    sessionRunId: string;
    /** file: the parsed transcript and its name */
    file: TranscriptParams | null;
    fileName: string;
}

export interface BlackboxForm {
    endpoint: string;
    apiKey: string;
    prompt: string;
    /** empty: the endpoint's own greedy continuation */
    probe: string;
    budget: number;
}

export type ForensicsProgress = RequestProgress<"locate" | "detect">;

interface ForensicsState {
    /** the Probes page shown: the susceptibility sweep (with "Explain a recorded run") or forensics */
    page: "sweep" | "forensics";
    tab: "transcript" | "blackbox";
    form: BlackboxForm;
    transcript: TranscriptForm;
    progress: ForensicsProgress | null;
    locate: LocateResult | null;
    detection: TranscriptDetection | null;
    setPage(page: "sweep" | "forensics"): void;
    setTab(tab: "transcript" | "blackbox"): void;
    setForm(patch: Partial<BlackboxForm>): void;
    setTranscript(patch: Partial<TranscriptForm>): void;
}

export const useForensicsStore = create<ForensicsState>()((set) => ({
    page: "sweep",
    tab: "transcript",
    form: { endpoint: "http://127.0.0.1:8080/v1", apiKey: "", prompt: "", probe: "", budget: 300 },
    transcript: { source: "lastRun", prompt: "", completion: "", temperature: 0, sessionId: "", sessionRuns: [], sessionRunId: "", file: null, fileName: "" },
    progress: null,
    locate: null,
    detection: null,
    setPage: (page) => set({ page }),
    setTab: (tab) => set({ tab }),
    setForm: (patch) => set((state) => ({ form: { ...state.form, ...patch } })),
    setTranscript: (patch) => set((state) => ({ transcript: { ...state.transcript, ...patch } }))
}));

const forensicsRequest = new TrackedRequest<ForensicsProgress["kind"]>((progress) => useForensicsStore.setState({ progress }));

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
    const locate = await forensicsRequest.run("locate", "blackbox.locate", params, "Localisation failed", params.budget ?? 0);
    if (locate != null)
        useForensicsStore.setState({ locate });
}

export function cancelForensics(): void {
    forensicsRequest.cancel();
}

/** The transcript the form describes, as forensics.detect takes it; null when incomplete. */
export function transcriptParams(form: TranscriptForm): EngineParams<"forensics.detect"> | null {
    switch (form.source) {
        case "lastRun": {
            const runId = lastRunId();
            return runId != null ? { runId } : null;
        }
        case "session": {
            const run = form.sessionRuns.find((entry) => entry.runId === form.sessionRunId);
            if (run == null || run.tokens.length === 0)
                return null;
            // a stored run as a typed transcript: its prompt, tokens and sampler — never its patches
            const { temperature, topK, topP, minP, seed } = run.sampling;
            return { prompt: run.prompt, tokens: run.tokens.map((token) => token.id), sampling: { temperature, topK, topP, minP, seed } };
        }
        case "pasted":
            return form.prompt !== "" && form.completion !== "" ? { prompt: form.prompt, completion: form.completion, sampling: { temperature: form.temperature } } : null;
        case "file":
            return form.file;
    }
}

/** Parses a transcript JSON file's text (the format `tiller detect --transcript` reads); throws INVALID_ARGUMENT naming the problem. */
export function parseTranscriptJson(text: string, fileName: string): TranscriptParams {
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch (error) {
        throw new TillerError("INVALID_ARGUMENT", `${fileName} is not JSON: ${(error as Error).message}`);
    }
    const parsed = transcriptSchema.omit({ runId: true }).extend({ text: transcriptSchema.shape.completion }).strict().safeParse(json);
    if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new TillerError("INVALID_ARGUMENT", `${fileName} is malformed at ${issue.path.join(".") || "the top level"}: ${issue.message}`);
    }
    const { text: alias, ...rest } = parsed.data;
    if (rest.prompt == null || (rest.tokens == null && rest.completion == null && alias == null))
        throw new TillerError("INVALID_ARGUMENT", `${fileName} needs a "prompt" and the emitted "tokens" or "completion"`);
    return { ...rest, completion: rest.completion ?? alias };
}

export async function loadSessionRuns(sessionId: string): Promise<void> {
    useForensicsStore.getState().setTranscript({ sessionId, sessionRuns: [], sessionRunId: "" });
    if (sessionId === "")
        return;
    try {
        const detail = await getEngineClient().request("sessions.open", { id: sessionId });
        const runs = detail.runs.filter((run) => run.tokens.length > 0);
        useForensicsStore.getState().setTranscript({ sessionRuns: runs, sessionRunId: runs[0]?.runId ?? "" });
    } catch (error) {
        reportError(error, "Could not open the session");
    }
}

export async function runTranscriptDetection(): Promise<void> {
    const { transcript, progress } = useForensicsStore.getState();
    const params = transcriptParams(transcript);
    if (progress != null || params == null)
        return;
    const detection = await forensicsRequest.run("detect", "forensics.detect", params, "Blind detection failed");
    if (detection != null)
        useForensicsStore.setState({ detection });
}

/** Ctrl/⌘+Enter on the Forensics page: the tab's action. */
export function runForensicsTab(): void {
    void (useForensicsStore.getState().tab === "blackbox" ? runLocate() : runTranscriptDetection());
}
