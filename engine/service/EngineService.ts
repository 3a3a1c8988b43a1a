// The engine as a service: one loaded model, the vector library, and runs, behind the requests of
// engine/protocol/EngineContract.ts. Transport-free: the RPC server (EngineRpcServer) feeds it
// validated requests and forwards its events to whichever transport carries them.
import os from "node:os";
import path from "node:path";
import type {
    DatasetInfo, EngineEventName, EngineEvents, EngineInfo, EngineResults, LoadedModelInfo, PatchSpec, ProbeSpec, RunStartParams, VectorInfo
} from "../protocol/EngineContract.js";
import { TillerError, toTillerErrorPayload, type TillerErrorPayload } from "../protocol/TillerError.js";
import { generate, type GenerationRun } from "../runtime/generate.js";
import type { ProjectionProbe } from "../runtime/ProjectionReader.js";
import type { SteeringPatch } from "../runtime/SteeringPatch.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { TillerModel } from "../runtime/TillerModel.js";
import { defaultContextSize, VECTOR_BUILD_CONTEXT } from "../runtime/contextShapes.js";
import { getTillerBackend } from "../runtime/TillerBackend.js";
import { defaultDecodeThreads, UI_ENGINE_DECODE_PRIORITY, type DecodePriority } from "../runtime/decodePriority.js";
import { buildVectorFromDataset } from "../vectors/buildVectorFromDataset.js";
import { listBuiltinDatasets, loadBuiltinDataset } from "../vectors/datasets/builtinDatasets.js";
import { readDatasetFile } from "../vectors/datasets/importers.js";
import { VectorLibrary } from "../vectors/library/VectorLibrary.js";
import { sha256OfFile } from "../io/sha256File.js";
import { defaultModelPath } from "../models/defaultModel.js";
import { formatChatPrompt } from "./formatChatPrompt.js";
import { resolveSamplingOptions } from "../runtime/sampling/SamplingOptions.js";
import type { RunRecorder, SessionWriter } from "../sessions/SessionWriter.js";
import { createModelSession } from "../sessions/modelSession.js";
import type { BackendChoice } from "../protocol/models.js";
import { SessionRequests } from "./sessionRequests.js";
import { recordSafely } from "./recordSafely.js";
import { WritePolicy } from "./writePolicy.js";
import { gpuLayersForChoice, ModelRequests, modelPlacement, readMemory } from "./modelRequests.js";
import { ProbeRequests } from "./probeRequests.js";
import { BlackboxRequests } from "./blackboxRequests.js";
import { ForensicsRequests } from "./forensicsRequests.js";
import type { AnalysisHost } from "./analysisHost.js";
import { recordVectorBuild } from "../sessions/probeRecords.js";

export interface EngineServiceOptions {
    /** where the vector library lives; default ~/.tiller/vectors (TILLER_DATA_DIR overrides ~/.tiller) */
    dataDir?: string;
    /** default thread count for contexts; default: the cores available */
    threads?: number;
    /** folders requests may write into; default: the data dir, the models dir and the export dirs (writePolicy.ts) */
    writableRoots?: readonly string[];
    /** the priority of the loaded model's decodes (runtime/decodePriority.ts); default "background": the engine serves a UI */
    decodePriority?: DecodePriority;
}

import type { RequestContext } from "./requestContext.js";

export type { RequestContext };

type Listener = (event: EngineEventName, data: unknown) => void;

interface LoadedModel {
    model: TillerModel;
    context: TillerContext;
    info: LoadedModelInfo;
    /** the probe session this model's work is recorded into; created at the first recorded action */
    session?: Promise<SessionWriter>;
}

export function defaultDataDir(): string {
    return process.env.TILLER_DATA_DIR ?? path.join(os.homedir(), ".tiller");
}

export class EngineService {
    public readonly library: VectorLibrary;
    /** where requests may write files */
    public readonly writes: WritePolicy;
    private readonly listeners = new Set<Listener>();
    private loaded: LoadedModel | undefined;
    private loading: Promise<unknown> = Promise.resolve();
    private readonly runs = new Map<string, GenerationRun>();
    private readonly threads: number | undefined;
    private readonly decodePriority: DecodePriority;
    private readonly sessionsRoot: string;

