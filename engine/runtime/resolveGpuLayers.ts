import { TillerError } from "../protocol/TillerError.js";
import type { TillerBackend } from "./TillerBackend.js";

/**
 * Turns the user's `gpuLayers` into a number for llama.cpp. "auto" asks node-llama-cpp's resolver,
 * which knows the free VRAM of the backend it loaded; a CPU backend always gets 0.
 */
export async function resolveGpuLayers(backend: TillerBackend, modelPath: string, gpuLayers: number | "auto"): Promise<number> {
    if (gpuLayers !== "auto") {
        if (!Number.isInteger(gpuLayers) || gpuLayers < 0)
            throw new TillerError("INVALID_ARGUMENT", `gpuLayers must be "auto" or a whole number ≥ 0, got ${gpuLayers}`);
        return backend.gpu === false ? 0 : gpuLayers;
    }
    if (backend.gpu === false)
        return 0;
    const llama = await backend.nodeLlama();
    if (!llama.supportsGpuOffloading)
        return 0;
    // imported here: a CPU-only start never loads node-llama-cpp's JavaScript
    const { GgufInsights, readGgufFileInfo } = await import("node-llama-cpp");
    const info = await readGgufFileInfo(modelPath, { logWarnings: false });
    const insights = await GgufInsights.from(info, llama);
    const resolved = await insights.configurationResolver.resolveModelGpuLayersV2("auto");
    return resolved.gpuLayers;
}
