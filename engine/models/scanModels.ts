// Finds the GGUF models already on this machine: Tiller's models/ folder, node-llama-cpp's, LM
// Studio's, the Hugging Face cache and Ollama's blob store. Each model is listed once (a file
// reached twice, through a symlink or a second tag, is listed under its first name), split models
// once (by their first part), and with what its header says. Files that cannot be read are listed
// with a `problem` instead of failing the scan.
import type { Dirent } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { estimateModelFit, type EstimateFitOptions, type ModelFit } from "./estimateModelFit.js";
import { modelRoots, modelSources, type ModelRootsOptions, type ModelSource } from "./modelRoots.js";
import type { ScannedHeaderInfo, ScannedModelInfo } from "../protocol/models.js";
import { fileSize, parseSplitName, readModelHeader, splitPartName, type ModelHeader } from "./readModelHeader.js";

export type { ModelSource } from "./modelRoots.js";

/** A scan entry: the protocol's, with the whole header, the fit's basis and the resolved path. */
export interface ScannedModel extends Omit<ScannedModelInfo, keyof ScannedHeaderInfo | "fit"> {
    /** `path` with symlinks resolved (the blob, for Hugging Face) */
    realPath: string;
    /** null when the header could not be read (see `problem`) */
    header: ModelHeader | null;
    /** null when the header could not be read, or with `fit: false` */
    fit: ModelFit | null;
}

export interface ScanModelsOptions extends ModelRootsOptions, EstimateFitOptions {
    /** estimate whether each model fits (default true) */
    fit?: boolean;
    /** how deep to look under the project, node-llama-cpp and LM Studio folders (default 4) */
    maxDepth?: number;
}

/** A model found by name, before its headers are read. */
interface Candidate {
    source: ModelSource;
    name: string;
    fileName: string;
    /** every part's path, in order (one for an unsplit model) */
    parts: string[];
    /** set when the candidate is known to be unusable before reading it */
    problem?: string;
}

const ollamaModelMediaType = "application/vnd.ollama.image.model";

/**
 * Lists the models in every source's folders (see `modelRoots` for the defaults and the environment
 * variables). Folders that do not exist are skipped; nothing here throws for a bad file.
 */
export async function scanModels(options: ScanModelsOptions = {}): Promise<ScannedModel[]> {
    const roots = modelRoots(options);
    const maxDepth = options.maxDepth ?? 4;
    const candidates: Candidate[] = [];
    for (const source of modelSources) {
        const found: Candidate[] = [];
        for (const root of roots[source]) {
            if (source === "huggingface")
                found.push(...await findHuggingFaceModels(root));
            else if (source === "ollama")
                found.push(...await findOllamaModels(root));
            else
                found.push(...await findFolderModels(source, root, maxDepth));
        }
        found.sort((a, b) => a.name.localeCompare(b.name) || a.parts[0]!.localeCompare(b.parts[0]!));
        candidates.push(...found);
    }

    const models: ScannedModel[] = [];
    const byRealPath = new Map<string, ScannedModel>();
    for (const candidate of candidates) {
        const first = candidate.parts[0]!;
        const realPath = await fs.realpath(first).catch(() => path.resolve(first));
        const seen = byRealPath.get(realPath);
        if (seen != null) {
            if (seen.name !== candidate.name && !seen.aliases.includes(candidate.name))
                seen.aliases.push(candidate.name);
            continue;
        }
        const model = await describe(candidate, realPath, options);
        byRealPath.set(realPath, model);
        models.push(model);
    }
    return models;
}