    public constructor(options: EngineServiceOptions = {}) {
        this.library = new VectorLibrary(path.join(options.dataDir ?? defaultDataDir(), "vectors"));
        this.sessionsRoot = path.join(options.dataDir ?? defaultDataDir(), "sessions");
        this.threads = options.threads;
        this.decodePriority = options.decodePriority ?? UI_ENGINE_DECODE_PRIORITY;
        this.writes = options.writableRoots != null ? new WritePolicy(options.writableRoots) : WritePolicy.forDataDir(options.dataDir ?? defaultDataDir());
        this.sessions = new SessionRequests({
            sessionsRoot: this.sessionsRoot,
            threads: this.threads,
            emitProgress: (data) => this.emit("progress", data),
            loadedModel: () => this.loaded?.model,
            loadModel: (params, request) => this.loadModel(params, request),
            recordingFolder: async () => (await this.loaded?.session?.catch(() => undefined))?.folder,
            writes: this.writes
        });
        this.models = new ModelRequests({ emitProgress: (data) => this.emit("progress", data), writes: this.writes });
        const analysisHost: AnalysisHost = {
            loaded: () => {
                const loaded = this.requireModel();
                return { model: loaded.model, context: loaded.context, session: () => this.session(loaded) };
            },
            library: this.library,
            threads: this.threads,
            toPatches: (specs) => this.toPatches(specs),
            emitProgress: (data) => this.emit("progress", data)
        };
        this.probes = new ProbeRequests(analysisHost);
        this.forensics = new ForensicsRequests(analysisHost);
        this.blackbox = new BlackboxRequests({ emitProgress: (data) => this.emit("progress", data) });
    }

    // Each group of requests is a class constructed with a host: what it needs of the service, lent.
    /** the sessions.* requests (engine/service/sessionRequests.ts) */
    public readonly sessions: SessionRequests;
    /** the models.* and backends.info requests (engine/service/modelRequests.ts) */
    public readonly models: ModelRequests;
    /** probes.sweep, probes.detect and probes.thermo (engine/service/probeRequests.ts) */
    public readonly probes: ProbeRequests;
    /** forensics.detect (engine/service/forensicsRequests.ts) */
    public readonly forensics: ForensicsRequests;
    /** blackbox.locate, which needs no model (engine/service/blackboxRequests.ts) */
    public readonly blackbox: BlackboxRequests;

    /**
     * Every run and vector build is recorded, into one session per loaded model. A session that could
     * not be created (a full disk) is not remembered: the next recorded action tries again.
     */
    private session(loaded: LoadedModel): Promise<SessionWriter> {
        if (loaded.session != null)
            return loaded.session;
        const created = createModelSession(this.sessionsRoot, loaded.info, "0.1.0");
        loaded.session = created;
        created.catch(() => {
            if (loaded.session === created)
                loaded.session = undefined;
        });
        return created;
    }

    public onEvent(listener: Listener): () => void {
        this.listeners.add(listener);
        return () => this.listeners.delete(listener);
    }

    private emit<E extends EngineEventName>(event: E, data: EngineEvents[E]): void {
        for (const listener of this.listeners)
            listener(event, data);
    }

    private requireModel(): LoadedModel {
        if (this.loaded == null)
            throw new TillerError("INVALID_ARGUMENT", "no model is loaded: load a GGUF model first");
        return this.loaded;
    }

    // ---- engine & models ----------------------------------------------------------------------

    public async info(): Promise<EngineInfo> {
        const backend = await getTillerBackend();
        return {
            version: "0.1.0",
            gpu: backend.gpu,
            defaultThreads: this.threads ?? defaultDecodeThreads(this.decodePriority, backend.defaultThreads),
            systemInfo: backend.binding.systemInfo,
            pid: process.pid,
            defaultModel: defaultModelPath(),
            model: this.loaded?.info ?? null
        };
    }

    public async loadModel(params: { path: string; gpuLayers?: number | "auto"; backend?: BackendChoice; contextSize?: number; threads?: number }, request: RequestContext): Promise<LoadedModelInfo> {
        const task = this.loading.then(async () => {
            this.emit("progress", { requestId: request.requestId, done: 0, total: 1, label: "loading the model" });
            // an impossible backend choice fails before the loaded model is given up
            const gpuLayers = await gpuLayersForChoice(params.backend ?? "auto", params.gpuLayers ?? "auto");
            await this.unloadModel();
            const memoryBefore = await readMemory();
            const model = await TillerModel.load(params.path, { gpuLayers, decodePriority: this.decodePriority });
            try {
                const context = await model.createContext({
                    contextSize: params.contextSize ?? defaultContextSize(model.shape.nCtxTrain),
                    threads: params.threads ?? this.threads
                });
                const info: LoadedModelInfo = {
                    path: model.path,
                    fileName: path.basename(model.path),
                    shape: { ...model.shape },
                    gpuLayers: model.gpuLayers,
                    contextSize: context.contextSize,
                    threads: context.threads,
                    placement: await modelPlacement(model, params.backend ?? "auto", memoryBefore),
                    steeringSupport: model.support
                };
                this.loaded = { model, context, info };
                this.emit("progress", { requestId: request.requestId, done: 1, total: 1, label: "model loaded" });
                this.emit("model.changed", { model: info });
                return info;
            } catch (error) {
                await model.dispose();
                throw error;
            }
        });
        this.loading = task.catch(() => undefined);
        return task;
    }

