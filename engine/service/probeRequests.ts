// The probes requests of the engine service: susceptibility sweeps and patch detection, on the
// loaded model, recorded into the model's session. EngineService delegates here and lends what it
// owns through ProbeHost.
//
// Single-context discipline: the service's context is claimed for the whole probe (a run in
// progress makes the probe fail with BUSY, and a run started during a probe fails the same way),
// while the work itself happens in a context of its own, created `precise` (F16 rounding in the KV
// cache would swamp the small finite differences) with the shape the probe needs.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { EngineEventName, EngineEvents, PatchSpec, ProbesDetectParams, ProbesDetectResult, ProbesSweepParams, ProbesSweepResult } from "../protocol/EngineContract.js";
import type { ProbesThermoParams, ProbesThermoResult } from "../protocol/thermoRequests.js";
import { TillerError } from "../protocol/TillerError.js";
import { writeNpyFile } from "../io/npy.js";
import { detectPatch } from "../probes/detectPatch.js";
import { susceptibilitySweep, susceptibilitySweepTokens, type SweepOptions } from "../probes/susceptibilitySweep.js";
import { promptCompletionTokens } from "../probes/promptCompletionTokens.js";
import { teacherForce } from "../probes/teacherForce.js";
import { textTemperatureScan } from "../probes/textTemperatureScan.js";
import type { SteeringPatch } from "../runtime/SteeringPatch.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import type { TillerModel } from "../runtime/TillerModel.js";
import { openSession, type SessionRun } from "../sessions/SessionReader.js";
import type { SessionWriter } from "../sessions/SessionWriter.js";
import type { RecordedPatch } from "../sessions/sessionRecords.js";
import type { VectorLibrary } from "../vectors/library/VectorLibrary.js";
import { formatChatPrompt } from "./formatChatPrompt.js";
import type { RequestContext } from "./EngineService.js";
import { sessionVectors } from "../sessions/sessionVectors.js";
import { recordSafely } from "./recordSafely.js";

/** What the service lends a probe. */
export interface ProbeHost {
    model: TillerModel;
    /** the service's context: claimed for the probe's duration, never decoded into */
    context: TillerContext;
    library: VectorLibrary;
    threads: number | undefined;
    session(): Promise<SessionWriter>;
    toPatches(specs: readonly PatchSpec[]): Promise<SteeringPatch[]>;
    emit<E extends EngineEventName>(event: E, data: EngineEvents[E]): void;
}

/** A text to probe: prompt (as the model sees it) and the tokens after it. */
interface ProbeText {
    prompt: string;
    completion: string;
    /** the generated token ids, when the text is a recorded run (tokenizing the text may differ) */
    generated?: number[];
    run?: SessionRun;
}

async function probeText(host: ProbeHost, params: { prompt?: string; promptMode?: "plain" | "chat"; completion?: string; runId?: string }): Promise<ProbeText> {
    if (params.runId != null) {
        const session = await host.session();
        const run = openSession(session.folder).runs.find((entry) => entry.start.runId === params.runId);
        if (run == null)
            throw new TillerError("INVALID_ARGUMENT", `there is no run "${params.runId}" in this model's session (runs of another model or an earlier load are not here)`);
        if (run.tokens.length === 0)
            throw new TillerError("INVALID_ARGUMENT", `run "${params.runId}" generated no tokens`);
        const generated = run.tokens.map((token) => token.id);
        return { prompt: run.start.prompt, completion: host.model.detokenize(generated), generated, run };
    }
    if (params.prompt == null || params.prompt === "")
        throw new TillerError("INVALID_ARGUMENT", "give a prompt (or the runId of a recorded run)");
    if (params.completion == null || params.completion === "")
        throw new TillerError("INVALID_ARGUMENT", "give a completion to measure (or the runId of a recorded run)");
    const prompt = params.promptMode === "chat" ? formatChatPrompt(host.model, params.prompt) : params.prompt;
    return { prompt, completion: params.completion };
}

/** Claims the service's context (BUSY while a run goes), runs `work` in a precise context of its own. */
export async function withProbeContext<T>(host: ProbeHost, what: string, shape: { contextSize: number; batchSize: number; sequences: number },
    work: (context: TillerContext) => Promise<T>): Promise<T> {
    const release = host.context.claim(what);
    try {
        const context = await host.model.createContext({ ...shape, threads: host.threads ?? host.context.threads, precise: true });
        try {
            return await work(context);
        } finally {
            await context.dispose();
        }
    } finally {
        release();
    }
}

