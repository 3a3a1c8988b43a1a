// Probe sessions on stories260K: record, close, reopen without a model, replay to identical tokens
// (with a mid-run strength change), export for numpy, and survive a killed engine.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeNpy } from "../../engine/io/npy.js";
import { readoutColumns } from "../../engine/protocol/thermoReadouts.js";
import { generate } from "../../engine/runtime/generate.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { exportSession } from "../../engine/sessions/exportSession.js";
import { replayRun } from "../../engine/sessions/replaySession.js";
import { listSessions, openSession, renameSession } from "../../engine/sessions/SessionReader.js";
import { SessionWriter } from "../../engine/sessions/SessionWriter.js";
import { sha256OfFile } from "../../engine/io/sha256File.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { sineVector } from "../support/sineVector.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");

describe.skipIf(missing(sharedFiles.stories260K))("probe sessions on stories260K", () => {
    let root: string;
    let model: TillerModel;
    let context: TillerContext;

    beforeAll(async () => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-sessions-"));
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 512 });
    });
    afterAll(async () => {
        await model?.dispose();
        fs.rmSync(root, { recursive: true, force: true });
    });

    it("records a run with a mid-run strength change, reopens it without a model, and replays it exactly", async () => {
        const writer = SessionWriter.create(root, {
            name: "replay test", appVersion: "test", settings: { threads: 1 },
            model: { fileName: "stories260K.gguf", path: model.path, sizeBytes: fs.statSync(model.path).size, sha256: await sha256OfFile(model.path) }
        });
        const sampling = { temperature: 0.9, topK: 40, topP: 0.95, minP: 0.05, seed: 77 };
        const patches = [{ id: "sine", vector: sineVector(), strength: 0.4, layers: { first: 1, last: 4 }, fromToken: 3 }];
        const probes = [{ vector: sineVector("probe") }];
        const run = generate(context, "Once upon a time", { maxTokens: 40, sampling, patches, probes });
        const recorder = writer.startRun({ prompt: "Once upon a time", maxTokens: 40, sampling: { ...sampling }, topAlternatives: 5, patches, probes, contextSize: 512, threads: 1 });
        for await (const token of run) {
            recorder.token(token, run.patchChanges);
            if (token.index === 12)
                run.patches.update("sine", { strength: 1.3 });
        }
        const result = await run.result;
        await recorder.end(result);
        writer.close();
        expect(result.patchChanges.some((change) => change.atToken > 12)).toBe(true);

        const reopened = openSession(writer.folder);
        expect(reopened.problems).toEqual([]);
        expect(reopened.runs).toHaveLength(1);
        const recorded = reopened.runs[0]!;
        expect(recorded.tokens.map((token) => token.id)).toEqual(result.tokens.map((token) => token.id));
        expect(recorded.tokens[5]!.projections).toHaveLength(4);
        expect(recorded.end?.text).toBe(result.text);

        const replay = await replayRun(context, reopened, recorded);
        expect(replay).toMatchObject({ identical: true, firstDivergence: null, recordedTokens: result.tokens.length });

        // without the mid-run change the tokens would differ: the replay really re-applied it
        const unchanged = await generate(context, "Once upon a time", { maxTokens: 40, sampling, patches, probes }).result;
        expect(unchanged.tokens.map((token) => token.id)).not.toEqual(result.tokens.map((token) => token.id));
    });

    it("records conditional patches (their triggers and every engagement) and replays them exactly", async () => {
        const writer = SessionWriter.create(root, {
            name: "trigger test", appVersion: "test", settings: { threads: 1 },
            model: { fileName: "stories260K.gguf", path: model.path, sizeBytes: fs.statSync(model.path).size, sha256: await sha256OfFile(model.path) }
        });
        const sampling = { temperature: 0, topK: 40, topP: 0.95, minP: 0.05, seed: 5 };
        // a projection trigger that fires at once and holds 6 tokens, and a text trigger on a common word
        const patches = [
            { id: "held", vector: sineVector(), strength: 2, layers: { first: 1, last: 4 },
                trigger: { kind: "projection" as const, vector: sineVector("condition"), layer: 3, threshold: -1e9, holdTokens: 6 } },
            { id: "on-word", vector: sineVector(), strength: -2, layers: { first: 1, last: 4 }, trigger: { kind: "text" as const, match: " the", holdTokens: 4 } }
        ];
        const settings = { prompt: "Once upon a time", maxTokens: 40, sampling, topAlternatives: 3, patches, probes: [], contextSize: 512, threads: 1 };
        const { result } = await writer.recordRun(generate(context, settings.prompt, { ...settings }), settings);
        writer.close();
        expect(result.triggerEvents.length).toBeGreaterThanOrEqual(2);

        const recorded = openSession(writer.folder).runs[0]!;
        expect(recorded.start.patches[0]!.trigger).toMatchObject({ kind: "projection", layer: 3, threshold: -1e9, holdTokens: 6, vectorName: "condition" });
        expect(recorded.start.patches[1]!.trigger).toEqual({ kind: "text", match: " the", holdTokens: 4 });
        expect(recorded.triggers.map(({ patchId, kind, atToken }) => ({ patchId, kind, atToken })))
            .toEqual(result.triggerEvents.map(({ patchId, kind, atToken }) => ({ patchId, kind, atToken })));

        const replay = await replayRun(context, openSession(writer.folder), recorded);
        expect(replay).toMatchObject({ identical: true, firstDivergence: null });
        // the triggers matter: the same patches without them steer every token and give other text
        const unconditional = await generate(context, settings.prompt, { ...settings, patches: patches.map(({ trigger: _trigger, ...patch }) => patch) }).result;
        expect(unconditional.tokens.map((token) => token.id)).not.toEqual(result.tokens.map((token) => token.id));
    });

    it("lists, searches and renames sessions", () => {
        const listed = listSessions(root);
        expect(listed.length).toBeGreaterThan(0);
        const id = listed.find((session) => session.name === "replay test")!;
        renameSession(id.folder, "renamed");
        expect(listSessions(root, "renamed").map((session) => session.id)).toEqual([id.id]);
        expect(listSessions(root, "no-such-thing")).toEqual([]);
    });

    it("exports CSV, JSON and .npy with numpy-compatible headers and a README", () => {
        const session = openSession(listSessions(root, "renamed")[0]!.folder);
        const target = exportSession(session, path.join(root, "export"));
        expect(fs.readFileSync(path.join(target, "README.md"), "utf8")).toMatch(/tokens\.csv/);
        const tokensCsv = fs.readFileSync(path.join(target, "run-0", "tokens.csv"), "utf8").trim().split("\n");
        expect(tokensCsv[0]).toBe(["index,token_id,piece,logprob,entropy,active_patches,proj:probe@L1,proj:probe@L2,proj:probe@L3,proj:probe@L4",
            ...readoutColumns.map((column) => column.name)].join(","));
        expect(tokensCsv).toHaveLength(session.runs[0]!.tokens.length + 1);
        const bytes = fs.readFileSync(path.join(target, "run-0", "projections.npy"));
        expect(bytes.subarray(0, 6).toString("latin1")).toBe("\x93NUMPY");
        const headerLength = bytes.readUInt16LE(8);
        const header = bytes.subarray(10, 10 + headerLength).toString("latin1");
        expect(header).toMatch(/'descr': '<f4', 'fortran_order': False, 'shape': \(\d+, 4\)/);
        expect((10 + headerLength) % 64).toBe(0);
        const array = decodeNpy(bytes);
        expect(array.shape).toEqual([session.runs[0]!.tokens.length, 4]);
        expect(array.data[4]).toBeCloseTo(session.runs[0]!.tokens[1]!.projections[0]!.dot, 5);
    });

    it("a session whose engine was killed mid-run still opens, with every token recorded before the kill", async () => {
        if (!fs.existsSync(path.join(repoRoot, "dist", "engine", "sessions", "SessionWriter.js")))
            throw new Error("dist/ is missing: run `npm run build:ts` before these tests");
        const crashRoot = path.join(root, "crash");
        const child = spawn(process.execPath, [path.join(repoRoot, "tests", "support", "recordUntilKilled.mjs"), sharedFiles.stories260K, crashRoot],
            { stdio: ["ignore", "pipe", "inherit"] });
        let printed = 0;
        await new Promise<void>((resolve, reject) => {
            child.stdout!.on("data", (chunk: Buffer) => {
                printed += (chunk.toString().match(/token \d+/g) ?? []).length;
                if (printed >= 25) {
                    child.kill("SIGKILL");
                    resolve();
                }
            });
            child.once("exit", (code) => (printed < 25 ? reject(new Error(`the recorder exited early (${code})`)) : resolve()));
        });
        await new Promise((resolve) => child.once("exit", resolve));
        const session = openSession(path.join(crashRoot, "crash"));
        expect(session.runs).toHaveLength(1);
        const run = session.runs[0]!;
        expect(run.end).toBeUndefined();
        expect(run.tokens.length).toBeGreaterThanOrEqual(25);
        expect(run.tokens.map((token) => token.index)).toEqual(run.tokens.map((_, i) => i));
        expect(session.problems.length).toBeLessThanOrEqual(1); // at most the line being written
    });
});
