// The `sessions.*` requests: list, open, rename, delete, replay and export the probe sessions the
// engine records (engine/sessions). Opening reads the records alone, so no model is needed; replay
// needs the session's model and loads it through the service when another one (or none) is loaded.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { EngineEvents, EngineResults, LoadedModelInfo, TokenInfo } from "../protocol/EngineContract.js";
import type { SessionDetailInfo, SessionPatchInfo, SessionRunInfo, SessionSummaryInfo, SessionVectorBuildInfo } from "../protocol/sessions.js";
import { TillerError } from "../protocol/TillerError.js";
import type { TillerModel } from "../runtime/TillerModel.js";
import { zipFolder } from "../io/zipFolder.js";
import { exportSession } from "../sessions/exportSession.js";
import { replayRun } from "../sessions/replaySession.js";
import { sessionVectors, type SessionVectors } from "../sessions/sessionVectors.js";
import { recordingProcess } from "../sessions/recordingLock.js";
import type { WritePolicy } from "./writePolicy.js";
import { deleteSession, listSessions, openSession, renameSession, type OpenedSession, type SessionRun } from "../sessions/SessionReader.js";
import type { RecordedPatch } from "../sessions/sessionRecords.js";
import { noteKinds, readVectorBuild } from "../sessions/probeRecords.js";
import type { RequestContext } from "./requestContext.js";

/** What the session requests need from the engine service. */
export interface SessionRequestsHost {
    sessionsRoot: string;
    emitProgress(data: EngineEvents["progress"]): void;
    /** the model loaded now, if any */
    loadedModel(): TillerModel | undefined;
    loadModel(params: { path: string }, request: RequestContext): Promise<LoadedModelInfo>;
    /** the folder of the session being recorded into now, if any */
    recordingFolder(): Promise<string | undefined>;
    /** where exports may go */
    writes: WritePolicy;
    /** the engine's default thread count, if it was given one */
    threads: number | undefined;
}

export class SessionRequests {
    public constructor(private readonly host: SessionRequestsHost) {}

    /** The session's folder; the id was checked by the contract (a plain folder name). */
    private folderOf(id: string): string {
        const folder = path.join(this.host.sessionsRoot, id);
        if (!fs.existsSync(path.join(folder, "session.json")))
            throw new TillerError("FILE_NOT_FOUND", `there is no session "${id}" in ${this.host.sessionsRoot}`);
        return folder;
    }

    public list(search?: string): SessionSummaryInfo[] {
        return listSessions(this.host.sessionsRoot, search === "" ? undefined : search).map(toSummary);
    }

    public async open(id: string): Promise<SessionDetailInfo> {
        const session = openSession(this.folderOf(id));
        const vectorBuilds: SessionVectorBuildInfo[] = [];
        const notes: SessionDetailInfo["notes"] = [];
        for (const note of session.notes) {
            const build = note.kind === noteKinds.vectorBuild ? toVectorBuild(note.at, note.data) : null;
            if (build != null)
                vectorBuilds.push(build);
            else
                notes.push({ at: note.at, kind: note.kind, data: note.data });
        }
        const { info } = session;
        const vectors = sessionVectors(session.folder);
        return {
            id: info.id, name: info.name, createdAt: info.createdAt, appVersion: info.appVersion, model: info.model, settings: info.settings,
            runs: await Promise.all(session.runs.map((run) => toRunInfo(run, vectors))), vectorBuilds, notes, problems: session.problems,
            recording: await this.isRecording(session.folder)
        };
    }

    private async isRecording(folder: string): Promise<boolean> {
        const recording = await this.host.recordingFolder();
        // recorded here, or live in another process sharing the data folder (Electron and `tiller serve`)
        return (recording != null && path.resolve(recording) === path.resolve(folder)) || recordingProcess(folder) != null;
    }

    public rename(id: string, name: string): SessionSummaryInfo {
        const folder = this.folderOf(id);
        return toSummary(renameSession(folder, name));
    }