/** A probe's text may be as long as the loaded model's context, not longer (its own context is sized to the text). */
export function assertFitsContext(host: ProbeHost, tokens: number): void {
    if (tokens > host.context.contextSize)
        throw new TillerError("PROMPT_TOO_LONG", `prompt + completion are ${tokens} tokens but the loaded context holds ${host.context.contextSize}; shorten them or load the model with a larger context`);
}

/** Rounds a token count up to a power of two (at least 64) so contexts come in few shapes. */
export function contextSizeFor(tokens: number): number {
    let size = 64;
    while (size < tokens + 1)
        size *= 2;
    return size;
}

function probeFolder(session: SessionWriter, kind: "sweeps" | "detections", id: string): { folder: string; relative: (name: string) => string } {
    const folder = path.join(session.folder, "probes", kind, id);
    fs.mkdirSync(folder, { recursive: true });
    return { folder, relative: (name) => `probes/${kind}/${id}/${name}` };
}

export async function sweepRequest(host: ProbeHost, params: ProbesSweepParams, request: RequestContext): Promise<ProbesSweepResult> {
    const text = await probeText(host, params);
    const { vector } = await host.library.get(params.vectorId);
    const vectorLayers = [...vector.directions.keys()].sort((a, b) => a - b);
    const layers = params.layers ?? { first: vectorLayers[0] ?? 1, last: vectorLayers.at(-1) ?? 1 };
    const total = text.generated != null ? host.model.tokenize(text.prompt).length + text.generated.length : host.model.tokenize(text.prompt + text.completion).length;
    assertFitsContext(host, total);
    const options: SweepOptions = {
        vector, layers, alphas: params.alphas, alpha0: params.alpha0, fromToken: params.fromToken, step: params.step, relativeStep: params.relativeStep,
        perLayer: params.perLayer, linearResponse: params.linearResponse, signal: request.signal,
        onProgress: (done, planned) => host.emit("progress", { requestId: request.requestId, done, total: planned, label: "sweeping" })
    };
    const sweep = await withProbeContext(host, "a susceptibility sweep", { contextSize: contextSizeFor(total), batchSize: contextSizeFor(total), sequences: 2 },
        // a recorded run is measured on its own token ids (re-tokenizing its text can split it differently)
        (context) => text.generated != null
            ? susceptibilitySweepTokens(context, host.model.tokenize(text.prompt), Int32Array.from(text.generated), options)
            : susceptibilitySweep(context, text.prompt, text.completion, options));
    const sweepId = randomUUID();
    const result: ProbesSweepResult = {
        sweepId, prompt: text.prompt, completion: text.completion, vectorId: params.vectorId, vectorName: vector.name, ...sweep,
        tokens: sweep.tokens.map((token) => ({ ...token }))
    };
    await recordSafely("the sweep", async () => recordSweep(await host.session(), result, params.runId));
    return result;
}

/** A note record with the sweep's settings and summary; the curves and χ_{t,l} as .npy beside it. */
async function recordSweep(session: SessionWriter, result: ProbesSweepResult, runId: string | undefined): Promise<void> {
    const { folder, relative } = probeFolder(session, "sweeps", result.sweepId);
    const count = result.tokens.length;
    const arrays = [relative("logprobs.npy"), relative("chi.npy")];
    await writeNpyFile(path.join(folder, "logprobs.npy"), Float64Array.from(result.tokens.flatMap((token) => token.logprobs)), [count, result.alphas.length]);
    await writeNpyFile(path.join(folder, "chi.npy"), Float64Array.from(result.tokens.flatMap((token) => [token.chi, token.chiError, token.curvature, token.entropyResponse,
        token.fisher ?? Number.NaN, token.fdtGap ?? Number.NaN, token.fdtGapError ?? Number.NaN])), [count, 7]);
    const perLayer = result.tokens[0]?.chiPerLayer;
    if (perLayer != null) {
        await writeNpyFile(path.join(folder, "chi_per_layer.npy"), Float64Array.from(result.tokens.flatMap((token) => token.chiPerLayer ?? [])), [count, perLayer.length]);
        await writeNpyFile(path.join(folder, "chi_per_layer_error.npy"), Float64Array.from(result.tokens.flatMap((token) => token.chiPerLayerError ?? [])), [count, perLayer.length]);
        arrays.push(relative("chi_per_layer.npy"), relative("chi_per_layer_error.npy"));
    }
    session.append({ type: "note", at: new Date().toISOString(), kind: "probes.sweep", data: {
        sweepId: result.sweepId, runId, prompt: result.prompt, completion: result.completion, vectorId: result.vectorId, vectorName: result.vectorName,
        alphas: result.alphas, alpha0: result.alpha0, fromToken: result.fromToken, step: result.step, stepRule: result.stepRule, layerSteps: result.layerSteps,
        layers: result.layers, totalChi: result.totalChi, totalChiError: result.totalChiError,
        pathFreeEnergy: result.pathFreeEnergy, alphaML: result.alphaML, sumRule: result.sumRule,
        tokens: result.tokens.map((token) => ({ index: token.index, id: token.id, piece: token.piece, chi: token.chi, chiError: token.chiError })),
        decodes: result.decodes, elapsedMs: result.elapsedMs,
        columns: { chi: ["chi", "chiError", "curvature", "entropyResponse", "fisher", "fdtGap", "fdtGapError"] }, arrays
    } });
}

