// A session's recorded runs as the analyses use them: found by id, and the patches a run was produced
// with turned back into windowed patches a teacher-forced pass can apply.
import { TillerError } from "../protocol/TillerError.js";
import type { SteeringPatch } from "../runtime/SteeringPatch.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import { openSession, type SessionRun } from "./SessionReader.js";
import type { RecordedPatch } from "./sessionRecords.js";
import { sessionVectors } from "./sessionVectors.js";

/** Run `runId` of the session in `folder`; INVALID_ARGUMENT when it is not there or generated nothing. */
export function findRecordedRun(folder: string, runId: string): SessionRun {
    const run = openSession(folder).runs.find((entry) => entry.start.runId === runId);
    if (run == null)
        throw new TillerError("INVALID_ARGUMENT", `there is no run "${runId}" in this model's session (runs of another model or an earlier load are not here)`);
    if (run.tokens.length === 0)
        throw new TillerError("INVALID_ARGUMENT", `run "${runId}" generated no tokens`);
    return run;
}

/**
 * The patches a recorded run was produced with, as fixed windows a teacher-forced pass can apply:
 * each token records which patches acted on it, and the patch list in effect (the start's, then
 * each change's). Every stretch of consecutive tokens on which one patch (same vector, strength,
 * layers) acted becomes a copy of it windowed to that stretch, so triggered patches (engaged and
 * released mid-run), windows and mid-run edits are all reproduced. Vectors come from the
 * session's copies.
 */
export async function recordedPatches(folder: string, run: SessionRun): Promise<SteeringPatch[]> {
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
    const vectors = sessionVectors(folder);
    const vectorOf = (patch: RecordedPatch): Promise<SteeringVector> => vectors.vector(patch.vector, patch.vectorName);
    const last = run.tokens.length;
    return Promise.all(stretches.map(async ({ patch, from, until }, i) => ({
        id: `${patch.id}#${i}`, vector: await vectorOf(patch), strength: patch.strength, layers: patch.layers,
        ...(from > 0 ? { fromToken: from } : {}), ...(until < last ? { untilToken: until } : {})
    })));
}
