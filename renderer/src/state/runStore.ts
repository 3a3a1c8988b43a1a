// The Run view's state: prompt, sampling, the patch set, and the streamed run — tokens as an
// id-indexed map plus ordered ids (rows subscribe to their own token), patch-change markers, the
// selected token and the colouring (probe vector and layer) — and the actions that change it.
// Talking to the engine (start, stop, streamed events, live patch edits) is runControl.ts; keeping
// the settings across reloads is runSettings.ts. Other modules change this store only through its
// actions.
import { create } from "zustand";
import type { PatchSpec, ProbeSpec, TriggerSpec, RunStopReason, TokenInfo, TokenProjectionInfo } from "../../../engine/protocol/EngineContract";
import type { TillerErrorPayload } from "../../../engine/protocol/TillerError";
import { autoScale } from "../lib/colourScale";
import type { StripMetric } from "../lib/stripMetric";
import type { RunEvent } from "./runEventRouter";
import { foldMarksAfterLastToken, type TriggerMark } from "./triggerMarks";
import { defaultLayerOf, useVectorStore } from "./vectorStore";

export type { TriggerMark } from "./triggerMarks";

export interface PatchDraft {
    id: string;
    /** switched off patches are kept in the editor but not sent */
    enabled: boolean;
    vectorId: string;
    strength: number;
    /** null: every layer the vector has */
    layerFirst: number | null;
    layerLast: number | null;
    /** null: from the first generated token */
    fromToken: number | null;
    /** null: to the end */
    untilToken: number | null;
    /** null: unconditional; otherwise the patch acts only while its trigger is engaged */
    trigger: TriggerSpec | null;
}

export interface SamplingDraft {
    temperature: number;
    topK: number;
    topP: number;
    minP: number;
    seed: number;
}

export type RunStatus = "idle" | "starting" | "running" | "stopping";

export interface RunEnd {
    stopReason: RunStopReason;
    tokensPerSecond: number;
    error?: TillerErrorPayload;
}

export interface PatchMarker {
    atToken: number;
    /** labels of the patches active from that token on */
    patches: string[];
}

interface RunState {
    prompt: string;
    promptMode: "plain" | "chat";
    sampling: SamplingDraft;
    maxTokens: number;
    patchIds: string[];
    patchById: Record<string, PatchDraft>;
    colourBy: string | null;
    colourLayer: number | null;
    /** what colours the strip: the projection of colourBy, or a per-token read-out */
    colourMetric: StripMetric;
    /** "auto" follows the largest |cosine| of the run */
    scaleMode: "auto" | number;
    autoScale: number;

    status: RunStatus;
    runId: string | null;
    promptTokens: { id: number; piece: string }[];
    tokenIds: number[];
    tokens: Record<number, TokenInfo>;
    markers: Record<number, PatchMarker>;
    markerIds: number[];
    /** trigger engagements and releases, by the token they act from */
    triggers: Record<number, TriggerMark[]>;
    /** patch id → its label when it was last sent to the engine */
    patchLabels: Record<string, string>;
    /** the labels in force from each patch change on (ascending), for the tokens' active patches */
    labelVersions: { at: number; labels: Record<string, string> }[];
    selected: number | null;
    end: RunEnd | null;
    startedAt: number;
    firstTokenMs: number | null;
    lastTokenAt: number;

    setPrompt(prompt: string): void;
    setPromptMode(mode: "plain" | "chat"): void;
    setSampling(patch: Partial<SamplingDraft>): void;
    setMaxTokens(maxTokens: number): void;
    addPatch(): void;
    updatePatch(id: string, patch: Partial<PatchDraft>): void;
    removePatch(id: string): void;
    setColourBy(vectorId: string | null): void;
    setColourLayer(layer: number | null): void;
    setScaleMode(mode: "auto" | number): void;
    setColourMetric(metric: StripMetric): void;
    select(index: number | null): void;
    /** replaces the whole patch set (a scenario's) */
    setPatches(patches: PatchDraft[]): void;

