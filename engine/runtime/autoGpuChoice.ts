// What getLlama({ gpu: "auto" }) would try, without importing node-llama-cpp's main module (which
// loads all of its JavaScript, ~0.4 s): its own detection function (driver and runtime files of
// CUDA and Vulkan), imported from its file. node-llama-cpp is pinned to one version, so the file is
// known; if it is not there, the answer is "unknown" and the caller leaves the choice to getLlama().
import path from "node:path";
import { pathToFileURL } from "node:url";
import { nodeLlamaCppPackage } from "../native/loadNativeAddon.js";

type GpuTypesForOption = (gpu: "auto") => Promise<Array<string | false>>;

/** true when "auto" would try the CPU only; false when it would try a GPU first or cannot be told. */
export async function autoChoiceIsCpuOnly(): Promise<boolean> {
    try {
        const file = path.join(nodeLlamaCppPackage().dir, "dist", "bindings", "utils", "getGpuTypesToUseForOption.js");
        const module = await import(pathToFileURL(file).href) as { getGpuTypesToUseForOption?: GpuTypesForOption };
        if (typeof module.getGpuTypesToUseForOption !== "function")
            return false;
        const types = await module.getGpuTypesToUseForOption("auto");
        return types.length === 1 && types[0] === false;
    } catch {
        return false;
    }
}
