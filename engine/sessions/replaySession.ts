// Replay: re-run a recorded run with the same model, seed, settings and patches, including the
// mid-run changes at the same tokens, and check that the tokens come out identical.
import path from "node:path";
import { sha256OfFile } from "../io/sha256File.js";
import { TillerError } from "../protocol/TillerError.js";
import { generate } from "../runtime/generate.js";
import type { PatchTrigger, SteeringPatch } from "../runtime/SteeringPatch.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import type { OpenedSession, SessionRun } from "./SessionReader.js";
import type { RecordedPatch, RecordedTrigger } from "./sessionRecords.js";
import { sessionVectors } from "./sessionVectors.js";

export interface ReplayReport {
    runId: string;
    identical: boolean;
    recordedTokens: number;
    replayedTokens: number;
    /** the first index where the tokens differ, with both ids */
    firstDivergence: { index: number; recorded: number | null; replayed: number | null } | null;
}

export async function replayRun(context: TillerContext, session: OpenedSession, run: SessionRun): Promise<ReplayReport> {
    const model = session.info.model;
    if (model != null && model.sha256 !== "") {
        const sha256 = await sha256OfFile(context.model.path);
        if (sha256 !== model.sha256)
            throw new TillerError("INVALID_ARGUMENT",
                `this session was recorded with "${model.fileName}" (sha256 ${model.sha256.slice(0, 12)}…), not "${path.basename(context.model.path)}"`);
    }
    const { vector } = sessionVectors(session.folder);
    const triggerOf = async (trigger: RecordedTrigger | undefined): Promise<PatchTrigger | undefined> => {
        if (trigger == null || trigger.kind === "text")
            return trigger;
        const { vector: hash, vectorName, ...rest } = trigger;
        return { ...rest, vector: await vector(hash, vectorName) };
    };
    const patchesOf = (recorded: readonly RecordedPatch[]): Promise<SteeringPatch[]> => Promise.all(recorded.map(async (patch) => ({
        id: patch.id, vector: await vector(patch.vector, patch.vectorName), strength: patch.strength,
        layers: patch.layers, fromToken: patch.fromToken, untilToken: patch.untilToken, trigger: await triggerOf(patch.trigger)
    })));
    const probes = await Promise.all(run.start.probes.map(async (probe) => ({ name: probe.name, vector: await vector(probe.vector, probe.name), layers: probe.layers })));
    const schedule = await Promise.all(run.changes.map(async (change) => ({ atToken: change.atToken, patches: await patchesOf(change.patches) })));
    // a run cut short (a crash) or stopped by the user replays as far as it was recorded
    const maxTokens = run.end != null && run.end.stopReason !== "aborted" ? run.start.maxTokens : run.tokens.length;
    const replayed = await generate(context, run.start.prompt, {
        maxTokens,
        sampling: run.start.sampling,
        topAlternatives: run.start.topAlternatives,
        patches: await patchesOf(run.start.patches),
        probes,
        patchSchedule: schedule
    }).result;
    const recordedIds = run.tokens.map((token) => token.id);
    const replayedIds = replayed.tokens.map((token) => token.id);
    let firstDivergence: ReplayReport["firstDivergence"] = null;
    for (let index = 0; index < Math.max(recordedIds.length, replayedIds.length); index++) {
        if (recordedIds[index] !== replayedIds[index]) {
            firstDivergence = { index, recorded: recordedIds[index] ?? null, replayed: replayedIds[index] ?? null };
            break;
        }
    }
    return { runId: run.start.runId, identical: firstDivergence == null, recordedTokens: recordedIds.length, replayedTokens: replayedIds.length, firstDivergence };
}