/**
 * The patches a recorded run was produced with, as fixed windows a teacher-forced pass can apply:
 * each token records which patches acted on it, and the patch list in effect (the start's, then
 * each change's). Every stretch of consecutive tokens on which one patch (same vector, strength,
 * layers) acted becomes a copy of it windowed to that stretch, so triggered patches (engaged and
 * released mid-run), windows and mid-run edits are all reproduced. Vectors come from the
 * session's copies.
 */
async function recordedPatches(session: SessionWriter, run: SessionRun): Promise<SteeringPatch[]> {
    const lists: { atToken: number; patches: readonly RecordedPatch[] }[] = [{ atToken: 0, patches: run.start.patches },
        ...run.changes.map((change) => ({ atToken: change.atToken, patches: change.patches }))].sort((a, b) => a.atToken - b.atToken);
    const listAt = (token: number) => lists.filter((entry) => entry.atToken <= token).at(-1)!.patches;
    const stretches: { patch: RecordedPatch; key: string; from: number; until: number }[] = [];
    const open = new Map<string, (typeof stretches)[number]>();
    for (const token of run.tokens) {
        const acting = new Set<string>();
        for (const id of token.activePatches) {
            const patch = listAt(token.index).find((entry) => entry.id === id);
            if (patch == null)
                continue;
            const key = JSON.stringify([patch.id, patch.vector, patch.strength, patch.layers ?? null]);
            acting.add(key);
            const stretch = open.get(key);
            if (stretch != null && stretch.until === token.index)
                stretch.until = token.index + 1;
            else {
                const started = { patch, key, from: token.index, until: token.index + 1 };
                stretches.push(started);
                open.set(key, started);
            }
        }
        for (const key of [...open.keys()]) {
            if (!acting.has(key))
                open.delete(key);
        }
    }
    const vectors = sessionVectors(session.folder);
    const vectorOf = (patch: RecordedPatch): Promise<SteeringVector> => vectors.vector(patch.vector, patch.vectorName);
    const last = run.tokens.length;
    return Promise.all(stretches.map(async ({ patch, from, until }, i) => ({
        id: `${patch.id}#${i}`, vector: await vectorOf(patch), strength: patch.strength, layers: patch.layers,
        ...(from > 0 ? { fromToken: from } : {}), ...(until < last ? { untilToken: until } : {})
    })));
}

