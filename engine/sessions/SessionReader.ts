// Reads sessions back without loading any model: the strips and plots of a session come from
// its records alone. A line cut short by a crash is skipped and reported, never fatal.
import fs from "node:fs";
import path from "node:path";
import { readLinesSync } from "../io/readLinesSync.js";
import { TillerError } from "../protocol/TillerError.js";
import { recordingProcess } from "./recordingLock.js";
import {
    sessionInfoSchema, sessionRecordSchema, type PatchChangeRecordLine, type RunEndRecord, type RunStartRecord, type SessionInfo, type SessionRecord, type TokenRecord, type TriggerRecord
} from "./sessionRecords.js";

export interface SessionRun {
    start: RunStartRecord;
    tokens: TokenRecord[];
    changes: PatchChangeRecordLine[];
    /** conditional patches engaging and releasing (empty in sessions written before they were recorded) */
    triggers: TriggerRecord[];
    /** absent when the run was cut short (a crash, a kill) */
    end?: RunEndRecord;
}

export interface OpenedSession {
    folder: string;
    info: SessionInfo;
    runs: SessionRun[];
    notes: Extract<SessionRecord, { type: "note" }>[];
    /** lines that could not be read (e.g. the last one, cut by a crash) */
    problems: { line: number; message: string }[];
}

export interface SessionSummary {
    id: string;
    name: string;
    createdAt: string;
    model: string | null;
    runs: number;
    folder: string;
}

export function openSession(folder: string): OpenedSession {
    const infoPath = path.join(folder, "session.json");
    if (!fs.existsSync(infoPath))
        throw new TillerError("FILE_NOT_FOUND", `"${folder}" is not a Tiller session (no session.json)`);
    let info: SessionInfo;
    try {
        info = sessionInfoSchema.parse(JSON.parse(fs.readFileSync(infoPath, "utf8")));
    } catch (error) {
        throw new TillerError("INVALID_ARGUMENT", `the session.json of "${folder}" is damaged: ${(error as Error).message}`, { cause: error });
    }
    const runs = new Map<string, SessionRun>();
    const notes: OpenedSession["notes"] = [];
    const problems: OpenedSession["problems"] = [];
    const eventsPath = path.join(folder, "events.jsonl");
    const readLine = (line: string, lineNumber: number) => {
        if (line.trim() === "")
            return;
        let record: SessionRecord;
        try {
            record = sessionRecordSchema.parse(JSON.parse(line));
        } catch (error) {
            problems.push({ line: lineNumber, message: `unreadable record (${(error as Error).message.split("\n")[0]})` });
            return;
        }
        if (record.type === "note") {
            notes.push(record);
            return;
        }
        if (record.type === "run.start") {
            runs.set(record.runId, { start: record, tokens: [], changes: [], triggers: [] });
            return;
        }
        const run = runs.get(record.runId);
        if (run == null) {
            problems.push({ line: lineNumber, message: `a ${record.type} record of an unknown run` });
            return;
        }
        if (record.type === "token")
            run.tokens.push(record);
        else if (record.type === "patch.change")
            run.changes.push(record);
        else if (record.type === "trigger")
            run.triggers.push(record);
        else
            run.end = record;
    };
    if (fs.existsSync(eventsPath))
        readLinesSync(eventsPath, readLine);
    return { folder, info, runs: [...runs.values()], notes, problems };
}

export function summarizeSession(session: OpenedSession): SessionSummary {
    return { id: session.info.id, name: session.info.name, createdAt: session.info.createdAt,
        model: session.info.model?.fileName ?? null, runs: session.runs.length, folder: session.folder };
}

/** Sessions under `root`, newest first; `search` matches name, id or model file name. */
export function listSessions(root: string, search?: string): SessionSummary[] {
    if (!fs.existsSync(root))
        return [];
    const needle = search?.toLowerCase();
    const summaries: SessionSummary[] = [];
    for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
        if (!entry.isDirectory())
            continue;
        try {
            const summary = summarizeSession(openSession(path.join(root, entry.name)));
            if (needle == null || [summary.id, summary.name, summary.model ?? ""].some((text) => text.toLowerCase().includes(needle)))
                summaries.push(summary);
        } catch {
            // not a session folder: skip
        }
    }
    return summaries.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** Renames a session; returns its summary under the new name. */
export function renameSession(folder: string, name: string): SessionSummary {
    const session = openSession(folder);
    const info = { ...session.info, name };
    const infoPath = path.join(folder, "session.json");
    fs.writeFileSync(infoPath + ".tmp", JSON.stringify(info, null, 2) + "\n");
    fs.renameSync(infoPath + ".tmp", infoPath);
    return summarizeSession({ ...session, info });
}

export function deleteSession(folder: string): void {
    openSession(folder); // refuse to delete a folder that is not a session
    const recorder = recordingProcess(folder);
    if (recorder != null)
        throw new TillerError("BUSY", `the session in "${folder}" is being recorded by process ${recorder} (another Tiller window or \`tiller serve\`); close it there first`);
    fs.rmSync(folder, { recursive: true, force: true });
}
