// The process-wide llama.cpp backend: node-llama-cpp picks and loads the build (CPU, CUDA, Vulkan,
// Metal), then Tiller's addon binds to that same libllama. One per process.
//
// When the backend will be the CPU on Linux, the direct start (directBackend.ts) loads the same
// prebuilt CPU libraries without node-llama-cpp's JavaScript; node-llama-cpp's Llama is then
// created only when something asks for it (nodeLlama()).
import os from "node:os";
import type { Llama, LlamaGpuType } from "node-llama-cpp";
import type { BackendChoice } from "../protocol/models.js";
import { TillerError } from "../protocol/TillerError.js";
import type { AddonBinding, TillerNativeAddon } from "../native/AddonTypes.js";
import { loadNativeAddon } from "../native/loadNativeAddon.js";
import { autoChoiceIsCpuOnly } from "./autoGpuChoice.js";
import { openDirectCpuBackend, type LlamaLogLevelName } from "./directBackend.js";

/** Which llama.cpp backend to ask node-llama-cpp for. */
export type GpuChoice = "auto" | "cuda" | "vulkan" | "metal" | false;

export interface BackendOptions {
    /** default "auto": node-llama-cpp's detection */
    gpu?: GpuChoice;
    /** llama.cpp log level forwarded to the console; default "error" (TILLER_LOG_LEVEL overrides) */
    logLevel?: "error" | "warn" | "info" | "debug";
}

export interface TillerBackend {
    /**
     * node-llama-cpp's Llama on this backend (memory estimates, VRAM state, backend details).
     * After the direct start it is created on the first call (node-llama-cpp's getLlama() for the
     * CPU build already loaded: ~1 s); otherwise it exists already.
     */
    nodeLlama(): Promise<Llama>;
    addon: TillerNativeAddon;
    binding: AddonBinding;
    /** the GPU backend actually loaded, or false for CPU only */
    gpu: LlamaGpuType;
    /** "direct": Tiller's addon loaded the prebuilt CPU libraries; "node-llama-cpp": getLlama() did */
    loader: "direct" | "node-llama-cpp";
    /** why the direct start was not used (null when it was) */
    directStartSkipped: string | null;
    /** default thread count: the cores this process may use (node-llama-cpp's default oversubscribes small machines) */
    defaultThreads: number;
}

const logLevelNames: readonly LlamaLogLevelName[] = ["error", "warn", "info", "debug"];

let backendPromise: Promise<TillerBackend> | undefined;

/**
 * The contract's backend choices (protocol/models.ts's backendChoiceSchema), listed here so that a
 * CLI start does not load zod and every schema of the contract (~0.1 s) to read $TILLER_GPU.
 */
const backendChoices = ["auto", "cuda", "vulkan", "metal", "cpu"] as const satisfies readonly BackendChoice[];
/** fails to compile when the contract gains a choice this list lacks */
const everyChoiceListed: Exclude<BackendChoice, typeof backendChoices[number]> extends never ? true : never = true;
void everyChoiceListed;

/** A backend name as the contract spells it; "cpu" means no GPU backend (node-llama-cpp's `gpu: false`). */
export function parseGpuChoice(name: string): GpuChoice {
    const choice = backendChoices.find((entry) => entry === name);
    if (choice == null)
        throw new TillerError("INVALID_ARGUMENT", `the backend must be one of ${backendChoices.join(", ")}; got "${name}"`);
    return choice === "cpu" ? false : choice;
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
    const gpu: GpuChoice = options.gpu ?? gpuChoiceFromEnv() ?? "auto";
    const envLevel = process.env.TILLER_LOG_LEVEL as LlamaLogLevelName | undefined;
    const requestedLevel = envLevel ?? options.logLevel ?? "error";
    const logLevel: LlamaLogLevelName = logLevelNames.includes(requestedLevel) ? requestedLevel : "error";
    backendPromise = (async () => {
        const defaultThreads = Math.max(1, os.availableParallelism());
        const startedAt = performance.now();
        let directStartSkipped: string;
        if (process.platform !== "linux")
            directStartSkipped = `the direct start is for Linux (this is ${process.platform})`;
        else if (gpu !== false && (gpu !== "auto" || !(await autoChoiceIsCpuOnly()).cpuOnly))
            directStartSkipped = gpu === "auto" ? "a GPU backend may be usable here: node-llama-cpp chooses" : `the ${gpu} backend was asked for`;
        else {
            const direct = await openDirectCpuBackend(logLevel);
            if (!("reason" in direct)) {
                let nodeLlama: Promise<Llama> | undefined;
                reportStartup(`backend loaded directly from ${direct.binsDir} (crash-test verdict ${direct.verdict}) in ${(performance.now() - startedAt).toFixed(0)} ms`);
                return {
                    // the CPU build is what is loaded: node-llama-cpp finds it in place (a failure is retried on the next call)
                    nodeLlama: () => (nodeLlama ??= loadNodeLlama(false, logLevel).catch((error: unknown) => {
                        nodeLlama = undefined;
                        throw error;
                    })),
                    addon: direct.addon,
                    binding: direct.binding,
                    gpu: false,
                    loader: "direct",
                    directStartSkipped: null,
                    defaultThreads
                } satisfies TillerBackend;
            }
            directStartSkipped = direct.reason;
        }
        const llama = await loadNodeLlama(gpu, logLevel);
        const { addon, binding } = loadNativeAddon();
        reportStartup(`backend loaded by node-llama-cpp (direct start skipped: ${directStartSkipped}) in ${(performance.now() - startedAt).toFixed(0)} ms`);
        return {
            nodeLlama: () => Promise.resolve(llama),
            addon,
            binding,
            gpu: llama.gpu,
            loader: "node-llama-cpp",
            directStartSkipped,
            defaultThreads
        } satisfies TillerBackend;
    })();
    backendPromise.catch(() => {
        backendPromise = undefined;
    });
    return backendPromise;
}

/** node-llama-cpp's getLlama(), its module imported only now (importing it costs ~0.4 s). */
async function loadNodeLlama(gpu: GpuChoice, logLevel: LlamaLogLevelName): Promise<Llama> {
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    return getLlama({ gpu, logLevel: LlamaLogLevel[logLevel], build: "never" });
}

/** `TILLER_DEBUG_STARTUP=1`: one line on stderr saying how llama.cpp was loaded and when (ms since the process started). */
function reportStartup(line: string): void {
    if (process.env.TILLER_DEBUG_STARTUP === "1")
        process.stderr.write(`tiller: startup: ${line}, ready at ${performance.now().toFixed(0)} ms\n`);
}