    // the run's lifecycle (runControl.ts drives these)
    /** a run is being started: the last run's tokens go, the patch labels are taken as they are now */
    beginRun(): void;
    /** the engine accepted the run; false when a stop was asked for meanwhile */
    runAccepted(runId: string, promptTokens: { id: number; piece: string }[]): boolean;
    /** the run could not start */
    runNotStarted(): void;
    /** a stop was asked for: the status a stop request now needs, or null when nothing runs */
    requestStop(): "beforeStart" | "running" | null;
    /** the engine forgot the run (the transport dropped) */
    runAbandoned(): void;
    /** applies a frame's batch of the run's events; returns how the run ended, when it did */
    applyRunEvents(events: RunEvent[]): RunEnd | null;
    /** the patch labels as they are now are the ones sent to the engine */
    patchesSent(): void;
}

let nextPatch = 1;

/** Settings a new window starts with (runSettings.ts restores the saved ones over them). */
export const defaultSampling: SamplingDraft = { temperature: 0, topK: 40, topP: 0.95, minP: 0.05, seed: 42 };

export const useRunStore = create<RunState>()((set, get) => ({
    prompt: "Once upon a time",
    promptMode: "plain",
    sampling: defaultSampling,
    maxTokens: 256,
    patchIds: [],
    patchById: {},
    colourBy: null,
    colourMetric: "projection",
    colourLayer: null,
    scaleMode: "auto",
    autoScale: 0.1,

    status: "idle",
    runId: null,
    promptTokens: [],
    tokenIds: [],
    tokens: {},
    markers: {},
    markerIds: [],
    triggers: {},
    patchLabels: {},
    labelVersions: [],
    selected: null,
    end: null,
    startedAt: 0,
    firstTokenMs: null,
    lastTokenAt: 0,

    setPrompt: (prompt) => set({ prompt }),
    setPromptMode: (promptMode) => set({ promptMode }),
    setSampling: (patch) => set((state) => ({ sampling: { ...state.sampling, ...patch } })),
    setMaxTokens: (maxTokens) => set({ maxTokens }),
    addPatch: () => {
        const { ids } = useVectorStore.getState();
        const used = new Set(Object.values(get().patchById).map((patch) => patch.vectorId));
        const vectorId = ids.find((id) => !used.has(id)) ?? ids[0] ?? "";
        const patch: PatchDraft = {
            id: `p${nextPatch++}`, enabled: true, vectorId, strength: 1,
            layerFirst: null, layerLast: null, fromToken: null, untilToken: null, trigger: null
        };
        set((state) => ({ patchIds: [...state.patchIds, patch.id], patchById: { ...state.patchById, [patch.id]: patch } }));
        if (get().colourBy == null && vectorId !== "")
            get().setColourBy(vectorId);
    },
    updatePatch: (id, patch) => set((state) => {
        const current = state.patchById[id];
        return current == null ? {} : { patchById: { ...state.patchById, [id]: { ...current, ...patch } } };
    }),
    removePatch: (id) => set((state) => {
        const rest = { ...state.patchById };
        delete rest[id];
        return { patchIds: state.patchIds.filter((item) => item !== id), patchById: rest };
    }),
    setColourBy: (colourBy) => {
        set({ colourBy, colourLayer: colourBy == null ? null : defaultLayerOf(colourBy) });
        set((state) => ({ autoScale: autoScale(maxAbsCosine(state.tokenIds.map((i) => state.tokens[i]!), state.colourBy, state.colourLayer)) }));
    },
    setColourLayer: (colourLayer) => {
        set({ colourLayer });
        set((state) => ({ autoScale: autoScale(maxAbsCosine(state.tokenIds.map((i) => state.tokens[i]!), state.colourBy, state.colourLayer)) }));
    },
    setScaleMode: (scaleMode) => set({ scaleMode }),
    setColourMetric: (colourMetric) => set({ colourMetric }),
    select: (selected) => set({ selected }),
    setPatches: (patches) => set({ patchIds: patches.map((patch) => patch.id), patchById: Object.fromEntries(patches.map((patch) => [patch.id, patch])) }),

    beginRun: () => set((state) => ({
        status: "starting", runId: null, promptTokens: [], tokenIds: [], tokens: {}, markers: {}, markerIds: [], triggers: {},
        patchLabels: labelsOf(state), labelVersions: [], selected: null, end: null, startedAt: performance.now(), firstTokenMs: null, lastTokenAt: 0,
        autoScale: 0.05
    })),
    runAccepted: (runId, promptTokens) => {
        const stopRequested = get().status === "stopping";
        set({ runId, promptTokens, status: stopRequested ? "stopping" : "running" });
        return !stopRequested;
    },
    runNotStarted: () => set({ status: "idle" }),
    requestStop: () => {
        const { status, runId } = get();
        if (status === "starting") {
            set({ status: "stopping" });
            return "beforeStart";
        }
        if (status === "running" && runId != null) {
            set({ status: "stopping" });
            return "running";
        }
        return null;
    },
    runAbandoned: () => set({ status: "idle", end: { stopReason: "aborted", tokensPerSecond: 0, error: { code: "INTERNAL", message: "the connection to the engine was lost" } } }),
    applyRunEvents: (events) => {
        const update = runEventsUpdate(get(), events);
        set(update);
        return update.end ?? null;
    },
    patchesSent: () => set((state) => ({ patchLabels: { ...state.patchLabels, ...labelsOf(state) } }))
}));

