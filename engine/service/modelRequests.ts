// The `models.*` and `backends.info` requests, and model.load's backend choice: scanning the
// machine's GGUF files, the recommended catalog, downloads into the project's models/ folder (with
// progress, cancel and resume, engine/models/downloadModel), which backends this engine can use, and
// after a load where the layers actually went.
import fs from "node:fs";
import path from "node:path";
import type { EngineEvents, EngineResults } from "../protocol/EngineContract.js";
import type { WritePolicy } from "./writePolicy.js";
import type { BackendChoice, BackendChoiceInfo, BackendName, ModelPlacementInfo, ScannedModelInfo } from "../protocol/models.js";
import { TillerError } from "../protocol/TillerError.js";
import { getTillerBackend, type TillerBackend } from "../runtime/TillerBackend.js";
import type { TillerModel } from "../runtime/TillerModel.js";
import { backendInfo, backendName, loadedModelInfo } from "../models/backendInfo.js";
import { downloadModel } from "../models/downloadModel.js";
import { loadModelCatalog } from "../models/modelCatalog.js";
import { projectModelsDir } from "../models/projectModelsDir.js";
import { scanModels, type ScannedModel } from "../models/scanModels.js";
import type { RequestContext } from "./requestContext.js";

const backendLabels: Record<BackendName, string> = { cuda: "CUDA", vulkan: "Vulkan", metal: "Metal", cpu: "CPU" };

/** At most this often a download's progress goes out (ipull reports every chunk it writes). */
const DOWNLOAD_PROGRESS_INTERVAL_MS = 100;

/** What the model requests need from the engine service. */
export interface ModelRequestsHost {
    emitProgress(data: EngineEvents["progress"]): void;
    /** where downloads may go; without it, anywhere the download folder rules allow */
    writes?: WritePolicy;
}

export class ModelRequests {
    public constructor(private readonly host: ModelRequestsHost) {}

    public async scan(): Promise<EngineResults["models.scan"]> {
        const models = await scanModels({ backend: await getTillerBackend() });
        return { models: models.map(toScannedModelInfo), modelsDir: projectModelsDir() };
    }

    public async catalog(): Promise<EngineResults["models.catalog"]> {
        const catalog = await loadModelCatalog();
        return { models: catalog.models.map((entry) => ({ ...entry })), modelsDir: projectModelsDir() };
    }

    public async download(params: { uri: string; directory?: string; fileName?: string; sha256?: string; expectedSizeBytes?: number },
        request: RequestContext): Promise<EngineResults["models.download"]> {
        const directory = checkDownloadFolder(params.directory);
        this.host.writes?.checkInside(path.join(directory, params.fileName ?? "model.gguf"), "the download folder");
        if (params.fileName != null && (params.fileName !== path.basename(params.fileName) || !params.fileName.toLowerCase().endsWith(".gguf")))
            throw new TillerError("INVALID_ARGUMENT", `the file name must be a plain name ending in .gguf, got "${params.fileName}"`);
        const label = `downloading ${params.uri}`;
        let lastSent = 0;
        this.host.emitProgress({ requestId: request.requestId, done: 0, total: 0, label });
        const result = await downloadModel(params.uri, {
            directory, fileName: params.fileName, sha256: params.sha256, expectedSizeBytes: params.expectedSizeBytes, signal: request.signal,
            onProgress: ({ downloaded, total }) => {
                const now = Date.now();
                if (now - lastSent < DOWNLOAD_PROGRESS_INTERVAL_MS && downloaded < total)
                    return;
                lastSent = now;
                this.host.emitProgress({ requestId: request.requestId, done: downloaded, total, label });
            }
        });
        this.host.emitProgress({ requestId: request.requestId, done: result.sizeBytes, total: result.sizeBytes, label: `downloaded ${path.basename(result.path)}` });
        return result;
    }

    public async backends(): Promise<EngineResults["backends.info"]> {
        const backend = await getTillerBackend();
        const info = await backendInfo(backend);
        return {
            usable: info.usable,
            installedBinaries: info.installedBinaries,
            loaded: {
                backend: info.loaded.backend, supportsGpuOffloading: info.loaded.supportsGpuOffloading, buildType: info.loaded.buildType,
                llamaCppRelease: info.loaded.llamaCppRelease, cpuMathCores: info.loaded.cpuMathCores, defaultThreads: info.loaded.defaultThreads
            },
            devices: info.devices,
            vram: info.vram != null ? { total: info.vram.total, used: info.vram.used, free: info.vram.free } : null,
            ram: info.ram,
            choices: backendChoices(backend, info.usable)
        };
    }
}

