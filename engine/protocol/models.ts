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

/**
 * What a model file's header says, read without its weights (engine/models/readModelHeader.ts): the
 * one summary of a model file. `tiller info` prints it whole; a scan entry carries a part of it.
 */
export interface ModelHeaderInfo {
    /** `general.architecture`, e.g. "llama", "qwen2" ("unknown" when absent) */
    architecture: string;
    /** `general.name`, when present */
    name: string | null;
    ggufVersion: number;
    /** bytes on disk (all parts of a split model) */
    fileSizeBytes: number;
    /** blocks (`<arch>.block_count`) */
    layers: number | null;
    /** residual width (`<arch>.embedding_length`) */
    embeddingLength: number | null;
    /** attention heads: one number, or one per layer where they vary */
    heads: number | number[] | null;
    /** key/value heads (grouped-query attention); equals `heads` when absent */
    headsKv: number | number[] | null;
    feedForwardLength: number | number[] | null;
    vocabSize: number | null;
    /** training context length (`<arch>.context_length`) */
    contextLength: number | null;
    /** `general.file_type` as node-llama-cpp names it (e.g. "MOSTLY_Q4_K_M"), or what the tensors say when it is absent */
    fileType: string;
    /** the quantization in short, e.g. "Q4_K_M", "F16": the file type without MOSTLY_/ALL_, else the dominant weight type; null when unknown */
    quantization: string | null;
    tensorCount: number;
    /** tensors per ggml type, e.g. {"Q4_K": 120, "F32": 65} */
    tensorTypes: Record<string, number>;
    /** total parameters: the elements of every tensor (all parts) */
    parameters: number;
    /** bytes of tensor data (all parts): what loading the weights costs */
    tensorBytes: number;
    /** `general.size_label` (e.g. "0.5B"), when present */
    sizeLabel: string | null;
    /** `tokenizer.ggml.model`, e.g. "llama", "gpt2" */
    tokenizer: string | null;
    hasChatTemplate: boolean;
}

/** Will a model fit, at a context size (engine/models/estimateModelFit.ts). */
export interface ModelFitInfo {
    /** the context size (tokens) the estimate includes */
    contextSize: number;
    /** bytes of RAM the model + context need on the CPU alone */
    ramBytes: number;
    /** free RAM now */
    freeRamBytes: number;
    fitsInRam: boolean;
    /** with a GPU backend: all layers offloaded; null for CPU only, or when no backend was given */
    gpu: { vramBytes: number; freeVramBytes: number; fitsInGpu: boolean } | null;
}

/** The part of the header a scan entry shows; null where the header could not be read. */
export type ScannedHeaderInfo = { [K in "architecture" | "layers" | "embeddingLength" | "quantization" | "parameters"]: ModelHeaderInfo[K] | null }
    & Pick<ModelHeaderInfo, "hasChatTemplate">;

/** A GGUF model found on this machine (engine/models/scanModels.ts). */
export interface ScannedModelInfo extends ScannedHeaderInfo {
    /** the file to load: the first part of a split model; for the Hugging Face cache the snapshot path (a symlink) */
    path: string;
    /**
     * what to call it: the path under the folder without `.gguf` (project, node-llama-cpp),
     * "publisher/repo" (LM Studio), "org/name" (Hugging Face), "name:tag" (Ollama)
     */
    name: string;
    source: "project" | "node-llama-cpp" | "lm-studio" | "huggingface" | "ollama";
    /** the file's own name (the snapshot file name for Hugging Face, the tag for Ollama) */
    fileName: string;
    /** bytes on disk, all parts together */
    sizeBytes: number;
    /** 1, or the number of parts of a split model */
    parts: number;
    fit: ModelFitInfo | null;
    /** other names the same file was found under (more Ollama tags, another folder) */
    aliases: string[];
    /** why the file cannot be used (not GGUF, truncated, a missing part...); null when it looks fine */
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
