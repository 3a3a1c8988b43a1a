// The contract's engine, model and backend requests: loading a model, finding model files,
// downloading them, and what the llama.cpp backends offer. Pure TypeScript + zod.
import type { SteeringSupportInfo } from "./steeringSupport.js";
import { z } from "zod";

/** The llama.cpp backend to load a model on; "cpu" keeps every layer on the CPU. */
export const backendChoiceSchema = z.enum(["auto", "cuda", "vulkan", "metal", "cpu"]);
export type BackendChoice = z.infer<typeof backendChoiceSchema>;
export type BackendName = Exclude<BackendChoice, "auto">;

export const modelRequestSchemas = {
    "engine.info": z.object({}),
    "model.load": z.object({
        path: z.string().min(1),
        gpuLayers: z.union([z.number().int().min(0), z.literal("auto")]).optional(),
        /** the llama.cpp backend; default "auto" (see backends.info for what this engine accepts) */
        backend: backendChoiceSchema.optional(),
        contextSize: z.number().int().min(16).max(1 << 20).optional(),
        threads: z.number().int().min(1).max(256).optional()
    }),
    "model.unload": z.object({}),
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
    /** whether steering and capture work on this architecture, measured at load (null: not checked) */
    steeringSupport?: SteeringSupportInfo | null;
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

export interface ModelResults {
    "engine.info": EngineInfo;
    "model.load": LoadedModelInfo;
    "model.unload": null;
    "models.scan": { models: ScannedModelInfo[]; modelsDir: string };
    "models.catalog": { models: CatalogModelInfo[]; modelsDir: string };
    "models.download": { path: string; files: string[]; sizeBytes: number; sha256: string | null };
    "backends.info": BackendsInfo;
}

export interface ModelEvents {
    "model.changed": { model: LoadedModelInfo | null };
}