/** A download goes into the project's models/ folder unless an absolute, existing folder is named. */
function checkDownloadFolder(directory: string | undefined): string {
    if (directory == null) {
        const folder = projectModelsDir();
        fs.mkdirSync(folder, { recursive: true });
        return folder;
    }
    if (!path.isAbsolute(directory))
        throw new TillerError("INVALID_ARGUMENT", `the download folder must be an absolute path on the engine's machine, got "${directory}"`);
    if (!fs.existsSync(directory) || !fs.statSync(directory).isDirectory())
        throw new TillerError("FILE_NOT_FOUND", `the download folder does not exist: ${directory}`);
    return path.resolve(directory);
}

/**
 * What `model.load`'s backend choice can be here. llama.cpp loads one backend per process, so a GPU
 * backend other than the one this engine loaded needs a new engine; "cpu" is always possible (no
 * layers offloaded) and "auto" takes the loaded backend.
 */
export function backendChoices(backend: TillerBackend, usable: readonly BackendName[]): BackendChoiceInfo[] {
    const loaded = backendName(backend.gpu);
    const choices: BackendChoiceInfo[] = [
        { choice: "auto", available: true, reason: null },
        { choice: "cpu", available: true, reason: null }
    ];
    for (const gpu of ["cuda", "vulkan", "metal"] as const) {
        const reason = gpu === loaded ? null
            : !usable.includes(gpu) ? `${backendLabels[gpu]} is not usable on this machine (no driver or no prebuilt binary for it)`
            : `this engine loaded llama.cpp's ${backendLabels[loaded]} backend, and a process loads only one; restart the engine to use ${backendLabels[gpu]}`;
        choices.push({ choice: gpu, available: reason == null, reason });
    }
    return choices;
}

/** The gpuLayers to load with for a backend choice; throws with the reason when the choice is not possible here. */
export async function gpuLayersForChoice(choice: BackendChoice, gpuLayers: number | "auto"): Promise<number | "auto"> {
    if (choice === "cpu")
        return 0;
    if (choice === "auto")
        return gpuLayers;
    const backend = await getTillerBackend();
    const usable = (await backendInfo(backend)).usable;
    const verdict = backendChoices(backend, usable).find((entry) => entry.choice === choice)!;
    if (!verdict.available)
        throw new TillerError("INVALID_ARGUMENT", `cannot load on ${backendLabels[choice]}: ${verdict.reason}`);
    return gpuLayers;
}

/** Memory readings around a load, to report what the load took rather than what was asked for. */
export interface MemoryReading {
    vramUsed: number | null;
    rss: number;
}

export async function readMemory(): Promise<MemoryReading> {
    const backend = await getTillerBackend();
    const vramUsed = backend.gpu !== false ? (await (await backend.nodeLlama()).getVramState()).used : null;
    return { vramUsed, rss: process.memoryUsage().rss };
}

export async function modelPlacement(model: TillerModel, requestedBackend: BackendChoice, before: MemoryReading): Promise<ModelPlacementInfo> {
    const loaded = loadedModelInfo(model);
    const after = await readMemory();
    return {
        requestedBackend,
        backend: requestedBackend === "cpu" ? "cpu" : loaded.backend,
        gpuLayers: loaded.gpuLayers,
        nLayer: loaded.nLayer,
        offloadedBlocks: loaded.offloadedBlocks,
        outputOnGpu: loaded.outputOnGpu,
        vramUsedBytes: after.vramUsed != null && before.vramUsed != null ? Math.max(0, after.vramUsed - before.vramUsed) : null,
        rssGrowthBytes: Math.max(0, after.rss - before.rss),
        weightsBytes: loaded.sizeBytes
    };
}

function toScannedModelInfo(model: ScannedModel): ScannedModelInfo {
    const { header, fit } = model;
    return {
        path: model.path, name: model.name, source: model.source, fileName: model.fileName, sizeBytes: model.sizeBytes, parts: model.parts,
        architecture: header?.architecture ?? null, layers: header?.layers ?? null, embeddingLength: header?.embeddingLength ?? null,
        quantization: header?.quantization ?? null, parameters: header?.parameters ?? null, hasChatTemplate: header?.hasChatTemplate ?? false,
        fit: fit != null ? {
            contextSize: fit.contextSize, ramBytes: fit.ramBytes, freeRamBytes: fit.freeRamBytes, fitsInRam: fit.fitsInRam,
            gpu: fit.gpu != null ? { ...fit.gpu } : null
        } : null,
        aliases: model.aliases, problem: model.problem
    };
}