export async function detectRequest(host: ProbeHost, params: ProbesDetectParams, request: RequestContext): Promise<ProbesDetectResult> {
    const started = performance.now();
    const text = await probeText(host, params);
    const session = await host.session();
    if (text.run != null && params.patches != null)
        throw new TillerError("INVALID_ARGUMENT", "a recorded run brings its own patches; give `patches` only with a typed text");
    const observedPatches = text.run != null ? await recordedPatches(session, text.run) : await host.toPatches(params.patches ?? []);
    const referencePatches = await host.toPatches(params.reference?.patches ?? []);
    if (observedPatches.concat(referencePatches).some((patch) => patch.trigger != null))
        throw new TillerError("INVALID_ARGUMENT", "triggered patches cannot be teacher-forced; give their windows (fromToken/untilToken) instead");

    // the candidates the white box may name: each vector's name is its library id, to map back
    const listing = await host.library.list();
    const ids = params.candidates ?? listing.entries.map((entry) => entry.id);
    const candidates = await Promise.all(ids.map(async (id) => ({ ...(await host.library.get(id)).vector, name: id })));
    const names = new Map(listing.entries.map((entry) => [entry.id, entry.name]));

    const promptTokens = host.model.tokenize(text.prompt);
    const tokens = text.generated != null ? Int32Array.from([...promptTokens, ...text.generated]) : host.model.tokenize(text.prompt + text.completion);
    if (tokens.length <= promptTokens.length)
        throw new TillerError("INVALID_ARGUMENT", "the completion adds no tokens to the prompt");
    assertFitsContext(host, tokens.length);
    const size = contextSizeFor(tokens.length);
    const report = await withProbeContext(host, "a patch detection", { contextSize: size, batchSize: size, sequences: 1 }, async (context) => {
        const progress = (done: number) => host.emit("progress", { requestId: request.requestId, done, total: 2, label: "teacher-forcing" });
        progress(0);
        const observed = await teacherForce(context, tokens, promptTokens.length, observedPatches);
        progress(1);
        if (request.signal.aborted)
            throw new TillerError("ABORTED", "the detection was cancelled");
        const reference = await teacherForce(context, tokens, promptTokens.length, referencePatches);
        progress(2);
        return detectPatch(observed, reference, candidates);
    });
    const layers = Array.from({ length: host.model.shape.nLayer }, (_, layer) => layer);
    const result: ProbesDetectResult = {
        detectionId: randomUUID(),
        tokens: Array.from(tokens.subarray(promptTokens.length), (id) => ({ id, piece: host.model.tokenText(id) })),
        steered: report.steered, kl: report.kl, deltaLogprob: report.deltaLogprob,
        onsetToken: report.onsetToken, onsetPosition: report.onsetPosition, firstLayer: report.firstLayer,
        matches: report.matches.map((match) => ({ ...match, vectorId: match.name, name: names.get(match.name) ?? match.name })),
        layers, deltaNorms: report.deltaNorms,
        elapsedMs: performance.now() - started
    };
    await recordSafely("the detection", () => recordDetection(session, result, params.runId));
    return result;
}

async function recordDetection(session: SessionWriter, result: ProbesDetectResult, runId: string | undefined): Promise<void> {
    const { folder, relative } = probeFolder(session, "detections", result.detectionId);
    const count = result.kl.length;
    await writeNpyFile(path.join(folder, "black_box.npy"), Float64Array.from(result.kl.flatMap((kl, k) => [kl, result.deltaLogprob[k]!])), [count, 2]);
    await writeNpyFile(path.join(folder, "delta_norms.npy"), Float64Array.from(result.deltaNorms.flat()), [result.deltaNorms.length, result.layers.length]);
    session.append({ type: "note", at: new Date().toISOString(), kind: "probes.detect", data: {
        detectionId: result.detectionId, runId, steered: result.steered, onsetToken: result.onsetToken, onsetPosition: result.onsetPosition,
        firstLayer: result.firstLayer, bestMatch: result.matches[0] ?? null, maxKl: Math.max(0, ...result.kl), elapsedMs: result.elapsedMs,
        columns: { blackBox: ["kl", "deltaLogprob"] }, arrays: [relative("black_box.npy"), relative("delta_norms.npy")]
    } });
}

/** The temperature scan of a typed text (unsteered) or a recorded run (with the patches it was produced with). */
export async function thermoRequest(host: ProbeHost, params: ProbesThermoParams, request: RequestContext): Promise<ProbesThermoResult> {
    const text = await probeText(host, params);
    const patches = text.run != null ? await recordedPatches(await host.session(), text.run) : [];
    const { promptTokens, completionTokens } = text.generated != null
        ? { promptTokens: host.model.tokenize(text.prompt), completionTokens: Int32Array.from(text.generated) }
        : promptCompletionTokens(host.model, text.prompt, text.completion);
    const total = promptTokens.length + completionTokens.length;
    assertFitsContext(host, total);
    const size = contextSizeFor(total);
    return withProbeContext(host, "a temperature scan", { contextSize: size, batchSize: Math.min(size, 512), sequences: 1 },
        (context) => textTemperatureScan(context, promptTokens, completionTokens, {
            temperatures: params.temperatures, patches, index: params.index, signal: request.signal
        }));
}
