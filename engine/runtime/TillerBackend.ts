// The process-wide llama.cpp backend: node-llama-cpp picks and loads the build (CPU, CUDA, Vulkan,
// Metal), then Tiller's addon binds to that same libllama. One per process.
import os from "node:os";
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { backendChoiceSchema } from "../protocol/models.js";
import { TillerError } from "../protocol/TillerError.js";
import type { AddonBinding, TillerNativeAddon } from "../native/AddonTypes.js";
import { loadNativeAddon } from "../native/loadNativeAddon.js";

/** Which llama.cpp backend to ask node-llama-cpp for. */
export type GpuChoice = "auto" | "cuda" | "vulkan" | "metal" | false;

export interface BackendOptions {
    /** default "auto": node-llama-cpp's detection */
    gpu?: GpuChoice;
    /** llama.cpp log level forwarded to the console; default "error" (TILLER_LOG_LEVEL overrides) */
    logLevel?: "error" | "warn" | "info" | "debug";
}

export interface TillerBackend {
    llama: Llama;
    addon: TillerNativeAddon;
    binding: AddonBinding;
    /** the GPU backend actually loaded, or false for CPU only */
    gpu: Llama["gpu"];
    /** default thread count: the cores this process may use (node-llama-cpp's default oversubscribes small machines) */
    defaultThreads: number;
}

const logLevels = {
    error: LlamaLogLevel.error,
    warn: LlamaLogLevel.warn,
    info: LlamaLogLevel.info,
    debug: LlamaLogLevel.debug
} as const;

let backendPromise: Promise<TillerBackend> | undefined;
let backendGpu: GpuChoice | undefined;

/** A backend name as the contract spells it; "cpu" means no GPU backend (node-llama-cpp's `gpu: false`). */
export function parseGpuChoice(name: string): GpuChoice {
    const parsed = backendChoiceSchema.safeParse(name);
    if (!parsed.success)
        throw new TillerError("INVALID_ARGUMENT", `the backend must be one of ${backendChoiceSchema.options.join(", ")}; got "${name}"`);
    return parsed.data === "cpu" ? false : parsed.data;
}

/**
 * `$TILLER_GPU`: the backend a process starts with when its code does not choose one (how
 * `tiller serve --gpu` and the desktop app's environment pick the engine's backend).
 */
function gpuChoiceFromEnv(): GpuChoice | undefined {
    const name = process.env.TILLER_GPU;
    return name == null || name === "" ? undefined : parseGpuChoice(name);
}

/**
 * Returns the process's backend, creating it on first use. llama.cpp can be loaded once per process,
 * so a later call asking for a different GPU choice gets the existing backend.
 */
export function getTillerBackend(options: BackendOptions = {}): Promise<TillerBackend> {
    if (backendPromise != null)
        return backendPromise;
    backendGpu = options.gpu ?? gpuChoiceFromEnv() ?? "auto";
    const envLevel = process.env.TILLER_LOG_LEVEL as keyof typeof logLevels | undefined;
    const logLevel = logLevels[envLevel ?? options.logLevel ?? "error"] ?? LlamaLogLevel.error;
    backendPromise = (async () => {
        const llama = await getLlama({ gpu: backendGpu ?? "auto", logLevel, build: "never" });
        const { addon, binding } = loadNativeAddon();
        return {
            llama,
            addon,
            binding,
            gpu: llama.gpu,
            defaultThreads: Math.max(1, os.availableParallelism())
        };
    })();
    backendPromise.catch(() => {
        backendPromise = undefined;
    });
    return backendPromise;
}
