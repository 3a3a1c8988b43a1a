// The forensics requests of the engine service: blind detection from a transcript, on the loaded
// model, recorded into the model's session. The transcript is typed (prompt + ids and/or text +
// sampler) or a recorded run of this session — of which only the prompt, tokens and sampler are
// read, never its patches.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { detectFromTranscript, type LibraryVector } from "../forensics/detectFromTranscript.js";
import { resolveTranscript, type TranscriptInput } from "../forensics/resolveTranscript.js";
import { writeNpyFile } from "../io/npy.js";
import type { ForensicsDetectParams, ForensicsDetectResult } from "../protocol/forensics.js";
import { TillerError } from "../protocol/TillerError.js";
import { openSession } from "../sessions/SessionReader.js";
import type { SessionWriter } from "../sessions/SessionWriter.js";
import type { RequestContext } from "./EngineService.js";
import { formatChatPrompt } from "./formatChatPrompt.js";
import { recordSafely } from "./recordSafely.js";
import { assertFitsContext, contextSizeFor, withProbeContext, type ProbeHost } from "./probeRequests.js";

async function transcriptInput(host: ProbeHost, params: ForensicsDetectParams): Promise<TranscriptInput> {
    if (params.runId != null) {
        if (params.tokens != null || params.completion != null || params.prompt != null)
            throw new TillerError("INVALID_ARGUMENT", "give either a recorded run (runId) or a typed transcript (prompt + tokens or completion), not both");
        const session = await host.session();
        const run = openSession(session.folder).runs.find((entry) => entry.start.runId === params.runId);
        if (run == null)
            throw new TillerError("INVALID_ARGUMENT", `there is no run "${params.runId}" in this model's session (runs of another model or an earlier load are not here)`);
        if (run.tokens.length === 0)
            throw new TillerError("INVALID_ARGUMENT", `run "${params.runId}" generated no tokens`);
        // the prompt, the tokens and the sampler; the run's patches stay unread
        return { prompt: run.start.prompt, tokens: run.tokens.map((token) => token.id), sampling: params.sampling ?? run.start.sampling };
    }
    if (params.prompt == null || params.prompt === "")
        throw new TillerError("INVALID_ARGUMENT", "give the transcript's prompt (or the runId of a recorded run)");
    const prompt = params.promptMode === "chat" ? formatChatPrompt(host.model, params.prompt) : params.prompt;
    return { prompt, tokens: params.tokens, completion: params.completion, sampling: params.sampling };
}

export async function forensicsDetectRequest(host: ProbeHost, params: ForensicsDetectParams, request: RequestContext): Promise<ForensicsDetectResult> {
    const input = await transcriptInput(host, params);
    const transcript = resolveTranscript(host.model, input);
    const listing = await host.library.list();
    const names = new Map(listing.entries.map((entry) => [entry.id, entry.name]));
    const ids = params.candidates ?? listing.entries.map((entry) => entry.id);
    const library: LibraryVector[] = await Promise.all(ids.map(async (id) => ({ id, name: names.get(id) ?? id, vector: (await host.library.get(id)).vector })));
    const total = transcript.promptTokens.length + transcript.emitted.length;
    assertFitsContext(host, total);
    const size = contextSizeFor(total);
    const report = await withProbeContext(host, "a blind detection", { contextSize: size, batchSize: size, sequences: 2 },
        (context) => detectFromTranscript(context, transcript, library, {
            layerRanges: params.layerRanges, alphas: params.alphas, nullDraws: params.nullDraws, significance: params.significance,
            signal: request.signal,
            onProgress: (done, planned, label) => host.emit("progress", { requestId: request.requestId, done, total: planned, label })
        }));
    const result: ForensicsDetectResult = { detectionId: randomUUID(), ...report };
    // recording is a by-product: a failure to write the session still returns the detection
    await recordSafely("the blind detection", async () => recordForensics(await host.session(), result, params.runId));
    return result;
}

/** A note with the verdict and the best hypothesis; the per-token evidence as .npy beside it. */
async function recordForensics(session: SessionWriter, result: ForensicsDetectResult, runId: string | undefined): Promise<void> {
    const relative = `probes/forensics/${result.detectionId}/evidence.npy`;
    const file = path.join(session.folder, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const columns = ["llr", "kl", "deltaLogprob", "cleanLogprob", "surprise", "engaged"] as const;
    await writeNpyFile(file, Float64Array.from(result.tokens.flatMap((token) => columns.map((column) => Number(token[column])))), [result.tokens.length, columns.length]);
    session.append({ type: "note", at: new Date().toISOString(), kind: "forensics.detect", data: {
        detectionId: result.detectionId, runId, method: result.method, steered: result.steered, pValue: result.pValue, verdict: result.verdict,
        onsetToken: result.onsetToken, intervals: result.intervals, best: result.best, sampling: result.sampling,
        tokens: result.tokens.map((token) => token.id), elapsedMs: result.elapsedMs, columns: { evidence: columns }, arrays: [relative]
    } });
}
