// The sessions.* requests through the real RPC server (zod at the boundary) on stories260K: a
// recorded run with a mid-run strength change reopened without a model, renamed, searched, replayed
// identical (loading the model itself), a tampered copy reported with its first divergence,
// exported as a folder and as a zip, deleted; and the bad inputs each get a clear error.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeControlVector } from "../../engine/gguf/ControlVectorFile.js";
import { decodeNpy } from "../../engine/io/npy.js";
import { EngineService } from "../../engine/service/EngineService.js";
import { InProcessRpcClient } from "../support/inProcessRpc.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { randomVector } from "../support/sineVector.js";

/** Reads a zip's central directory and inflates every entry (checking its CRC-32): name → bytes. */
function readZip(file: string): Map<string, Buffer> {
    const zip = fs.readFileSync(file);
    const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    expect(end, "end of central directory").toBeGreaterThan(0);
    const count = zip.readUInt16LE(end + 10);
    let at = zip.readUInt32LE(end + 16);
    const entries = new Map<string, Buffer>();
    for (let index = 0; index < count; index++) {
        expect(zip.readUInt32LE(at)).toBe(0x02014b50);
        const method = zip.readUInt16LE(at + 10);
        const crc = zip.readUInt32LE(at + 16);
        const compressedSize = zip.readUInt32LE(at + 20);
        const nameLength = zip.readUInt16LE(at + 28);
        const extraLength = zip.readUInt16LE(at + 30);
        const commentLength = zip.readUInt16LE(at + 32);
        const localOffset = zip.readUInt32LE(at + 42);
        const name = zip.subarray(at + 46, at + 46 + nameLength).toString("utf8");
        const localNameLength = zip.readUInt16LE(localOffset + 26);
        const localExtraLength = zip.readUInt16LE(localOffset + 28);
        const dataStart = localOffset + 30 + localNameLength + localExtraLength;
        const raw = zip.subarray(dataStart, dataStart + compressedSize);
        const data = method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw);
        expect(zlib.crc32(data), `CRC of ${name}`).toBe(crc);
        entries.set(name, data);
        at += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
}