// ---- derived values ---------------------------------------------------------------------------

/** The label of patch `id` as it was when token `index` was generated. */
export function patchLabelAt(state: Pick<RunState, "labelVersions" | "patchLabels">, index: number, id: string): string {
    for (let i = state.labelVersions.length - 1; i >= 0; i--) {
        const version = state.labelVersions[i]!;
        if (version.at <= index)
            return version.labels[id] ?? state.patchLabels[id] ?? id;
    }
    return state.patchLabels[id] ?? id;
}

export function projectionOf(token: TokenInfo | undefined, probe: string | null, layer: number | null): TokenProjectionInfo | undefined {
    if (token == null || probe == null || layer == null)
        return undefined;
    for (const projection of token.projections) {
        if (projection.probe === probe && projection.layer === layer)
            return projection;
    }
    return undefined;
}

/** The largest |cosine| of a read-out over some tokens (for the colour scale). */
export function maxAbsCosine(tokens: readonly TokenInfo[], probe: string | null, layer: number | null): number {
    let max = 0;
    for (const token of tokens) {
        const value = projectionOf(token, probe, layer)?.cosine;
        if (value != null && Number.isFinite(value))
            max = Math.max(max, Math.abs(value));
    }
    return max;
}

export function selectScale(state: Pick<RunState, "scaleMode" | "autoScale">): number {
    return state.scaleMode === "auto" ? state.autoScale : state.scaleMode;
}

/** The patches as the engine takes them: the enabled ones with a vector. */
export function patchSpecsOf(state: Pick<RunState, "patchIds" | "patchById">): PatchSpec[] {
    const specs: PatchSpec[] = [];
    for (const id of state.patchIds) {
        const patch = state.patchById[id];
        if (patch == null || !patch.enabled || patch.vectorId === "" || !Number.isFinite(patch.strength))
            continue;
        specs.push({
            id: patch.id,
            vectorId: patch.vectorId,
            strength: patch.strength,
            ...(patch.layerFirst != null && patch.layerLast != null ? { layers: { first: patch.layerFirst, last: patch.layerLast } } : {}),
            ...(patch.fromToken != null ? { fromToken: patch.fromToken } : {}),
            ...(patch.untilToken != null ? { untilToken: patch.untilToken } : {}),
            ...(patch.trigger != null ? { trigger: patch.trigger } : {})
        });
    }
    return specs;
}

export function patchLabel(patch: PatchDraft): string {
    const name = useVectorStore.getState().byId[patch.vectorId]?.name ?? patch.vectorId;
    const layers = patch.layerFirst != null && patch.layerLast != null ? ` · L${patch.layerFirst}–${patch.layerLast}` : "";
    const window = patch.fromToken != null || patch.untilToken != null
        ? ` · tokens ${patch.fromToken ?? 0}…${patch.untilToken != null ? patch.untilToken - 1 : "end"}` : "";
    return `${name} ×${patch.strength.toFixed(2)}${layers}${window}${patch.trigger != null ? ` · ${triggerLabel(patch.trigger)}` : ""}`;
}

export function triggerLabel(trigger: TriggerSpec): string {
    if (trigger.kind === "text")
        return `when the text matches ${trigger.regex === true ? `/${trigger.match}/` : JSON.stringify(trigger.match)}`;
    const name = useVectorStore.getState().byId[trigger.vectorId]?.name ?? trigger.vectorId;
    return `when ${name} @L${trigger.layer} ${trigger.when === "below" ? "<" : ">"} ${trigger.threshold}${trigger.units === "sigma" ? "σ" : ""}`;
}