    public async unloadModel(): Promise<void> {
        const loaded = this.loaded;
        if (loaded == null)
            return;
        for (const run of this.runs.values())
            run.abort();
        await Promise.allSettled([...this.runs.values()].map((run) => run.result));
        this.loaded = undefined;
        if (loaded.session != null)
            (await loaded.session.catch(() => undefined))?.close();
        await loaded.model.dispose();
        this.emit("model.changed", { model: null });
    }

    // ---- vectors ------------------------------------------------------------------------------

    public listDatasets(): DatasetInfo[] {
        return listBuiltinDatasets().map((dataset) => ({ ...dataset }));
    }

    public async listVectors(): Promise<EngineResults["vectors.list"]> {
        const { entries, problems } = await this.library.list();
        return { vectors: entries.map(toVectorInfo), problems };
    }

    private async vector(id: string): Promise<SteeringVector> {
        return (await this.library.get(id)).vector;
    }

    public async buildVector(params: { dataset: string; method?: "mean" | "pca-diff" | "pca-center"; readAt?: "last" | "mean" | "answer"; layers?: { first: number; last: number }; name?: string },
        request: RequestContext): Promise<EngineResults["vectors.build"]> {
        const loaded = this.requireModel();
        const { model } = loaded;
        const dataset = path.isAbsolute(params.dataset) || params.dataset.endsWith(".json")
            ? await readDatasetFile(params.dataset)
            : loadBuiltinDataset(params.dataset);
        // a context of its own: building batches many sequences through a larger batch
        const context = await model.createContext({ ...VECTOR_BUILD_CONTEXT, threads: this.threads });
        try {
            const built = await buildVectorFromDataset(context, dataset, {
                method: params.method, readAt: params.readAt, layers: params.layers, signal: request.signal,
                onProgress: (done, total) => this.emit("progress", { requestId: request.requestId, done, total, label: "building the vector" })
            });
            // the library first: a session that cannot be written must not discard a finished build
            const entry = await this.library.add({ ...built.vector, name: params.name ?? `${dataset.name} (${built.method})` }, {
                modelHint: model.shape.architecture,
                sourceDataset: dataset.name,
                method: built.method,
                readAt: built.readAt,
                modelSha256: await sha256OfFile(model.path)
            });
            await recordSafely("the vector build", async () => recordVectorBuild(await this.session(loaded),
                { vectorId: entry.id, dataset: dataset.name, method: built.method, readAt: built.readAt, bestLayer: built.bestLayer, diagnostics: built.diagnostics }));
            return {
                vector: toVectorInfo(entry),
                diagnostics: built.diagnostics.map((entry) => ({ ...entry, heldOutAuroc: nanToNull(entry.heldOutAuroc),
                    validationAuroc: nanToNull(entry.validationAuroc), pairedAccuracy: nanToNull(entry.pairedAccuracy) })),
                bestLayer: built.bestLayer,
                elapsedMs: built.elapsedMs,
                warnings: built.warnings
            };
        } finally {
            await context.dispose();
        }
    }

    public async importVector(filePath: string): Promise<VectorInfo> {
        return toVectorInfo(await this.library.importGguf(filePath));
    }

    public async exportVector(params: { id: string; path: string; format: "gguf" | "npy"; overwrite?: boolean }): Promise<null> {
        const target = this.writes.checkNewFile(params.path, `.${params.format}`, { overwrite: params.overwrite, what: "the export path" });
        if (params.format === "gguf")
            await this.library.exportGguf(params.id, target);
        else
            await this.library.exportNpy(params.id, target);
        return null;
    }

    public async renameVector(id: string, name: string): Promise<VectorInfo> {
        return toVectorInfo(await this.library.rename(id, name));
    }

    public async deleteVector(id: string): Promise<null> {
        await this.library.delete(id);
        return null;
    }

    public async combineVectors(terms: { id: string; weight: number }[], name: string): Promise<VectorInfo> {
        return toVectorInfo(await this.library.weightedSum(terms, name));
    }

    // ---- runs ---------------------------------------------------------------------------------

    private async toPatches(specs: readonly PatchSpec[]): Promise<SteeringPatch[]> {
        return Promise.all(specs.map(async (spec) => {
            const trigger = spec.trigger;
            return {
                id: spec.id, vector: await this.vector(spec.vectorId), strength: spec.strength,
                layers: spec.layers, fromToken: spec.fromToken, untilToken: spec.untilToken,
                trigger: trigger?.kind === "projection" ? { ...trigger, vector: await this.vector(trigger.vectorId) } : trigger
            };
        }));
    }

