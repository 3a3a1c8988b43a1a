// Faults injected into the session and library writers: a full disk (ENOSPC), an I/O error (EIO),
// short writes. Each time the work stops or goes on cleanly, the session stays readable, a finished
// vector is not lost, and the next request works without reloading the model. Real engine on
// stories260K; the faults are injected at the writers' file-system calls (tests/support/writeFaults.ts).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EngineService } from "../../engine/service/EngineService.js";
import { deleteSession, listSessions, openSession } from "../../engine/sessions/SessionReader.js";
import { SessionWriter } from "../../engine/sessions/SessionWriter.js";
import { InProcessRpcClient } from "../support/inProcessRpc.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { EventsFileFaults, failAtomicWrites, failFileWrites } from "../support/writeFaults.js";

const note = (index: number) => ({ type: "note" as const, at: new Date(0).toISOString(), kind: "test", data: { index, text: "ü€ ".repeat(index % 7) } });

describe("the session writer under write faults", () => {
    let root: string;
    const faults = new EventsFileFaults();

    beforeAll(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-faults-unit-"));
        faults.install();
    });
    afterEach(() => faults.set({ kind: "none" }));
    afterAll(() => {
        faults.restore();
        fs.rmSync(root, { recursive: true, force: true });
    });

    const newWriter = (id: string) => SessionWriter.create(root, { id, name: id, appVersion: "test", model: null, settings: {} });

    it("continues short writes: every record arrives whole", () => {
        const writer = newWriter("short");
        faults.set({ kind: "short", maxBytes: 5 });
        for (let index = 0; index < 50; index++)
            writer.append(note(index));
        writer.close();
        expect(faults.injected).toBeGreaterThan(50);
        const session = openSession(path.join(root, "short"));
        expect(session.problems).toEqual([]);
        expect(session.notes.map((record) => (record.data as { index: number }).index)).toEqual(Array.from({ length: 50 }, (_, index) => index));
    });

    for (const code of ["ENOSPC", "EIO"] as const) {
        it(`cuts a record that failed half-way with ${code} back out, so the next record is not glued onto it`, () => {
            const writer = newWriter(`cut-${code}`);
            writer.append(note(0));
            faults.set({ kind: "fail", code, okWrites: 0, partialBytes: 9, times: 1 });
            expect(() => writer.append(note(1))).toThrow(code);
            writer.append(note(2));
            writer.close();
            const session = openSession(path.join(root, `cut-${code}`));
            expect(session.problems).toEqual([]);
            expect(session.notes.map((record) => (record.data as { index: number }).index)).toEqual([0, 2]);
        });
    }

    it("when the cut-back fails too, the partial line stays on its own: one unreadable line, later records intact", () => {
        const writer = newWriter("cut-fails");
        writer.append(note(0));
        faults.set({ kind: "fail", code: "EIO", okWrites: 0, partialBytes: 9, truncateFails: true, times: 1 });
        expect(() => writer.append(note(1))).toThrow("EIO");
        faults.set({ kind: "none" });
        writer.append(note(2));
        writer.append(note(3));
        writer.close();
        const session = openSession(path.join(root, "cut-fails"));
        expect(session.problems).toHaveLength(1);
        expect(session.problems[0]!.line).toBe(2);
        expect(session.notes.map((record) => (record.data as { index: number }).index)).toEqual([0, 2, 3]);
    });

    it("reads an events file line by line: a file larger than one read chunk, with multi-byte text across chunk edges", () => {
        const writer = newWriter("large");
        const records = 3000;
        for (let index = 0; index < records; index++)
            writer.append({ ...note(index), data: { index, text: "ü€𝄞".repeat(200) } }); // ~1.9 MiB in all
        writer.close();
        expect(fs.statSync(path.join(root, "large", "events.jsonl")).size).toBeGreaterThan(2 * (1 << 20) - 400_000);
        const session = openSession(path.join(root, "large"));
        expect(session.problems).toEqual([]);
        expect(session.notes).toHaveLength(records);
        expect((session.notes[records - 1]!.data as { text: string }).text).toBe("ü€𝄞".repeat(200));
    });

    it("refuses to delete a session another live process records into; a stale or copied lock does not pin it", async () => {
        const writer = newWriter("live");
        expect(() => deleteSession(path.join(root, "live"))).toThrow(/being recorded by process/);
        // a copy of the folder carries the lock, but the lock names the original folder
        fs.cpSync(path.join(root, "live"), path.join(root, "live-copy"), { recursive: true });
        deleteSession(path.join(root, "live-copy"));
        writer.close();
        deleteSession(path.join(root, "live"));
        expect(fs.existsSync(path.join(root, "live"))).toBe(false);

        // another process's lock: refused while it lives, deletable once it is gone
        const other = newWriter("other");
        other.close();
        const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
        fs.writeFileSync(path.join(root, "other", "recording.lock"), JSON.stringify({ pid: sleeper.pid, folder: path.join(root, "other") }));
        expect(() => deleteSession(path.join(root, "other"))).toThrow(new RegExp(`process ${sleeper.pid}`));
        expect(listSessions(root).find((session) => session.id === "other")).toBeDefined();
        await new Promise<void>((resolve) => {
            sleeper.once("exit", () => resolve());
            sleeper.kill("SIGKILL");
        });
        deleteSession(path.join(root, "other"));
    });
});