function labelsOf(state: Pick<RunState, "patchIds" | "patchById">): Record<string, string> {
    const labels: Record<string, string> = {};
    for (const id of state.patchIds) {
        const patch = state.patchById[id];
        if (patch != null)
            labels[id] = patchLabel(patch);
    }
    return labels;
}

/** What to read out: the colour-by vector and every vector a patch uses, at every layer. */
export function probeSpecsOf(state: Pick<RunState, "patchIds" | "patchById" | "colourBy">): ProbeSpec[] {
    const ids = new Set<string>();
    if (state.colourBy != null)
        ids.add(state.colourBy);
    for (const spec of patchSpecsOf(state))
        ids.add(spec.vectorId);
    return [...ids].map((vectorId) => ({ vectorId }));
}

// ---- run events ------------------------------------------------------------------------------

/** What a frame's batch of run events changes (pure: the store's applyRunEvents sets it). */
function runEventsUpdate(state: RunState, events: RunEvent[]): Partial<RunState> {
    let tokens: Record<number, TokenInfo> | null = null;
    let tokenIds: number[] | null = null;
    let markers: Record<number, PatchMarker> | null = null;
    let markerIds: number[] | null = null;
    let triggers: Record<number, TriggerMark[]> | null = null;
    let labelVersions: RunState["labelVersions"] | null = null;
    let end: RunEnd | null = null;
    let firstTokenMs = state.firstTokenMs;
    let lastTokenAt = state.lastTokenAt;
    const added: TokenInfo[] = [];
    for (const event of events) {
        if (event.type === "token") {
            const token = event.data.token;
            tokens ??= { ...state.tokens };
            tokenIds ??= [...state.tokenIds];
            if (tokens[token.index] == null)
                tokenIds.push(token.index);
            tokens[token.index] = token;
            added.push(token);
            firstTokenMs ??= event.receivedAt - state.startedAt;
            lastTokenAt = event.receivedAt;
        } else if (event.type === "patchChange") {
            const { atToken, activePatches } = event.data;
            labelVersions ??= [...state.labelVersions];
            labelVersions.push({ at: atToken, labels: state.patchLabels });
            if (atToken === 0 && activePatches.length === 0)
                continue; // the unsteered start of every run is not a change
            markers ??= { ...state.markers };
            markerIds ??= [...state.markerIds];
            if (markers[atToken] == null)
                markerIds.push(atToken);
            markers[atToken] = { atToken, patches: activePatches.map((id) => state.patchLabels[id] ?? id) };
        } else if (event.type === "trigger") {
            const { patchId, kind, atToken, triggerToken, value } = event.data;
            triggers ??= { ...state.triggers };
            const mark: TriggerMark = { patchId, label: state.patchLabels[patchId] ?? patchId, kind, atToken, triggerToken, ...(value != null ? { value } : {}) };
            triggers[atToken] = [...(triggers[atToken] ?? []), mark];
        } else {
            end = { stopReason: event.data.stopReason, tokensPerSecond: event.data.tokensPerSecond, ...(event.data.error != null ? { error: event.data.error } : {}) };
        }
    }
    const update: Partial<RunState> = { firstTokenMs, lastTokenAt };
    if (tokens != null && tokenIds != null) {
        update.tokens = tokens;
        update.tokenIds = tokenIds;
        const scale = autoScale(maxAbsCosine(added, state.colourBy, state.colourLayer));
        if (scale > state.autoScale)
            update.autoScale = scale;
    }
    if (labelVersions != null)
        update.labelVersions = labelVersions;
    if (triggers != null)
        update.triggers = triggers;
    if (markers != null && markerIds != null) {
        update.markers = markers;
        update.markerIds = markerIds;
    }
    if (end != null) {
        update.end = end;
        update.status = "idle";
        const tokenIds = update.tokenIds ?? state.tokenIds;
        if (tokenIds.length > 0) {
            const folded = foldMarksAfterLastToken(update.triggers ?? state.triggers, tokenIds.reduce((last, index) => Math.max(last, index)));
            if (folded != null)
                update.triggers = folded;
        }
    }
    return update;
}