    private async toProbes(specs: readonly ProbeSpec[]): Promise<ProjectionProbe[]> {
        const probes: ProjectionProbe[] = [];
        const seen = new Set<string>();
        for (const spec of specs) {
            if (seen.has(spec.vectorId))
                continue; // one read-out per vector; the UI may ask twice
            seen.add(spec.vectorId);
            probes.push({ name: spec.vectorId, vector: await this.vector(spec.vectorId), layers: spec.layers });
        }
        return probes;
    }

    public async startRun(params: RunStartParams): Promise<EngineResults["run.start"]> {
        const loaded = this.requireModel();
        const { model, context } = loaded;
        const prompt = params.promptMode === "chat" ? await formatChatPrompt(model, params.prompt) : params.prompt;
        const patches = await this.toPatches(params.patches ?? []);
        const probes = await this.toProbes(params.probes ?? []);
        const session = await this.session(loaded);
        const settings = {
            prompt, maxTokens: params.maxTokens ?? 256, sampling: resolveSamplingOptions({ temperature: 0, ...params.sampling }),
            topAlternatives: params.topAlternatives ?? 8, patches, probes, contextSize: context.contextSize, threads: context.threads
        };
        const run = generate(context, prompt, { ...settings, addBos: true });
        let recorder: RunRecorder;
        try {
            recorder = session.startRun(settings);
        } catch (error) {
            // the decode has started: it must not go on holding the context with nobody to stop it
            run.abort();
            await run.result.catch(() => undefined);
            throw error;
        }
        const runId = recorder.runId;
        this.runs.set(runId, run);
        const promptTokens = Array.from(model.tokenize(prompt), (id) => ({ id, piece: model.tokenText(id) }));
        void this.pump(runId, run, recorder);
        return { runId, promptTokens };
    }

    /**
     * Streams a run's tokens to the clients and into its session. A recording failure (a full disk)
     * stops the run — its decode is aborted, so the context is free and `run.stop` is not needed —
     * and the run ends with that error; what was recorded so far stays readable.
     */
    private async pump(runId: string, run: GenerationRun, recorder: RunRecorder): Promise<void> {
        let reported = 0;
        let reportedTriggers = 0;
        let recordingError: unknown;
        const reportPatchChanges = (changes: { atToken: number; activePatches: string[] }[]) => {
            for (; reported < changes.length; reported++) {
                const { atToken, activePatches } = changes[reported]!;
                this.emit("run.patchChange", { runId, atToken, activePatches });
            }
            for (; reportedTriggers < run.triggerEvents.length; reportedTriggers++)
                this.emit("run.trigger", { runId, ...run.triggerEvents[reportedTriggers]! });
        };
        try {
            for await (const token of run) {
                this.emit("run.token", { runId, token, emittedAt: Date.now() });
                reportPatchChanges(run.patchChanges);
                if (recordingError != null)
                    continue;
                try {
                    recorder.token(token, run.patchChanges, run.triggerEvents);
                } catch (error) {
                    recordingError = error;
                    run.abort();
                }
            }
            const result = await run.result;
            reportPatchChanges(result.patchChanges);
            if (recordingError == null) {
                try {
                    await recorder.end(result);
                } catch (error) {
                    recordingError = error;
                }
            }
            this.emit("run.end", {
                runId, stopReason: result.stopReason, text: result.text, tokensPerSecond: result.timings.tokensPerSecond,
                ...(recordingError != null ? { error: recordingFailure(recordingError) } : {})
            });
        } catch (error) {
            run.abort();
            this.emit("run.end", { runId, stopReason: "aborted", text: "", tokensPerSecond: 0, error: toTillerErrorPayload(error) });
        } finally {
            this.runs.delete(runId);
        }
    }

    private requireRun(runId: string): GenerationRun {
        const run = this.runs.get(runId);
        if (run == null)
            throw new TillerError("INVALID_ARGUMENT", `there is no running run "${runId}" (it may have finished)`);
        return run;
    }

    public async setRunPatches(runId: string, specs: readonly PatchSpec[]): Promise<null> {
        const run = this.requireRun(runId);
        const patches = await this.toPatches(specs);
        run.patches.replaceAll(patches);
        return null;
    }

    public stopRun(runId: string): null {
        this.runs.get(runId)?.abort();
        return null;
    }

    public async dispose(): Promise<void> {
        await this.unloadModel();
        this.listeners.clear();
    }
}

function recordingFailure(error: unknown): TillerErrorPayload {
    const payload = toTillerErrorPayload(error);
    return { code: payload.code, message: `recording the run into its session failed: ${payload.message}` };
}

/** A copy: the library caches its entries, and a caller in the same process must not change them. */
function toVectorInfo(entry: VectorInfo): VectorInfo {
    return { ...entry, metadata: { ...entry.metadata } };
}

const nanToNull = (value: number): number | null => (Number.isNaN(value) ? null : value);