describe.skipIf(missing(sharedFiles.stories260K))("the engine service under write faults", () => {
    let dataDir: string;
    let service: EngineService;
    let client: InProcessRpcClient;
    const faults = new EventsFileFaults();

    beforeAll(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-faults-"));
        faults.install();
        service = new EngineService({ dataDir, threads: 1 });
        client = new InProcessRpcClient(service);
        await client.request("model.load", { path: sharedFiles.stories260K, gpuLayers: 0, contextSize: 512, threads: 1 });
    }, 120_000);
    afterEach(() => faults.set({ kind: "none" }));
    afterAll(async () => {
        faults.restore();
        await client?.close();
        if (dataDir != null)
            fs.rmSync(dataDir, { recursive: true, force: true });
    });

    const runToEnd = async (maxTokens: number) => {
        const { runId } = await client.request("run.start", { prompt: "Once upon a time", maxTokens });
        return { runId, end: await client.waitForEvent("run.end", (data) => data.runId === runId) };
    };

    it("a session that cannot be created fails the run cleanly; the next run works without reloading", async () => {
        const fault = failFileWrites((file) => file.endsWith("session.json.tmp"), "ENOSPC");
        try {
            expect(await client.failure("run.start", { prompt: "Once upon a time", maxTokens: 5 })).toMatchObject({ code: "INTERNAL", message: expect.stringContaining("ENOSPC") });
            expect(fault.injected()).toBe(1);
        } finally {
            fault.restore();
        }
        const { end } = await runToEnd(5);
        expect(end.error).toBeUndefined();
        expect(end.stopReason).toBe("maxTokens");
    }, 60_000);

    for (const code of ["ENOSPC", "EIO"] as const) {
        it(`a token record that fails with ${code} stops the run and frees the context; the session stays readable`, async () => {
            faults.set({ kind: "fail", code, okWrites: 6, partialBytes: 20 }); // run.start + 5 tokens, then every write fails
            const { runId, end } = await runToEnd(200);
            expect(end.stopReason).toBe("aborted");
            expect(end.error).toMatchObject({ message: expect.stringMatching(new RegExp(`recording the run.*${code}`)) });
            faults.set({ kind: "none" });
            // not BUSY: the aborted decode let the context go
            const next = await runToEnd(8);
            expect(next.end.error).toBeUndefined();
            expect(next.end.stopReason).toBe("maxTokens");
            const session = openSession(listSessions(path.join(dataDir, "sessions"))[0]!.folder);
            expect(session.problems).toEqual([]);
            const failed = session.runs.find((run) => run.start.runId === runId)!;
            // the tokens recorded before the fault, in order (the run's first records also include its patch state)
            expect(failed.tokens.length).toBeGreaterThanOrEqual(3);
            expect(failed.tokens.length).toBeLessThanOrEqual(5);
            expect(failed.tokens.map((token) => token.index)).toEqual(failed.tokens.map((_, index) => index));
            expect(failed.end).toBeUndefined();
            expect(session.runs.find((run) => run.start.runId === next.runId)!.end?.stopReason).toBe("maxTokens");
        }, 60_000);
    }

    it("a vector build whose session note cannot be written still returns the vector and keeps it in the library", async () => {
        faults.set({ kind: "fail", code: "ENOSPC", okWrites: 0, partialBytes: 0 });
        const built = await client.request("vectors.build", { dataset: "sentiment", readAt: "mean", name: "kept" });
        expect(faults.injected).toBeGreaterThan(0);
        const listed = (await client.request("vectors.list", {})).vectors.map((vector) => vector.id);
        expect(listed).toContain(built.vector.id);
    }, 120_000);

    it("a library write that fails leaves no partial file and a clean error; the next build works", async () => {
        const library = path.join(dataDir, "vectors");
        const before = fs.readdirSync(library).sort();
        const fault = failAtomicWrites((file) => file.startsWith(library), "ENOSPC");
        try {
            expect(await client.failure("vectors.build", { dataset: "sentiment", readAt: "mean" })).toMatchObject({ code: "INTERNAL", message: expect.stringContaining("ENOSPC") });
            expect(fault.injected()).toBe(1);
        } finally {
            fault.restore();
        }
        expect(fs.readdirSync(library).sort()).toEqual(before);
        const again = await client.request("vectors.build", { dataset: "sentiment", readAt: "mean" });
        expect(fs.existsSync(path.join(library, `${again.vector.id}.gguf`))).toBe(true);
    }, 120_000);

    it("a sweep whose recording fails still returns its result", async () => {
        const vectorId = (await client.request("vectors.list", {})).vectors[0]!.id;
        faults.set({ kind: "fail", code: "EIO", okWrites: 0, partialBytes: 0 });
        const sweep = await client.request("probes.sweep", { prompt: "Once upon a time", completion: " there was", vectorId, alphas: [-1, 0, 1] });
        expect(sweep.tokens.length).toBeGreaterThan(0);
        expect(sweep.alphas).toEqual([-1, 0, 1]);
    }, 120_000);
});
