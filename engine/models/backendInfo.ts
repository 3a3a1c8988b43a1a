// Which llama.cpp backends node-llama-cpp can use on this machine, which one this process loaded,
// its devices and memory, and for a loaded model how much of it actually went to the GPU.
import { createRequire } from "node:module";
import os from "node:os";
import type { LlamaGpuType } from "node-llama-cpp";
import { getTillerBackend, type TillerBackend } from "../runtime/TillerBackend.js";
import type { BackendName } from "../protocol/models.js";
import type { TillerModel } from "../runtime/TillerModel.js";

/** A llama.cpp backend by name ("cpu" where node-llama-cpp says `false`); the contract defines it. */
export type { BackendName };

export interface BackendInfo {
    /** backends node-llama-cpp finds usable here: drivers present and a prebuilt binary for this platform (`getLlamaGpuTypes("supported")`) */
    usable: BackendName[];
    /** node-llama-cpp's prebuilt binary packages installed (e.g. "@node-llama-cpp/linux-x64-cuda") */
    installedBinaries: string[];
    /** the backend this process loaded (one per process) */
    loaded: {
        backend: BackendName;
        supportsGpuOffloading: boolean;
        gpuSupportsMmap: boolean;
        /** "prebuilt" or "localBuild" */
        buildType: string;
        /** the llama.cpp release node-llama-cpp was built from */
        llamaCppRelease: string;
        /** node-llama-cpp's count of cores useful for math */
        cpuMathCores: number;
        /** Tiller's default thread count */
        defaultThreads: number;
    };
    /** the GPU devices of the loaded backend (none for CPU) */
    devices: string[];
    /** VRAM of the loaded backend in bytes; null for CPU */
    vram: { total: number; used: number; free: number; unifiedSize: number } | null;
    /** system RAM in bytes */
    ram: { total: number; free: number };
}

export function backendName(gpu: LlamaGpuType): BackendName {
    return gpu === false ? "cpu" : gpu;
}

/** Reports the backends; loads the process's backend (getTillerBackend) when none is given. */
export async function backendInfo(backend?: TillerBackend): Promise<BackendInfo> {
    const resolved = backend ?? await getTillerBackend();
    const llama = await resolved.nodeLlama();
    const { getLlamaGpuTypes } = await import("node-llama-cpp"); // imported when needed: ~0.5 s
    const usable = (await getLlamaGpuTypes("supported")).map(backendName);
    if (!usable.includes("cpu"))
        usable.push("cpu");
    const onGpu = llama.gpu !== false;
    return {
        usable,
        installedBinaries: installedBinaries(),
        loaded: {
            backend: backendName(llama.gpu),
            supportsGpuOffloading: llama.supportsGpuOffloading,
            gpuSupportsMmap: llama.gpuSupportsMmap,
            buildType: llama.buildType,
            llamaCppRelease: llama.llamaCppRelease.release,
            cpuMathCores: llama.cpuMathCores,
            defaultThreads: resolved.defaultThreads
        },
        devices: onGpu ? await llama.getGpuDeviceNames() : [],
        vram: onGpu ? await llama.getVramState() : null,
        ram: { total: os.totalmem(), free: os.freemem() }
    };
}

/** What a loaded model actually got. */
export interface LoadedModelInfo {
    path: string;
    backend: BackendName;
    /** layers llama.cpp was asked to offload (n_gpu_layers): blocks first, then the output layer */
    gpuLayers: number;
    /** blocks in the model */
    nLayer: number;
    /** blocks on the GPU */
    offloadedBlocks: number;
    /** whether the output layer is on the GPU too (gpuLayers > nLayer) */
    outputOnGpu: boolean;
    /** every block and the output on the GPU */
    fullyOffloaded: boolean;
    /** bytes of weights */
    sizeBytes: number;
    nParams: number;
}

export function loadedModelInfo(model: TillerModel): LoadedModelInfo {
    const { nLayer, sizeBytes, nParams } = model.shape;
    const gpuLayers = model.backend.gpu === false ? 0 : model.gpuLayers;
    return {
        path: model.path,
        backend: backendName(model.backend.gpu),
        gpuLayers,
        nLayer,
        offloadedBlocks: Math.min(gpuLayers, nLayer),
        outputOnGpu: gpuLayers > nLayer,
        fullyOffloaded: gpuLayers > nLayer,
        sizeBytes,
        nParams
    };
}

/** node-llama-cpp's optional prebuilt packages (`@node-llama-cpp/<platform>-<arch>[-cuda|-vulkan|...]`) that resolve from here. */
function installedBinaries(): string[] {
    const require = createRequire(import.meta.url);
    const platform = process.platform === "darwin" ? "mac" : process.platform === "win32" ? "win" : process.platform;
    const found: string[] = [];
    for (const suffix of ["", "-metal", "-cuda", "-cuda-ext", "-vulkan"]) {
        const name = `@node-llama-cpp/${platform}-${process.arch}${suffix}`;
        try {
            require.resolve(name);
            found.push(name);
        } catch {
            // not installed (optional dependency for another machine)
        }
    }
    return found;
}