    public async delete(id: string): Promise<null> {
        const folder = this.folderOf(id);
        if (await this.isRecording(folder))
            throw new TillerError("BUSY", `session "${id}" is being recorded into; unload the model (which closes it) before deleting it`);
        deleteSession(folder);
        return null;
    }

    public async replay(params: { id: string; runIndex?: number; threads?: number }, request: RequestContext): Promise<EngineResults["sessions.replay"]> {
        const session = openSession(this.folderOf(params.id));
        if (session.runs.length === 0)
            throw new TillerError("INVALID_ARGUMENT", `session "${params.id}" has no runs to replay`);
        if (params.runIndex != null && session.runs[params.runIndex] == null)
            throw new TillerError("INVALID_ARGUMENT", `session "${params.id}" has ${session.runs.length} run(s); there is no run ${params.runIndex}`);
        const { model, loadedModel } = await this.modelFor(session, request);
        const chosen: [number, SessionRun][] = params.runIndex != null ? [[params.runIndex, session.runs[params.runIndex]!]] : [...session.runs.entries()];
        const runs: EngineResults["sessions.replay"]["runs"] = [];
        for (const [done, [runIndex, run]] of chosen.entries()) {
            if (request.signal.aborted)
                throw new TillerError("ABORTED", "the replay was cancelled");
            this.host.emitProgress({ requestId: request.requestId, done, total: chosen.length, label: `replaying run ${runIndex + 1} of ${session.runs.length}` });
            // a context of its own, as recorded: the service's context may be running something else
            const context = await model.createContext({ contextSize: run.start.contextSize, threads: params.threads ?? this.host.threads ?? run.start.threads });
            try {
                runs.push({ runIndex, ...await replayRun(context, session, run) });
            } finally {
                await context.dispose();
            }
        }
        this.host.emitProgress({ requestId: request.requestId, done: chosen.length, total: chosen.length, label: "replayed" });
        return { runs, identical: runs.every((run) => run.identical), modelPath: model.path, loadedModel };
    }

    /** The loaded model when it is the session's; otherwise the session's model, loaded now. */
    private async modelFor(session: OpenedSession, request: RequestContext): Promise<{ model: TillerModel; loadedModel: boolean }> {
        const recorded = session.info.model;
        const current = this.host.loadedModel();
        if (recorded == null) {
            if (current == null)
                throw new TillerError("INVALID_ARGUMENT", "the session names no model; load the model it was recorded with, then replay");
            return { model: current, loadedModel: false };
        }
        if (current != null && samePath(current.path, recorded.path))
            return { model: current, loadedModel: false };
        if (fs.existsSync(recorded.path)) {
            await this.host.loadModel({ path: recorded.path }, request);
            const model = this.host.loadedModel();
            if (model == null)
                throw new TillerError("MODEL_LOAD_FAILED", `"${recorded.path}" did not stay loaded`);
            return { model, loadedModel: true };
        }
        if (current != null)
            return { model: current, loadedModel: false }; // replayRun checks its sha256 against the session's
        throw new TillerError("FILE_NOT_FOUND", `the session's model "${recorded.fileName}" is no longer at ${recorded.path}; load a copy of it, then replay`);
    }

    public export(params: { id: string; path: string; format: "folder" | "zip" }): EngineResults["sessions.export"] {
        this.host.writes.checkInside(params.path, "the export path");
        const session = openSession(this.folderOf(params.id));
        const target = checkExportTarget(params.path, params.format);
        if (params.format === "folder") {
            exportSession(session, target);
            return { path: target, format: "folder", files: countFiles(target) };
        }
        const staging = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-export-"));
        try {
            exportSession(session, staging);
            return { path: target, format: "zip", files: zipFolder(staging, target) };
        } finally {
            fs.rmSync(staging, { recursive: true, force: true });
        }
    }
}