async function describe(candidate: Candidate, realPath: string, options: ScanModelsOptions): Promise<ScannedModel> {
    const sizes = await Promise.all(candidate.parts.map((part) => fileSize(part)));
    const missing = candidate.parts.filter((_, index) => sizes[index] === undefined);
    const model: ScannedModel = {
        path: candidate.parts[0]!,
        realPath,
        name: candidate.name,
        source: candidate.source,
        fileName: candidate.fileName,
        sizeBytes: sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0),
        parts: candidate.parts.length,
        header: null,
        fit: null,
        aliases: [],
        problem: candidate.problem ?? null
    };
    if (model.problem != null) {
        model.sizeBytes = 0; // `path` is not a model (e.g. a broken Ollama manifest)
        return model;
    }
    if (missing.length > 0) {
        model.problem = candidate.parts.length > 1
            ? `${missing.length} of ${candidate.parts.length} parts are missing (${missing.map((part) => path.basename(part)).join(", ")})`
            : `"${candidate.parts[0]}" is missing or unreadable`;
        return model;
    }
    try {
        model.header = await readModelHeader(candidate.parts);
    } catch (error) {
        model.problem = error instanceof Error ? error.message : String(error);
        return model;
    }
    if (options.fit ?? true) {
        try {
            model.fit = await estimateModelFit(model.path, model.header, options);
        } catch {
            model.fit = null;
        }
    }
    return model;
}

// ---------------------------------------------------------------------------------------------
// Plain folder trees: the project's models/, node-llama-cpp's models folder, LM Studio (publisher/repo/file.gguf)

async function findFolderModels(source: ModelSource, root: string, maxDepth: number): Promise<Candidate[]> {
    const files = await walkGgufFiles(root, maxDepth);
    return groupSplitParts(files).map((parts) => {
        const relative = path.relative(root, parts[0]!).split(path.sep);
        const fileName = relative[relative.length - 1]!;
        const stem = modelStem(fileName);
        let name = [...relative.slice(0, -1), stem].join("/");
        if (source === "lm-studio" && relative.length >= 3)
            name = relative.slice(0, 2).join("/"); // publisher/repo
        return { source, name, fileName, parts };
    });
}

/** `*.gguf` files under `root` (symlinks followed, hidden entries skipped), at most `maxDepth` folders down. */
async function walkGgufFiles(root: string, maxDepth: number): Promise<string[]> {
    const files: string[] = [];
    const walk = async (dir: string, depth: number): Promise<void> => {
        let entries: Dirent[];
        try {
            entries = await fs.readdir(dir, { withFileTypes: true });
        } catch {
            return; // absent or unreadable folder
        }
        for (const entry of entries) {
            if (entry.name.startsWith("."))
                continue;
            const full = path.join(dir, entry.name);
            let isDirectory = entry.isDirectory();
            let isFile = entry.isFile();
            if (entry.isSymbolicLink()) {
                const target = await fs.stat(full).catch(() => undefined);
                isDirectory = target?.isDirectory() ?? false;
                // a dangling link to a .gguf is still listed: it gets a problem
                isFile = target?.isFile() ?? true;
            }
            if (isDirectory && depth < maxDepth)
                await walk(full, depth + 1);
            else if (isFile && entry.name.toLowerCase().endsWith(".gguf"))
                files.push(full);
        }
    };
    await walk(root, 0);
    return files;
}

/**
 * One entry per model: an unsplit file alone; the parts of a split model, in order, under its first
 * part's name (parts that are absent are included, so the model reports them missing).
 */
function groupSplitParts(files: readonly string[]): string[][] {
    const groups: string[][] = [];
    const splits = new Map<string, { dir: string; base: string; count: number }>();
    for (const file of files) {
        const split = parseSplitName(path.basename(file));
        if (split == null) {
            groups.push([file]);
            continue;
        }
        const dir = path.dirname(file);
        splits.set(JSON.stringify([dir, split.base, split.count]), { dir, base: split.base, count: split.count });
    }
    for (const { dir, base, count } of splits.values())
        groups.push(Array.from({ length: count }, (_, index) => path.join(dir, splitPartName(base, index + 1, count))));
    return groups;
}

/** "model.Q4_K_M.gguf" → "model.Q4_K_M"; "big-00001-of-00003.gguf" → "big" */
function modelStem(fileName: string): string {
    const split = parseSplitName(fileName);
    if (split != null)
        return split.base;
    return fileName.replace(/\.gguf$/i, "");
}

// ---------------------------------------------------------------------------------------------
// Hugging Face cache: <hub>/models--ORG--NAME/snapshots/<revision>/<file>.gguf → ../../blobs/<hash>

