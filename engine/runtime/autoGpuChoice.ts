// What getLlama({ gpu: "auto" }) would try, without importing node-llama-cpp's main module (which
// loads all of its JavaScript, ~0.4 s): node-llama-cpp's own detection function (the driver and
// runtime files of CUDA and Vulkan), imported from its file. node-llama-cpp is pinned to one
// version, so the file is known; if it is not there, the answer is "may use a GPU" and the caller
// leaves the choice to getLlama().
//
// Importing even that file costs ~0.1–0.2 s (its helpers pull in fs-extra, semver, ...), so the
// answer is cached with what the detection looks at: the library folders' modification times,
// /etc/ld.so.cache (rewritten when a driver or runtime is installed), the environment variables it
// reads. Any change there, or a day passing, runs the detection again.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { nodeLlamaCppPackage } from "../native/loadNativeAddon.js";
import { tillerCacheDir } from "./backendVerdictCache.js";

type GpuTypesForOption = (gpu: "auto") => Promise<Array<string | false>>;

interface StoredAutoChoice {
    fingerprint: string;
    cpuOnly: boolean;
    detectedAt: number;
}

/** How long a stored answer is trusted even when nothing it watches changed. */
const maxAgeMs = 24 * 60 * 60 * 1000;

/** The folders node-llama-cpp 3.21.1's Linux detection searches, and the loader cache. */
function watchedPaths(env: NodeJS.ProcessEnv): string[] {
    const fromEnv = [env.LD_LIBRARY_PATH, env.CUDA_PATH].flatMap((value) => (value ?? "").split(":")).filter((entry) => entry !== "");
    return [
        "/etc/ld.so.cache", "/usr/lib", "/usr/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/usr/lib/armv7l-linux-gnu", "/usr/local", ...fromEnv
    ];
}

export function autoChoiceFingerprint(env: NodeJS.ProcessEnv = process.env): string {
    const times = watchedPaths(env).map((entry) => {
        try {
            return `${entry}=${fs.statSync(entry).mtimeMs}`;
        } catch {
            return `${entry}=absent`;
        }
    });
    return JSON.stringify({
        nodeLlamaCpp: nodeLlamaCppPackage().version,
        env: [env.LD_LIBRARY_PATH ?? null, env.CUDA_PATH ?? null, env.PREFIX ?? null],
        times
    });
}

function storePath(): string {
    return path.join(tillerCacheDir(), "auto-gpu-choice.json");
}

/** node-llama-cpp's answer, computed now. */
async function detectCpuOnly(): Promise<boolean | undefined> {
    try {
        const file = path.join(nodeLlamaCppPackage().dir, "dist", "bindings", "utils", "getGpuTypesToUseForOption.js");
        const module = await import(pathToFileURL(file).href) as { getGpuTypesToUseForOption?: GpuTypesForOption };
        if (typeof module.getGpuTypesToUseForOption !== "function")
            return undefined;
        const types = await module.getGpuTypesToUseForOption("auto");
        return types.length === 1 && types[0] === false;
    } catch {
        return undefined;
    }
}

/**
 * true when "auto" would try the CPU only; false when it would try a GPU first or cannot be told.
 * `detected` says whether the detection ran now (false: the stored answer was used).
 */
export async function autoChoiceIsCpuOnly(): Promise<{ cpuOnly: boolean; detected: boolean }> {
    const fingerprint = autoChoiceFingerprint();
    try {
        const stored = JSON.parse(fs.readFileSync(storePath(), "utf8")) as Partial<StoredAutoChoice>;
        if (stored.fingerprint === fingerprint && typeof stored.cpuOnly === "boolean" &&
            typeof stored.detectedAt === "number" && Date.now() - stored.detectedAt < maxAgeMs && stored.detectedAt <= Date.now())
            return { cpuOnly: stored.cpuOnly, detected: false };
    } catch {
        // none stored, or unreadable: detect
    }
    const cpuOnly = await detectCpuOnly();
    if (cpuOnly == null)
        return { cpuOnly: false, detected: true };
    try {
        fs.mkdirSync(path.dirname(storePath()), { recursive: true });
        const temporary = `${storePath()}.${process.pid}.tmp`;
        fs.writeFileSync(temporary, JSON.stringify({ fingerprint, cpuOnly, detectedAt: Date.now() } satisfies StoredAutoChoice));
        fs.renameSync(temporary, storePath());
    } catch {
        // not writable: detect again next time
    }
    return { cpuOnly, detected: true };
}
