// The probes requests of the engine service: susceptibility sweeps, patch detection and temperature
// scans, on the loaded model, recorded into the model's session (the records are engine/sessions'
// probeRecords.ts). EngineService delegates here and lends what it owns through AnalysisHost.
import { randomUUID } from "node:crypto";
import type { ProbesDetectParams, ProbesDetectResult, ProbesSweepParams, ProbesSweepResult } from "../protocol/EngineContract.js";
import type { ProbesThermoParams, ProbesThermoResult } from "../protocol/thermoRequests.js";
import { TillerError } from "../protocol/TillerError.js";
import { detectPatch } from "../probes/detectPatch.js";
import { susceptibilitySweep, susceptibilitySweepTokens, type SweepOptions } from "../probes/susceptibilitySweep.js";
import { promptCompletionTokens } from "../probes/promptCompletionTokens.js";
import { teacherForce } from "../probes/teacherForce.js";
import { textTemperatureScan } from "../probes/textTemperatureScan.js";
import { textProbeContext } from "../runtime/contextShapes.js";
import type { SessionRun } from "../sessions/SessionReader.js";
import { recordDetection, recordSweep } from "../sessions/probeRecords.js";
import { findRecordedRun, recordedPatches } from "../sessions/recordedRuns.js";
import { assertFitsContext, withAnalysisContext, type AnalysisHost, type LoadedForAnalysis } from "./analysisHost.js";
import type { RequestContext } from "./requestContext.js";
import { formatChatPrompt } from "./formatChatPrompt.js";
import { recordSafely } from "./recordSafely.js";

/** A text to probe: prompt (as the model sees it) and the tokens after it. */
interface ProbeText {
    prompt: string;
    completion: string;
    /** the generated token ids, when the text is a recorded run (tokenizing the text may differ) */
    generated?: number[];
    run?: SessionRun;
}

async function probeText(loaded: LoadedForAnalysis, params: { prompt?: string; promptMode?: "plain" | "chat"; completion?: string; runId?: string }): Promise<ProbeText> {
    if (params.runId != null) {
        const run = findRecordedRun((await loaded.session()).folder, params.runId);
        const generated = run.tokens.map((token) => token.id);
        return { prompt: run.start.prompt, completion: loaded.model.detokenize(generated), generated, run };
    }
    if (params.prompt == null || params.prompt === "")
        throw new TillerError("INVALID_ARGUMENT", "give a prompt (or the runId of a recorded run)");
    if (params.completion == null || params.completion === "")
        throw new TillerError("INVALID_ARGUMENT", "give a completion to measure (or the runId of a recorded run)");
    const prompt = params.promptMode === "chat" ? await formatChatPrompt(loaded.model, params.prompt) : params.prompt;
    return { prompt, completion: params.completion };
}

export class ProbeRequests {
    public constructor(private readonly host: AnalysisHost) {}

    public async sweep(params: ProbesSweepParams, request: RequestContext): Promise<ProbesSweepResult> {
        const { host } = this;
        const loaded = host.loaded();
        const text = await probeText(loaded, params);
        const { vector } = await host.library.get(params.vectorId);
        const vectorLayers = [...vector.directions.keys()].sort((a, b) => a - b);
        const layers = params.layers ?? { first: vectorLayers[0] ?? 1, last: vectorLayers.at(-1) ?? 1 };
        const total = text.generated != null ? loaded.model.tokenize(text.prompt).length + text.generated.length : loaded.model.tokenize(text.prompt + text.completion).length;
        assertFitsContext(loaded, total);
        const options: SweepOptions = {
            vector, layers, alphas: params.alphas, alpha0: params.alpha0, fromToken: params.fromToken, step: params.step, relativeStep: params.relativeStep,
            perLayer: params.perLayer, linearResponse: params.linearResponse, signal: request.signal,
            onProgress: (done, planned) => host.emitProgress({ requestId: request.requestId, done, total: planned, label: "sweeping" })
        };
        const sweep = await withAnalysisContext(host, loaded, "a susceptibility sweep", textProbeContext("sweep", total),
            // a recorded run is measured on its own token ids (re-tokenizing its text can split it differently)
            (context) => text.generated != null
                ? susceptibilitySweepTokens(context, loaded.model.tokenize(text.prompt), Int32Array.from(text.generated), options)
                : susceptibilitySweep(context, text.prompt, text.completion, options));
        const sweepId = randomUUID();
        const result: ProbesSweepResult = {
            sweepId, prompt: text.prompt, completion: text.completion, vectorId: params.vectorId, vectorName: vector.name, ...sweep,
            tokens: sweep.tokens.map((token) => ({ ...token }))
        };
        await recordSafely("the sweep", async () => recordSweep(await loaded.session(), result, params.runId));
        return result;
    }