describe.skipIf(missing(sharedFiles.stories260K))("sessions requests", () => {
    let dataDir: string;
    let outDir: string;
    let service: EngineService;
    let client: InProcessRpcClient;
    let sessionId: string;
    let recordedIds: number[];

    beforeAll(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-session-rpc-"));
        outDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-session-out-"));
        service = new EngineService({ dataDir, threads: 1 });
        client = new InProcessRpcClient(service);
        const vectorFile = path.join(outDir, "random.gguf");
        const vector = randomVector("random", 5, 64, 11);
        fs.writeFileSync(vectorFile, encodeControlVector({ modelHint: "llama", nEmbd: 64, directions: new Map(vector.directions), metadata: {} }));
        await client.request("model.load", { path: sharedFiles.stories260K, gpuLayers: 0, contextSize: 512, threads: 1 });
        const { id: vectorId } = await client.request("vectors.import", { path: vectorFile });

        // a sampled run with a patch and a read-out; its strength changes while it runs
        const patch = { id: "p", vectorId, strength: 0.5, layers: { first: 1, last: 4 } };
        const { runId } = await client.request("run.start", {
            prompt: "Once upon a time", maxTokens: 120, sampling: { temperature: 0.9, seed: 5 }, patches: [patch], probes: [{ vectorId }], topAlternatives: 3
        });
        await client.request("run.setPatches", { runId, patches: [{ ...patch, strength: 2.5 }] });
        const end = await client.waitForEvent("run.end", (data) => data.runId === runId);
        expect(end.error).toBeUndefined();
        recordedIds = client.events.filter((entry) => entry.event === "run.token" && entry.data.runId === runId).map((entry) => entry.data.token.id as number);
        await client.request("model.unload", {});
        const listed = await client.request("sessions.list", {});
        expect(listed).toHaveLength(1);
        sessionId = listed[0]!.id;
    }, 120_000);

    afterAll(async () => {
        await client?.close();
        await service?.dispose();
        for (const dir of [dataDir, outDir])
            if (dir != null)
                fs.rmSync(dir, { recursive: true, force: true });
    });

    it("opens a session without a model: its run's tokens, read-outs and the mid-run change", async () => {
        expect((await client.request("engine.info", {})).model).toBeNull();
        const session = await client.request("sessions.open", { id: sessionId });
        expect(session.model?.fileName).toBe("stories260K.gguf");
        expect(session.recording).toBe(false);
        expect(session.problems).toEqual([]);
        expect(session.runs).toHaveLength(1);
        const [run] = session.runs;
        expect(run!.tokens.map((token) => token.id)).toEqual(recordedIds);
        expect(run!.tokens[0]!.projections.map((projection) => projection.layer)).toEqual([1, 2, 3, 4]);
        expect(run!.tokens[0]!.top).toHaveLength(3);
        expect(run!.patches).toEqual([{ id: "p", vectorName: "random", strength: 0.5, layers: { first: 1, last: 4 } }]);
        expect(run!.probes).toEqual([{ name: expect.any(String), vectorName: "random" }]);
        expect(run!.changes.length).toBeGreaterThanOrEqual(1);
        expect(run!.changes.at(-1)!.patches[0]!.strength).toBe(2.5);
        expect(run!.end?.stopReason).toMatch(/eog|maxTokens/);
        expect(run!.end?.text).toBe(run!.tokens.map((token) => token.piece).join(""));
    });

    it("renames and finds a session by its new name", async () => {
        const renamed = await client.request("sessions.rename", { id: sessionId, name: "  owl experiment  " });
        expect(renamed).toMatchObject({ id: sessionId, name: "owl experiment", runs: 1, model: "stories260K.gguf" });
        expect((await client.request("sessions.list", { search: "OWL" })).map((session) => session.id)).toEqual([sessionId]);
        expect(await client.request("sessions.list", { search: "no such session" })).toEqual([]);
    });

    it("replays identical, loading the session's model, with progress", async () => {
        const { id, result } = client.start("sessions.replay", { id: sessionId });
        const replay = await result;
        expect(replay.loadedModel).toBe(true);
        expect(replay.identical).toBe(true);
        expect(replay.runs).toEqual([{ runIndex: 0, runId: expect.any(String), identical: true, recordedTokens: recordedIds.length, replayedTokens: recordedIds.length, firstDivergence: null }]);
        const progress = client.events.filter((entry) => entry.event === "progress" && entry.data.requestId === id).map((entry) => entry.data);
        expect(progress.at(-1)).toMatchObject({ done: 1, total: 1 });
        expect((await client.request("engine.info", {})).model?.fileName).toBe("stories260K.gguf");
        // the model is loaded now: replaying again uses it as it is
        expect((await client.request("sessions.replay", { id: sessionId, runIndex: 0 })).loadedModel).toBe(false);
    }, 60_000);

    it("reports the first divergence of a session whose tokens were altered", async () => {
        const copyId = `${sessionId}-altered`;
        const copy = path.join(dataDir, "sessions", copyId);
        fs.cpSync(path.join(dataDir, "sessions", sessionId), copy, { recursive: true });
        const eventsFile = path.join(copy, "events.jsonl");
        const lines = fs.readFileSync(eventsFile, "utf8").split("\n").map((line) => {
            if (line === "")
                return line;
            const record = JSON.parse(line) as { type: string; index?: number; id?: number };
            return record.type === "token" && record.index === 7 ? JSON.stringify({ ...record, id: (record.id! + 1) % 512 }) : line;
        });
        fs.writeFileSync(eventsFile, lines.join("\n"));
        const replay = await client.request("sessions.replay", { id: copyId });
        expect(replay.identical).toBe(false);
        expect(replay.runs[0]!.firstDivergence).toEqual({ index: 7, recorded: (recordedIds[7]! + 1) % 512, replayed: recordedIds[7] });
        await client.request("sessions.delete", { id: copyId });
    }, 60_000);

    it("exports a folder and a zip with the same files; the .npy parses", async () => {
        const folder = path.join(outDir, "export");
        const exported = await client.request("sessions.export", { id: sessionId, path: folder, format: "folder" });
        expect(exported).toMatchObject({ path: folder, format: "folder" });
        for (const file of ["README.md", "session.json", "runs.csv", "run-0/tokens.csv", "run-0/projections.npy"])
            expect(fs.existsSync(path.join(folder, file)), file).toBe(true);
        const projections = decodeNpy(fs.readFileSync(path.join(folder, "run-0", "projections.npy")));
        expect(projections.shape).toEqual([recordedIds.length, 4]);
        expect(fs.readFileSync(path.join(folder, "run-0", "tokens.csv"), "utf8").trim().split("\n")).toHaveLength(recordedIds.length + 1);

        const zipPath = path.join(outDir, "export.zip");
        const zipped = await client.request("sessions.export", { id: sessionId, path: zipPath, format: "zip" });
        expect(zipped).toEqual({ path: zipPath, format: "zip", files: exported.files });
        const entries = readZip(zipPath);
        const folderFiles = fs.readdirSync(folder, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())
            .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)).split(path.sep).join("/")).sort();
        expect([...entries.keys()].sort()).toEqual(folderFiles);
        for (const name of folderFiles)
            expect(entries.get(name)!.equals(fs.readFileSync(path.join(folder, name))), name).toBe(true);
    });

    it("refuses bad ids and export targets with clear errors, and keeps serving", async () => {
        expect(await client.failure("sessions.open", { id: "../vectors" })).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/sessions\.open: id: .*folder name/) });
        expect(await client.failure("sessions.open", { id: "absent" })).toMatchObject({ code: "FILE_NOT_FOUND", message: expect.stringContaining('no session "absent"') });
        expect(await client.failure("sessions.export", { id: sessionId, path: "relative/out", format: "folder" })).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("absolute") });
        expect(await client.failure("sessions.export", { id: sessionId, path: path.join(outDir, "export"), format: "folder" })).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("not an empty folder") });
        expect(await client.failure("sessions.export", { id: sessionId, path: path.join(outDir, "export.tar"), format: "zip" })).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining(".zip") });
        expect(await client.failure("sessions.export", { id: sessionId, path: path.join(outDir, "absent", "x.zip"), format: "zip" })).toMatchObject({ code: "FILE_NOT_FOUND" });
        expect(await client.failure("sessions.rename", { id: sessionId, name: "   " })).toMatchObject({ code: "INVALID_ARGUMENT" });
        expect(await client.failure("sessions.replay", { id: sessionId, runIndex: 3 })).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("no run 3") });
        expect((await client.request("sessions.list", {})).length).toBeGreaterThan(0);
    });

    it("replays a run that was stopped mid-way for the tokens it recorded", async () => {
        // the replay above loaded the model; this run records into a new session for it
        const { runId } = await client.request("run.start", { prompt: "Once upon a time", maxTokens: 5000, sampling: { temperature: 0.9, seed: 9 } });
        await client.waitForEvent("run.token", (data) => data.runId === runId && data.token.index >= 20);
        await client.request("run.stop", { runId });
        const end = await client.waitForEvent("run.end", (data) => data.runId === runId);
        expect(end.stopReason).toBe("aborted");
        const recording = (await client.request("sessions.list", {})).find((session) => session.id !== sessionId)!;
        const opened = await client.request("sessions.open", { id: recording.id });
        const stopped = opened.runs.find((run) => run.runId === runId)!;
        expect(stopped.tokens.length).toBeGreaterThanOrEqual(21);
        expect(stopped.tokens.length).toBeLessThan(5000);
        const replay = await client.request("sessions.replay", { id: recording.id, runIndex: opened.runs.indexOf(stopped) });
        expect(replay.runs[0]).toMatchObject({ identical: true, recordedTokens: stopped.tokens.length, replayedTokens: stopped.tokens.length });
    }, 60_000);

    it("will not delete the session being recorded into; deletes it once closed", async () => {
        // the replay loaded the model; a run records into a new session for it
        const { runId } = await client.request("run.start", { prompt: "Lily", maxTokens: 4 });
        await client.waitForEvent("run.end", (data) => data.runId === runId);
        const recording = (await client.request("sessions.list", {})).find((session) => session.id !== sessionId)!;
        expect((await client.request("sessions.open", { id: recording.id })).recording).toBe(true);
        expect(await client.failure("sessions.delete", { id: recording.id })).toMatchObject({ code: "BUSY", message: expect.stringContaining("unload the model") });
        await client.request("model.unload", {});
        expect(await client.request("sessions.delete", { id: recording.id })).toBeNull();
        expect((await client.request("sessions.list", {})).map((session) => session.id)).toEqual([sessionId]);
    });
});
