// The contract's session, model-file and backend requests (issue 6): their params' schemas and
// result types. EngineContract.ts spreads these into its request map, so clients see one contract;
// they live here to keep that file readable. Pure TypeScript + zod, like the rest of engine/protocol.
import { z } from "zod";
import type { LayerDiagnosticsInfo, TokenInfo } from "./EngineContract.js";

/** A session is named by its folder name under the engine's sessions folder: no separators, no "..". */
const sessionIdSchema = z.string().min(1).max(200).regex(/^(?!\.\.?$)[A-Za-z0-9._-]+$/, "a session id is its folder name: letters, digits, '.', '_' and '-'");

/** The llama.cpp backend to load a model on; "cpu" keeps every layer on the CPU. */
export const backendChoiceSchema = z.enum(["auto", "cuda", "vulkan", "metal", "cpu"]);
export type BackendChoice = z.infer<typeof backendChoiceSchema>;
export type BackendName = Exclude<BackendChoice, "auto">;

export const sessionModelRequestSchemas = {
    /** sessions, newest first; `search` matches name, id or model file name */
    "sessions.list": z.object({ search: z.string().max(200).optional() }),
    /** a session's records, read from disk: no model needed */
    "sessions.open": z.object({ id: sessionIdSchema }),
    "sessions.rename": z.object({ id: sessionIdSchema, name: z.string().trim().min(1).max(200) }),
    "sessions.delete": z.object({ id: sessionIdSchema }),
    /** re-runs the session's runs (or run `runIndex`) on its model, loading that model when another (or none) is loaded */
    "sessions.replay": z.object({ id: sessionIdSchema, runIndex: z.number().int().min(0).optional(), threads: z.number().int().min(1).optional() }),
    /** writes CSV, .npy and JSON with a README to `path`: a new folder, or a `.zip` file */
    "sessions.export": z.object({ id: sessionIdSchema, path: z.string().min(1), format: z.enum(["folder", "zip"]) }),
    /** the GGUF files in the project's models/ folder and the other tools' folders */
    "models.scan": z.object({}),
    "models.catalog": z.object({}),
    /** downloads into `directory` (default the project's models/ folder); streams `progress`; cancel resumes later */
    "models.download": z.object({
        uri: z.string().min(1),
        directory: z.string().min(1).optional(),
        fileName: z.string().min(1).optional(),
        sha256: z.string().optional(),
        expectedSizeBytes: z.number().int().min(0).optional()
    }),
    "backends.info": z.object({})
} as const;

// ---- results ------------------------------------------------------------------------------------

export interface SessionSummaryInfo {
    id: string;
    name: string;
    createdAt: string;
    /** the model's file name, or null for a session without one */
    model: string | null;
    runs: number;
}

/** A patch as the session recorded it (the vector is kept inside the session by content hash). */
export interface SessionPatchInfo {
    id: string;
    vectorName: string;
    strength: number;
    layers?: { first: number; last: number };
    fromToken?: number;
    untilToken?: number;
}

export interface SessionRunInfo {
    runId: string;
    at: string;
    prompt: string;
    maxTokens: number;
    sampling: { temperature: number; topK: number; topP: number; minP: number; seed: number };
    patches: SessionPatchInfo[];
    /** the read-outs recorded with each token, by probe name (the id the tokens' projections carry) and the vector's own name */
    probes: { name: string; vectorName: string; layers?: number[] }[];
    /** the generated tokens; `position` is not recorded and is -1 */
    tokens: TokenInfo[];
    /** mid-run changes of the patch set, acting from `atToken` */
    changes: { atToken: number; activePatches: string[]; patches: SessionPatchInfo[] }[];
    /** conditional patches engaging and releasing, acting from `atToken` (`triggerToken` caused it) */
    triggers: { patchId: string; kind: "engaged" | "released"; atToken: number; triggerToken: number; value?: number }[];
    /** null when the run was cut short (a crash, a kill) */
    end: { stopReason: string; text: string; tokensPerSecond: number } | null;
}