    public async detect(params: ProbesDetectParams, request: RequestContext): Promise<ProbesDetectResult> {
        const { host } = this;
        const started = performance.now();
        const loaded = host.loaded();
        const text = await probeText(loaded, params);
        const session = await loaded.session();
        if (text.run != null && params.patches != null)
            throw new TillerError("INVALID_ARGUMENT", "a recorded run brings its own patches; give `patches` only with a typed text");
        const observedPatches = text.run != null ? await recordedPatches(session.folder, text.run) : await host.toPatches(params.patches ?? []);
        const referencePatches = await host.toPatches(params.reference?.patches ?? []);
        if (observedPatches.concat(referencePatches).some((patch) => patch.trigger != null))
            throw new TillerError("INVALID_ARGUMENT", "triggered patches cannot be teacher-forced; give their windows (fromToken/untilToken) instead");

        // the candidates the white box may name: each vector's name is its library id, to map back
        const listing = await host.library.list();
        const ids = params.candidates ?? listing.entries.map((entry) => entry.id);
        const candidates = await Promise.all(ids.map(async (id) => ({ ...(await host.library.get(id)).vector, name: id })));
        const names = new Map(listing.entries.map((entry) => [entry.id, entry.name]));

        const { model } = loaded;
        const promptTokens = model.tokenize(text.prompt);
        const tokens = text.generated != null ? Int32Array.from([...promptTokens, ...text.generated]) : model.tokenize(text.prompt + text.completion);
        if (tokens.length <= promptTokens.length)
            throw new TillerError("INVALID_ARGUMENT", "the completion adds no tokens to the prompt");
        assertFitsContext(loaded, tokens.length);
        const report = await withAnalysisContext(host, loaded, "a patch detection", textProbeContext("detect", tokens.length), async (context) => {
            const progress = (done: number) => host.emitProgress({ requestId: request.requestId, done, total: 2, label: "teacher-forcing" });
            progress(0);
            const observed = await teacherForce(context, tokens, promptTokens.length, observedPatches);
            progress(1);
            if (request.signal.aborted)
                throw new TillerError("ABORTED", "the detection was cancelled");
            const reference = await teacherForce(context, tokens, promptTokens.length, referencePatches);
            progress(2);
            return detectPatch(observed, reference, candidates);
        });
        const layers = Array.from({ length: model.shape.nLayer }, (_, layer) => layer);
        const result: ProbesDetectResult = {
            detectionId: randomUUID(),
            tokens: Array.from(tokens.subarray(promptTokens.length), (id) => ({ id, piece: model.tokenText(id) })),
            steered: report.steered, kl: report.kl, deltaLogprob: report.deltaLogprob,
            onsetToken: report.onsetToken, onsetPosition: report.onsetPosition, firstLayer: report.firstLayer,
            matches: report.matches.map((match) => ({ ...match, vectorId: match.name, name: names.get(match.name) ?? match.name })),
            layers, deltaNorms: report.deltaNorms,
            elapsedMs: performance.now() - started
        };
        await recordSafely("the detection", () => recordDetection(session, result, params.runId));
        return result;
    }

    /** The temperature scan of a typed text (unsteered) or a recorded run (with the patches it was produced with). */
    public async thermo(params: ProbesThermoParams, request: RequestContext): Promise<ProbesThermoResult> {
        const loaded = this.host.loaded();
        const text = await probeText(loaded, params);
        const patches = text.run != null ? await recordedPatches((await loaded.session()).folder, text.run) : [];
        const { promptTokens, completionTokens } = text.generated != null
            ? { promptTokens: loaded.model.tokenize(text.prompt), completionTokens: Int32Array.from(text.generated) }
            : promptCompletionTokens(loaded.model, text.prompt, text.completion);
        const total = promptTokens.length + completionTokens.length;
        assertFitsContext(loaded, total);
        return withAnalysisContext(this.host, loaded, "a temperature scan", textProbeContext("thermo", total),
            (context) => textTemperatureScan(context, promptTokens, completionTokens, {
                temperatures: params.temperatures, patches, index: params.index, signal: request.signal
            }));
    }
}
