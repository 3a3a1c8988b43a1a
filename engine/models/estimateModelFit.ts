// Will a model fit? With a loaded backend, node-llama-cpp's GgufInsights estimates the weights and a
// context of the given size on that backend (it simulates llama.cpp's allocations where it can) and
// the GPU's free VRAM decides; without one, a plain estimate (weights + f16 KV cache) against free RAM.
import os from "node:os";
import type { TillerBackend } from "../runtime/TillerBackend.js";
import { DEFAULT_BATCH_SIZE } from "../runtime/contextShapes.js";
import type { ModelFitInfo } from "../protocol/models.js";
import { firstOf, type ModelHeader } from "./readModelHeader.js";

/** The context size a fit is judged for when none is given (or the model's training context, if smaller). */
export const DEFAULT_FIT_CONTEXT = 4096;

/** The protocol's fit (free RAM from `os.freemem()`, free VRAM from `llama.getVramState().free`), and how it was estimated. */
export interface ModelFit extends ModelFitInfo {
    /** "node-llama-cpp": GgufInsights on the loaded backend; "estimate": weights + KV cache arithmetic */
    basis: "node-llama-cpp" | "estimate";
}

export interface EstimateFitOptions {
    /** when given, GgufInsights on this backend and its VRAM; otherwise RAM only */
    backend?: TillerBackend;
    /** default DEFAULT_FIT_CONTEXT (capped at the model's training context) */
    contextSize?: number;
}

/**
 * Estimates what loading `modelPath` (the first part, for a split model) with a context needs.
 * Never throws for a readable header: when node-llama-cpp cannot estimate, the arithmetic is used.
 */
export async function estimateModelFit(modelPath: string, header: ModelHeader, options: EstimateFitOptions = {}): Promise<ModelFit> {
    const contextSize = Math.max(1, Math.min(options.contextSize ?? DEFAULT_FIT_CONTEXT, header.contextLength ?? Infinity));
    const freeRamBytes = os.freemem();
    if (options.backend != null) {
        try {
            return await insightsFit(modelPath, options.backend, contextSize, freeRamBytes);
        } catch {
            // fall through to the arithmetic: an architecture node-llama-cpp cannot estimate
        }
    }
    const ramBytes = header.tensorBytes + kvCacheBytes(header, contextSize);
    return { contextSize, ramBytes, freeRamBytes, fitsInRam: ramBytes <= freeRamBytes, gpu: null, basis: "estimate" };
}

async function insightsFit(modelPath: string, backend: TillerBackend, contextSize: number, freeRamBytes: number): Promise<ModelFit> {
    const llama = await backend.nodeLlama();
    const { GgufInsights, readGgufFileInfo } = await import("node-llama-cpp"); // imported when needed: ~0.5 s
    const info = await readGgufFileInfo(modelPath, { logWarnings: false });
    const insights = await GgufInsights.from(info, llama);
    const context = { contextSize, batchSize: Math.min(DEFAULT_BATCH_SIZE, contextSize), sequences: 1 };
    const cpuModel = await insights.estimateModelResourceRequirementsV2({ gpuLayers: 0 });
    const cpuContext = await insights.estimateContextResourceRequirementsV2({ ...context, modelGpuLayers: 0 });
    const ramBytes = cpuModel.cpuRam + cpuContext.cpuRam;
    let gpu: ModelFit["gpu"] = null;
    if (llama.gpu !== false && llama.supportsGpuOffloading) {
        const layers = insights.totalLayers;
        const gpuModel = await insights.estimateModelResourceRequirementsV2({ gpuLayers: layers });
        const gpuContext = await insights.estimateContextResourceRequirementsV2({ ...context, modelGpuLayers: layers });
        const vramBytes = gpuModel.gpuVram + gpuContext.gpuVram;
        const freeVramBytes = (await llama.getVramState()).free;
        gpu = { vramBytes, freeVramBytes, fitsInGpu: vramBytes <= freeVramBytes };
    }
    return { contextSize, ramBytes, freeRamBytes, fitsInRam: ramBytes <= freeRamBytes, gpu, basis: "node-llama-cpp" };
}

/** K and V in f16 for every layer: 2 · layers · context · (kv heads · head size) · 2 bytes. */
function kvCacheBytes(header: ModelHeader, contextSize: number): number {
    const width = header.embeddingLength;
    if (header.layers == null || width == null)
        return 0;
    const heads = firstOf(header.heads) ?? 1;
    const kvWidth = heads > 0 ? width / heads * (firstOf(header.headsKv) ?? heads) : width;
    return 2 * header.layers * contextSize * kvWidth * 2;
}
