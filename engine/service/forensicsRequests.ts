// The forensics requests of the engine service: blind detection from a transcript, on the loaded
// model, recorded into the model's session (engine/sessions/probeRecords.ts). The transcript is typed
// (prompt + ids and/or text + sampler) or a recorded run of this session — of which only the prompt,
// tokens and sampler are read, never its patches.
import { randomUUID } from "node:crypto";
import { detectFromTranscript, type LibraryVector } from "../forensics/detectFromTranscript.js";
import { resolveTranscript, type TranscriptInput } from "../forensics/resolveTranscript.js";
import type { ForensicsDetectParams, ForensicsDetectResult } from "../protocol/forensics.js";
import { TillerError } from "../protocol/TillerError.js";
import { textProbeContext } from "../runtime/contextShapes.js";
import { recordForensics } from "../sessions/probeRecords.js";
import { findRecordedRun } from "../sessions/recordedRuns.js";
import { assertFitsContext, withAnalysisContext, type AnalysisHost, type LoadedForAnalysis } from "./analysisHost.js";
import type { RequestContext } from "./requestContext.js";
import { formatChatPrompt } from "./formatChatPrompt.js";
import { recordSafely } from "./recordSafely.js";

async function transcriptInput(loaded: LoadedForAnalysis, params: ForensicsDetectParams): Promise<TranscriptInput> {
    if (params.runId != null) {
        if (params.tokens != null || params.completion != null || params.prompt != null)
            throw new TillerError("INVALID_ARGUMENT", "give either a recorded run (runId) or a typed transcript (prompt + tokens or completion), not both");
        const run = findRecordedRun((await loaded.session()).folder, params.runId);
        // the prompt, the tokens and the sampler; the run's patches stay unread
        return { prompt: run.start.prompt, tokens: run.tokens.map((token) => token.id), sampling: params.sampling ?? run.start.sampling };
    }
    if (params.prompt == null || params.prompt === "")
        throw new TillerError("INVALID_ARGUMENT", "give the transcript's prompt (or the runId of a recorded run)");
    const prompt = params.promptMode === "chat" ? await formatChatPrompt(loaded.model, params.prompt) : params.prompt;
    return { prompt, tokens: params.tokens, completion: params.completion, sampling: params.sampling };
}

export class ForensicsRequests {
    public constructor(private readonly host: AnalysisHost) {}

    public async detect(params: ForensicsDetectParams, request: RequestContext): Promise<ForensicsDetectResult> {
        const { host } = this;
        const loaded = host.loaded();
        const input = await transcriptInput(loaded, params);
        const transcript = resolveTranscript(loaded.model, input);
        const listing = await host.library.list();
        const names = new Map(listing.entries.map((entry) => [entry.id, entry.name]));
        const ids = params.candidates ?? listing.entries.map((entry) => entry.id);
        const library: LibraryVector[] = await Promise.all(ids.map(async (id) => ({ id, name: names.get(id) ?? id, vector: (await host.library.get(id)).vector })));
        const total = transcript.promptTokens.length + transcript.emitted.length;
        assertFitsContext(loaded, total);
        const report = await withAnalysisContext(host, loaded, "a blind detection", textProbeContext("forensics", total),
            (context) => detectFromTranscript(context, transcript, library, {
                layerRanges: params.layerRanges, alphas: params.alphas, nullDraws: params.nullDraws, significance: params.significance,
                signal: request.signal,
                onProgress: (done, planned, label) => host.emitProgress({ requestId: request.requestId, done, total: planned, label })
            }));
        const result: ForensicsDetectResult = { detectionId: randomUUID(), ...report };
        // recording is a by-product: a failure to write the session still returns the detection
        await recordSafely("the blind detection", async () => recordForensics(await loaded.session(), result, params.runId));
        return result;
    }
}
