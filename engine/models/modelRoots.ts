// Where other tools keep GGUF models on this machine, and how each is overridden. One function so
// that the scan, the CLI and the tests agree on the folders and on the environment variables.
import type { ScannedModelInfo } from "../protocol/models.js";
import os from "node:os";
import path from "node:path";
import { projectModelsDir } from "./projectModelsDir.js";

/** Where a scanned model was found (the protocol's list). */
export type ModelSource = ScannedModelInfo["source"];

/** In scan order: a file found in two places is listed under the first. */
export const modelSources = ["project", "node-llama-cpp", "lm-studio", "huggingface", "ollama"] as const satisfies readonly ModelSource[];

/** The folders to scan for each source (an empty list skips the source). */
export type ModelRoots = Record<ModelSource, readonly string[]>;

export interface ModelRootsOptions {
    /** replaces the default/environment folders of the sources it names; `[]` skips a source */
    roots?: Partial<Record<ModelSource, readonly string[]>>;
    /** default `process.env` */
    env?: NodeJS.ProcessEnv;
    /** default `os.homedir()` */
    homeDir?: string;
}

/**
 * The environment variable that overrides each source's folders. Its value may list several
 * folders separated by the platform's path delimiter (`:` or `;`); an empty value skips the source.
 * Hugging Face's and Ollama's own variables are honoured after Tiller's.
 */
export const modelRootEnvVars = {
    "project": "TILLER_MODELS_DIR",
    "node-llama-cpp": "TILLER_NODE_LLAMA_CPP_MODELS_DIR",
    "lm-studio": "TILLER_LMSTUDIO_MODELS_DIR",
    "huggingface": "TILLER_HF_HUB_CACHE",
    "ollama": "TILLER_OLLAMA_MODELS"
} as const satisfies Record<ModelSource, string>;

/**
 * The folders each source is scanned in. Defaults:
 * - project: `$TILLER_MODELS_DIR`, else the checkout's `models/`
 * - node-llama-cpp: `~/.node-llama-cpp/models` (node-llama-cpp's `cliModelsDirectory`; `createModelDownloader`'s default)
 * - lm-studio: `~/.lmstudio/models` and the older `~/.cache/lm-studio/models` (publisher/repo/file.gguf)
 * - huggingface: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`
 * - ollama: `$OLLAMA_MODELS`, else `~/.ollama/models` (manifests/ + blobs/)
 */
export function modelRoots(options: ModelRootsOptions = {}): ModelRoots {
    const env = options.env ?? process.env;
    const home = options.homeDir ?? os.homedir();
    const fromEnv = (name: string): string[] | undefined => {
        const value = env[name];
        if (value == null)
            return undefined;
        return value.split(path.delimiter).filter((entry) => entry !== "").map((entry) => path.resolve(entry));
    };
    const hfHome = env.HF_HOME != null && env.HF_HOME !== "" ? env.HF_HOME : undefined;
    const xdgCache = env.XDG_CACHE_HOME != null && env.XDG_CACHE_HOME !== "" ? env.XDG_CACHE_HOME : path.join(home, ".cache");
    const defaults: ModelRoots = {
        "project": [projectModelsDir(env)],
        "node-llama-cpp": fromEnv(modelRootEnvVars["node-llama-cpp"]) ?? [path.join(home, ".node-llama-cpp", "models")],
        "lm-studio": fromEnv(modelRootEnvVars["lm-studio"]) ?? [path.join(home, ".lmstudio", "models"), path.join(home, ".cache", "lm-studio", "models")],
        "huggingface": fromEnv(modelRootEnvVars.huggingface) ?? fromEnv("HF_HUB_CACHE")
            ?? [hfHome != null ? path.join(hfHome, "hub") : path.join(xdgCache, "huggingface", "hub")],
        "ollama": fromEnv(modelRootEnvVars.ollama) ?? fromEnv("OLLAMA_MODELS") ?? [path.join(home, ".ollama", "models")]
    };
    if (env[modelRootEnvVars.project] === "")
        defaults.project = [];
    const roots = { ...defaults };
    for (const source of modelSources) {
        const override = options.roots?.[source];
        if (override !== undefined)
            roots[source] = override.map((entry) => path.resolve(entry));
    }
    return roots;
}