async function findHuggingFaceModels(hub: string): Promise<Candidate[]> {
    const candidates: Candidate[] = [];
    const repos = await fs.readdir(hub, { withFileTypes: true }).catch(() => [] as Dirent[]);
    for (const repo of repos) {
        if (!repo.isDirectory() || !repo.name.startsWith("models--"))
            continue;
        const name = repo.name.slice("models--".length).split("--").join("/");
        const snapshots = path.join(hub, repo.name, "snapshots");
        const revisions = await fs.readdir(snapshots, { withFileTypes: true }).catch(() => [] as Dirent[]);
        for (const revision of revisions) {
            if (!revision.isDirectory())
                continue;
            const root = path.join(snapshots, revision.name);
            for (const parts of groupSplitParts(await walkGgufFiles(root, 3)))
                candidates.push({ source: "huggingface", name, fileName: path.relative(root, parts[0]!).split(path.sep).join("/"), parts });
        }
    }
    return candidates;
}

// ---------------------------------------------------------------------------------------------
// Ollama: <models>/manifests/<host>/<namespace>/<model>/<tag> (JSON) → blobs/sha256-<hex>

async function findOllamaModels(modelsDir: string): Promise<Candidate[]> {
    const manifests = path.join(modelsDir, "manifests");
    const candidates: Candidate[] = [];
    const list = async (dir: string) => (await fs.readdir(dir, { withFileTypes: true }).catch(() => [] as Dirent[])).filter((entry) => !entry.name.startsWith("."));
    for (const host of await list(manifests)) {
        if (!host.isDirectory())
            continue;
        for (const namespace of await list(path.join(manifests, host.name))) {
            if (!namespace.isDirectory())
                continue;
            for (const model of await list(path.join(manifests, host.name, namespace.name))) {
                if (!model.isDirectory())
                    continue;
                for (const tag of await list(path.join(manifests, host.name, namespace.name, model.name))) {
                    if (!tag.isFile())
                        continue;
                    const manifest = path.join(manifests, host.name, namespace.name, model.name, tag.name);
                    candidates.push(await ollamaCandidate(modelsDir, manifest, ollamaName(host.name, namespace.name, model.name, tag.name), tag.name));
                }
            }
        }
    }
    return candidates;
}

/** "library/llama3.2:3b" is shown as Ollama shows it: "llama3.2:3b"; other registries keep their host. */
function ollamaName(host: string, namespace: string, model: string, tag: string): string {
    if (host === "registry.ollama.ai")
        return namespace === "library" ? `${model}:${tag}` : `${namespace}/${model}:${tag}`;
    return `${host}/${namespace}/${model}:${tag}`;
}

async function ollamaCandidate(modelsDir: string, manifest: string, name: string, tag: string): Promise<Candidate> {
    const unusable = (problem: string): Candidate => ({ source: "ollama", name, fileName: tag, parts: [manifest], problem });
    let parsed: unknown;
    try {
        parsed = JSON.parse(await fs.readFile(manifest, "utf8"));
    } catch (error) {
        return unusable(`cannot read the Ollama manifest "${manifest}": ${(error as Error).message}`);
    }
    const layers = (parsed as { layers?: unknown }).layers;
    const layer = Array.isArray(layers)
        ? layers.find((entry): entry is { digest: string } => typeof entry === "object" && entry != null
            && (entry as { mediaType?: unknown }).mediaType === ollamaModelMediaType && typeof (entry as { digest?: unknown }).digest === "string")
        : undefined;
    if (layer == null)
        return unusable(`the Ollama manifest "${manifest}" has no model layer (${ollamaModelMediaType})`);
    const digest = /^sha256[:-]([0-9a-f]{64})$/i.exec(layer.digest);
    if (digest == null)
        return unusable(`the Ollama manifest "${manifest}" names a blob with an unexpected digest "${layer.digest}"`);
    return { source: "ollama", name, fileName: tag, parts: [path.join(modelsDir, "blobs", `sha256-${digest[1]!.toLowerCase()}`)] };
}