export interface SessionVectorBuildInfo {
    at: string;
    dataset: string;
    method: string;
    readAt: string;
    bestLayer: number;
    diagnostics: LayerDiagnosticsInfo[];
}

export interface SessionDetailInfo {
    id: string;
    name: string;
    createdAt: string;
    appVersion: string;
    model: { fileName: string; path: string; sizeBytes: number; sha256: string } | null;
    settings: Record<string, unknown>;
    runs: SessionRunInfo[];
    vectorBuilds: SessionVectorBuildInfo[];
    /** every other note, as recorded */
    notes: { at: string; kind: string; data: unknown }[];
    /** lines that could not be read (the last one may be cut by a crash) */
    problems: { line: number; message: string }[];
    /** whether the engine is still recording into this session (it cannot be deleted then) */
    recording: boolean;
}

export interface RunReplayInfo {
    runIndex: number;
    runId: string;
    identical: boolean;
    recordedTokens: number;
    replayedTokens: number;
    firstDivergence: { index: number; recorded: number | null; replayed: number | null } | null;
}

export interface ScannedModelInfo {
    /** the file to load */
    path: string;
    name: string;
    source: "project" | "node-llama-cpp" | "lm-studio" | "huggingface" | "ollama";
    fileName: string;
    sizeBytes: number;
    parts: number;
    architecture: string | null;
    layers: number | null;
    width: number | null;
    quantization: string | null;
    parameters: number | null;
    hasChatTemplate: boolean;
    fit: { contextSize: number; ramBytes: number; freeRamBytes: number; fitsInRam: boolean; gpu: { vramBytes: number; freeVramBytes: number; fitsInGpu: boolean } | null } | null;
    aliases: string[];
    /** why the file cannot be used; null when it looks fine */
    problem: string | null;
}

export interface CatalogModelInfo {
    id: string;
    name: string;
    uri: string;
    approxSizeBytes: number;
    parameters: string;
    layers?: number;
    width?: number;
    licence: string;
    why: string;
}

export interface BackendChoiceInfo {
    choice: BackendChoice;
    available: boolean;
    /** why it cannot be chosen now; null when it can */
    reason: string | null;
}

export interface BackendsInfo {
    /** backends node-llama-cpp finds usable on this machine */
    usable: BackendName[];
    installedBinaries: string[];
    /** the backend this engine process loaded (a process loads one) */
    loaded: { backend: BackendName; supportsGpuOffloading: boolean; buildType: string; llamaCppRelease: string; cpuMathCores: number; defaultThreads: number };
    devices: string[];
    vram: { total: number; used: number; free: number } | null;
    ram: { total: number; free: number };
    /** what `model.load`'s `backend` accepts here */
    choices: BackendChoiceInfo[];
}

/** Where a loaded model's layers went, measured after the load (not what was asked for). */
export interface ModelPlacementInfo {
    requestedBackend: BackendChoice;
    backend: BackendName;
    /** the layers llama.cpp was given to offload (blocks first, then the output layer) */
    gpuLayers: number;
    nLayer: number;
    offloadedBlocks: number;
    outputOnGpu: boolean;
    /** VRAM taken by loading the model and its context (the device's used VRAM before and after); null on CPU */
    vramUsedBytes: number | null;
    /** the engine process's resident memory growth over the load (mmapped weights count as they are touched) */
    rssGrowthBytes: number;
    weightsBytes: number;
}

export interface SessionModelResults {
    "sessions.list": SessionSummaryInfo[];
    "sessions.open": SessionDetailInfo;
    "sessions.rename": SessionSummaryInfo;
    "sessions.delete": null;
    "sessions.replay": { runs: RunReplayInfo[]; identical: boolean; modelPath: string; loadedModel: boolean };
    "sessions.export": { path: string; format: "folder" | "zip"; files: number };
    "models.scan": { models: ScannedModelInfo[]; modelsDir: string };
    "models.catalog": { models: CatalogModelInfo[]; modelsDir: string };
    "models.download": { path: string; files: string[]; sizeBytes: number; sha256: string | null };
    "backends.info": BackendsInfo;
}
