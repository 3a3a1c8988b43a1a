// The one hand-written contract between the engine and its clients (the renderer, scripts).
// Every transport (Electron MessagePort, WebSocket for `tiller serve`, in-process) carries exactly
// these requests and events; clients and servers derive their types from the two maps below.
// Pure TypeScript + zod: imported by the engine and the renderer alike.
import { z } from "zod";
import type { TillerErrorPayload } from "./TillerError.js";
import { backendChoiceSchema, sessionModelRequestSchemas, type ModelPlacementInfo, type SessionModelResults } from "./sessionModelRequests.js";

// ---- shared shapes ------------------------------------------------------------------------------

/** An inclusive range of blocks in llama.cpp numbering (layer N = block N; block 0 cannot be steered). */
export const layerRangeSchema = z.object({ first: z.number().int().min(0), last: z.number().int().min(0) });
export type LayerRange = z.infer<typeof layerRangeSchema>;

/** Conditions that switch a patch on during a run (see the engine's PatchTrigger for timing). */
export const triggerSpecSchema = z.discriminatedUnion("kind", [
    z.object({
        kind: z.literal("projection"),
        vectorId: z.string().min(1),
        layer: z.number().int().min(0),
        threshold: z.number().refine(Number.isFinite, "threshold must be finite"),
        when: z.enum(["above", "below"]).optional(),
        holdTokens: z.number().int().min(1).optional(),
        hysteresis: z.number().min(0).optional(),
        window: z.number().int().min(1).max(256).optional()
    }),
    z.object({ kind: z.literal("text"), match: z.string().min(1), regex: z.boolean().optional(), holdTokens: z.number().int().min(1).optional() })
]);
export type TriggerSpec = z.infer<typeof triggerSpecSchema>;

/** A patch as data: the library vector `vectorId` × `strength` on `layers`, for generated tokens [fromToken, untilToken). */
export const patchSpecSchema = z.object({
    id: z.string().min(1),
    vectorId: z.string().min(1),
    strength: z.number().refine(Number.isFinite, "strength must be a finite number"),
    layers: layerRangeSchema.optional(),
    fromToken: z.number().int().min(0).optional(),
    untilToken: z.number().int().min(1).optional(),
    trigger: triggerSpecSchema.optional()
});
export type PatchSpec = z.infer<typeof patchSpecSchema>;

export const probeSpecSchema = z.object({
    vectorId: z.string().min(1),
    /** blocks to read; default every block the vector has */
    layers: z.array(z.number().int().min(0)).optional()
});
export type ProbeSpec = z.infer<typeof probeSpecSchema>;

export const samplingSchema = z.object({
    temperature: z.number().min(0).optional(),
    topK: z.number().int().min(0).optional(),
    topP: z.number().gt(0).max(1).optional(),
    minP: z.number().min(0).lt(1).optional(),
    seed: z.number().int().min(0).max(0xffffffff).optional()
});
export type SamplingSpec = z.infer<typeof samplingSchema>;

export interface ModelShapeInfo {
    architecture: string;
    nLayer: number;
    nEmbd: number;
    nVocab: number;
    nHead: number;
    nHeadKv: number;
    nCtxTrain: number;
    nParams: number;
    sizeBytes: number;
    description: string;
    hasChatTemplate: boolean;
}

export interface LoadedModelInfo {
    path: string;
    fileName: string;
    shape: ModelShapeInfo;
    gpuLayers: number;
    contextSize: number;
    threads: number;
    /** where the layers actually went (set by the engine service's model.load) */
    placement?: ModelPlacementInfo;
}

export interface EngineInfo {
    version: string;
    /** GPU backend node-llama-cpp loaded, or false for CPU */
    gpu: string | false;
    defaultThreads: number;
    systemInfo: string;
    /** the engine's process id (it differs from the server's when the engine runs in a child process) */
    pid: number;
    /** the model opened when the user has not chosen one (the toy world in models/), if present */
    defaultModel: string | null;
    model: LoadedModelInfo | null;
}

export interface VectorInfo {
    id: string;
    name: string;
    nEmbd: number;
    modelHint: string;
    layers: number[];
    norms: Record<number, number>;
    metadata: { sourceDataset?: string; method?: string; readAt?: string; modelSha256?: string; createdAt: string; derivedFrom?: string; notes?: string };
}

export interface DatasetInfo {
    name: string;
    description: string;
    framing: "story" | "chat" | "plain";
    pairCount: number;
}

export interface LayerDiagnosticsInfo {
    layer: number;
    norm: number;
    activationNorm: number;
    trainAuroc: number;
    heldOutAuroc: number | null;
    standardizedMeanDifference: number;
}

export interface TokenProjectionInfo {
    probe: string;
    layer: number;
    dot: number;
    cosine: number;
}