/**
 * An export goes to an absolute path on the engine's machine, into a folder that exists, and never
 * over existing data: a folder target must be new or empty, a zip target must be a new `.zip` file.
 */
function checkExportTarget(target: string, format: "folder" | "zip"): string {
    if (!path.isAbsolute(target))
        throw new TillerError("INVALID_ARGUMENT", `the export path must be absolute (a path on the engine's machine), got "${target}"`);
    const resolved = path.resolve(target);
    const parent = path.dirname(resolved);
    if (!fs.existsSync(parent) || !fs.statSync(parent).isDirectory())
        throw new TillerError("FILE_NOT_FOUND", `the folder to export into does not exist: ${parent}`);
    if (format === "zip") {
        if (!resolved.toLowerCase().endsWith(".zip"))
            throw new TillerError("INVALID_ARGUMENT", `a zip export's path must end in .zip, got "${target}"`);
        if (fs.existsSync(resolved))
            throw new TillerError("INVALID_ARGUMENT", `"${resolved}" already exists; choose a new file name`);
        return resolved;
    }
    if (fs.existsSync(resolved) && (!fs.statSync(resolved).isDirectory() || fs.readdirSync(resolved).length > 0))
        throw new TillerError("INVALID_ARGUMENT", `"${resolved}" already exists and is not an empty folder; choose a new folder`);
    return resolved;
}

function countFiles(folder: string): number {
    return fs.readdirSync(folder, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;
}

function samePath(a: string, b: string): boolean {
    const real = (file: string) => {
        try {
            return fs.realpathSync(file);
        } catch {
            return path.resolve(file);
        }
    };
    return real(a) === real(b);
}

function toSummary(summary: { id: string; name: string; createdAt: string; model: string | null; runs: number }): SessionSummaryInfo {
    return { id: summary.id, name: summary.name, createdAt: summary.createdAt, model: summary.model, runs: summary.runs };
}

function toPatch(patch: RecordedPatch): SessionPatchInfo {
    return {
        id: patch.id, vectorName: patch.vectorName, strength: patch.strength,
        ...(patch.layers != null ? { layers: patch.layers } : {}),
        ...(patch.fromToken != null ? { fromToken: patch.fromToken } : {}),
        ...(patch.untilToken != null ? { untilToken: patch.untilToken } : {})
    };
}

async function toRunInfo(run: SessionRun, vectors: SessionVectors): Promise<SessionRunInfo> {
    const { start } = run;
    const probes = await Promise.all(start.probes.map(async (probe) => ({
        name: probe.name, vectorName: await vectors.nameOf(probe.vector, probe.name), ...(probe.layers != null ? { layers: probe.layers } : {})
    })));
    return {
        runId: start.runId, at: start.at, prompt: start.prompt, maxTokens: start.maxTokens, sampling: start.sampling,
        patches: start.patches.map(toPatch),
        probes,
        tokens: run.tokens.map((token): TokenInfo => ({
            index: token.index, position: -1, id: token.id, piece: token.piece, logprob: token.logprob, entropy: token.entropy,
            top: token.top, activePatches: token.activePatches, projections: token.projections,
            ...(token.readouts != null ? { readouts: token.readouts } : {})
        })),
        changes: run.changes.map((change) => ({ atToken: change.atToken, activePatches: change.activePatches, patches: change.patches.map(toPatch) })),
        triggers: run.triggers.map(({ patchId, kind, atToken, triggerToken, value }) => ({ patchId, kind, atToken, triggerToken, ...(value != null ? { value } : {}) })),
        end: run.end != null ? { stopReason: run.end.stopReason, text: run.end.text, tokensPerSecond: run.end.tokensPerSecond } : null
    };
}

/** A `vector.build` note as the session holds it; null when the note does not have that shape. */
function toVectorBuild(at: string, data: unknown): SessionVectorBuildInfo | null {
    const build = readVectorBuild(data);
    return build != null ? { at, ...build } : null;
}