export interface TokenInfo {
    index: number;
    position: number;
    id: number;
    piece: string;
    logprob: number;
    entropy: number;
    top: { id: number; piece: string; logprob: number }[];
    activePatches: string[];
    projections: TokenProjectionInfo[];
}

export type RunStopReason = "eog" | "maxTokens" | "contextFull" | "aborted";

// ---- requests -----------------------------------------------------------------------------------

export const runStartSchema = z.object({
    prompt: z.string(),
    /** "chat": the prompt is a user message laid out with the model's chat template */
    promptMode: z.enum(["plain", "chat"]).optional(),
    maxTokens: z.number().int().min(1).max(100_000).optional(),
    sampling: samplingSchema.optional(),
    patches: z.array(patchSpecSchema).optional(),
    probes: z.array(probeSpecSchema).optional(),
    topAlternatives: z.number().int().min(0).max(50).optional()
});
export type RunStartParams = z.infer<typeof runStartSchema>;

/** The text a probe measures: typed (prompt + completion), or a recorded run of this session by its id. */
const probeTextSchema = {
    prompt: z.string().optional(),
    promptMode: z.enum(["plain", "chat"]).optional(),
    completion: z.string().optional(),
    runId: z.string().min(1).optional()
};

export const probesSweepSchema = z.object({
    ...probeTextSchema,
    vectorId: z.string().min(1),
    /** default: every block the vector has */
    layers: layerRangeSchema.optional(),
    alphas: z.array(z.number().refine(Number.isFinite, "every α must be finite")).min(1).max(201),
    alpha0: z.number().refine(Number.isFinite, "α₀ must be finite").optional(),
    step: z.number().gt(0).max(1).optional(),
    /** also χ_{t,l}: the patch at one block at a time */
    perLayer: z.boolean().optional()
});
export type ProbesSweepParams = z.infer<typeof probesSweepSchema>;

export const probesDetectSchema = z.object({
    ...probeTextSchema,
    /** the settings the observed run claims (typed text only; a recorded run brings its own) */
    patches: z.array(patchSpecSchema).optional(),
    /** the reference it is compared with; default: no patch (a clean run) */
    reference: z.object({ patches: z.array(patchSpecSchema) }).optional(),
    /** library vectors the white box may name; default: the whole library */
    candidates: z.array(z.string().min(1)).optional()
});
export type ProbesDetectParams = z.infer<typeof probesDetectSchema>;

export interface SweepTokenInfo {
    index: number;
    id: number;
    piece: string;
    /** log p_t(α) at each α of the grid */
    logprobs: number[];
    entropies: number[];
    chi: number;
    curvature: number;
    entropyResponse: number;
    /** χ_{t,l} for the layers of the range, when perLayer */
    chiPerLayer?: number[];
}

export interface ProbesSweepResult {
    sweepId: string;
    prompt: string;
    completion: string;
    vectorId: string;
    vectorName: string;
    alphas: number[];
    alpha0: number;
    step: number;
    layers: LayerRange;
    vectorNorms: Record<number, number>;
    tokens: SweepTokenInfo[];
    totalChi: number;
    decodes: { prefix: number; suffix: number; suffixTokens: number; prefixTokens: number };
    elapsedMs: number;
}

export interface ProbesDetectResult {
    detectionId: string;
    /** the generated tokens compared (KL[k] is about tokens[k]) */
    tokens: { id: number; piece: string }[];
    steered: boolean;
    kl: number[];
    deltaLogprob: number[];
    onsetToken: number | null;
    onsetPosition: number | null;
    firstLayer: number | null;
    /** library vectors ranked by |cosine| with Δh at (firstLayer, onsetPosition) */
    matches: { vectorId: string; name: string; cosine: number; strength: number; norm: number }[];
    /** blocks of deltaNorms' columns */
    layers: number[];
    /** ‖Δh‖ per generated token and block */
    deltaNorms: number[][];
    elapsedMs: number;
}

/**
 * Every request: its params' schema (validated at the server boundary) and its result type.
 * Adding a request means adding one entry here and one handler in the engine service.
 */
export const engineRequestSchemas = {
    "engine.info": z.object({}),
    "model.load": z.object({
        path: z.string().min(1),
        gpuLayers: z.union([z.number().int().min(0), z.literal("auto")]).optional(),
        /** the llama.cpp backend; default "auto" (see backends.info for what this engine accepts) */
        backend: backendChoiceSchema.optional(),
        contextSize: z.number().int().min(16).optional(),
        threads: z.number().int().min(1).optional()
    }),
    "model.unload": z.object({}),
    "datasets.list": z.object({}),
    "vectors.list": z.object({}),
    "vectors.build": z.object({
        dataset: z.string().min(1),
        method: z.enum(["mean", "pca-diff", "pca-center"]).optional(),
        readAt: z.enum(["last", "mean", "answer"]).optional(),
        layers: layerRangeSchema.optional(),
        name: z.string().min(1).optional()
    }),
    "vectors.import": z.object({ path: z.string().min(1) }),
    "vectors.export": z.object({ id: z.string().min(1), path: z.string().min(1), format: z.enum(["gguf", "npy"]) }),
    "vectors.rename": z.object({ id: z.string().min(1), name: z.string().min(1) }),
    "vectors.delete": z.object({ id: z.string().min(1) }),
    "vectors.combine": z.object({
        terms: z.array(z.object({ id: z.string().min(1), weight: z.number().refine(Number.isFinite) })).min(1),
        name: z.string().min(1)
    }),
    "run.start": runStartSchema,
    /** replaces the run's patch set; the change acts from the next token */
    "run.setPatches": z.object({ runId: z.string(), patches: z.array(patchSpecSchema) }),
    "run.stop": z.object({ runId: z.string() }),
    /** per-token susceptibility of a completion to a vector; streams `progress`, cancellable */
    "probes.sweep": probesSweepSchema,
    /** was a run steered, where and with what: black-box KL/Δlog-prob and the white-box report */
    "probes.detect": probesDetectSchema,
    ...sessionModelRequestSchemas
} as const;

export interface EngineResults extends SessionModelResults {
    "engine.info": EngineInfo;
    "model.load": LoadedModelInfo;
    "model.unload": null;
    "datasets.list": DatasetInfo[];
    "vectors.list": { vectors: VectorInfo[]; problems: { file: string; message: string }[] };
    "vectors.build": { vector: VectorInfo; diagnostics: LayerDiagnosticsInfo[]; bestLayer: number; elapsedMs: number };
    "vectors.import": VectorInfo;
    "vectors.export": null;
    "vectors.rename": VectorInfo;
    "vectors.delete": null;
    "vectors.combine": VectorInfo;
    /** resolves at once with the run's id; tokens arrive as `run.token` events */
    "run.start": { runId: string; promptTokens: { id: number; piece: string }[] };
    "run.setPatches": null;
    "run.stop": null;
    "probes.sweep": ProbesSweepResult;
    "probes.detect": ProbesDetectResult;
}

export type EngineMethod = keyof typeof engineRequestSchemas;
export type EngineParams<M extends EngineMethod> = z.input<typeof engineRequestSchemas[M]>;
export type EngineResult<M extends EngineMethod> = EngineResults[M];

// ---- events (engine → client, unsolicited) ------------------------------------------------------

export interface EngineEvents {
    /** progress of a long request, by request id */
    "progress": { requestId: string; done: number; total: number; label: string };
    /** emittedAt: the engine's wall clock (ms since the epoch) when the token left it, for latency read-outs */
    "run.token": { runId: string; token: TokenInfo; emittedAt: number };
    /** the active patch set changed; it acts from generated token `atToken` */
    "run.patchChange": { runId: string; atToken: number; activePatches: string[] };
    /** a triggered patch engaged or released, acting from `atToken`; `triggerToken` caused it */
    "run.trigger": { runId: string; patchId: string; kind: "engaged" | "released"; atToken: number; triggerToken: number; value?: number };
    "run.end": { runId: string; stopReason: RunStopReason; text: string; tokensPerSecond: number; error?: TillerErrorPayload };
    "model.changed": { model: LoadedModelInfo | null };
    /** the engine process died and a fresh one was started (it knows no model); sent just before the transport drops */
    "engine.restarted": { reason: string };
}
export type EngineEventName = keyof EngineEvents;

// ---- the wire -----------------------------------------------------------------------------------

export type ClientMessage =
    | { kind: "request"; id: string; method: EngineMethod; params: unknown }
    | { kind: "cancel"; id: string };

export type ServerMessage =
    | { kind: "response"; id: string; result: unknown }
    | { kind: "error"; id: string; error: TillerErrorPayload }
    | { kind: "event"; event: EngineEventName; data: unknown };

export const clientMessageSchema = z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("request"), id: z.string().min(1).max(100), method: z.string(), params: z.unknown() }),
    z.object({ kind: z.literal("cancel"), id: z.string().min(1).max(100) })
]);

/** What every client offers, whatever carries it (MessagePort, WebSocket, in-process). */
export interface EngineClient {
    request<M extends EngineMethod>(method: M, params: EngineParams<M>, options?: { signal?: AbortSignal }): Promise<EngineResult<M>>;
    on<E extends EngineEventName>(event: E, listener: (data: EngineEvents[E]) => void): () => void;
    /** "connected" until the transport drops (the engine process died, the server stopped) */
    readonly state: "connecting" | "connected" | "disconnected";
    onStateChange(listener: (state: "connecting" | "connected" | "disconnected") => void): () => void;
}
