// Downloading models through node-llama-cpp's downloader from a local HTTP server (127.0.0.1, a
// random port; Content-Length and Range/206 like a real file host): progress, cancel and resume,
// damaged downloads caught and moved aside, and the backend report. The server
// (tests/support/rangeFileServer.ts) serves a generated model and stops itself.
import { createHash } from "node:crypto";
import fs from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeRandomModelFile } from "../../engine/gguf/RandomModelFile.js";
import { backendInfo, loadedModelInfo } from "../../engine/models/backendInfo.js";
import { downloadModel, type DownloadProgress } from "../../engine/models/downloadModel.js";
import { scanModels } from "../../engine/models/scanModels.js";
import { TillerError } from "../../engine/protocol/TillerError.js";
import { getTillerBackend } from "../../engine/runtime/TillerBackend.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { startRangeFileServer, type RangeFileServer } from "../support/rangeFileServer.js";

/** ipull (node-llama-cpp's downloader) resumes whole chunks of this size */
const IPULL_CHUNK = 5 * 1024 * 1024;
const SERVER_LIFETIME_MS = 90_000;

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const onlyFolder = (dir: string) => ({ roots: { "project": [dir], "node-llama-cpp": [], "lm-studio": [], "huggingface": [], "ollama": [] }, fit: false });

async function expectTillerError(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<TillerError> {
    const error = await promise.then(() => undefined, (caught: unknown) => caught);
    expect(error, "expected a TillerError").toBeInstanceOf(TillerError);
    expect((error as TillerError).code, (error as Error).message).toBe(code);
    expect((error as Error).message).toMatch(pattern);
    return error as TillerError;
}

describe("downloadModel", () => {
    let dir: string;
    let server: RangeFileServer;
    let small: Buffer;
    let large: Buffer;

    beforeAll(async () => {
        dir = await mkdtemp(path.join(os.tmpdir(), "tiller-models-"));
        const smallPath = path.join(dir, "small-source.bin");
        const largePath = path.join(dir, "large-source.bin");
        await writeRandomModelFile(smallPath, { nLayer: 2, nEmbd: 64, nHead: 4, nVocab: 400, type: "f32", seed: 7 });
        // over two ipull chunks, so a cancelled download keeps whole chunks to resume from
        await writeRandomModelFile(largePath, { nLayer: 2, nEmbd: 256, nHead: 4, nVocab: 2000, type: "f32", seed: 8 });
        small = await readFile(smallPath);
        large = await readFile(largePath);
        await rm(smallPath);
        await rm(largePath);
        expect(large.length).toBeGreaterThan(2 * IPULL_CHUNK);
        server = await startRangeFileServer({}, { lifetimeMs: SERVER_LIFETIME_MS }); // never outlives the tests
    });

    afterAll(async () => {
        await server?.close();
        if (dir != null)
            await rm(dir, { recursive: true, force: true });
    });

    it("downloads with increasing progress up to the total, then checks size, header and sha256", async () => {
        server.set("small.gguf", { body: small });
        const target = path.join(dir, "plain");
        const events: DownloadProgress[] = [];
        const result = await downloadModel(server.url("small.gguf"), { directory: target, sha256: sha256(small), onProgress: (progress) => events.push(progress) });
        expect(result.path).toBe(path.join(target, "small.gguf"));
        expect(result.files).toEqual([result.path]);
        expect(result.sizeBytes).toBe(small.length);
        expect(result.sha256).toBe(sha256(small));
        expect(sha256(await readFile(result.path))).toBe(sha256(small));
        expect(events.length).toBeGreaterThan(0);
        for (let index = 1; index < events.length; index++)
            expect(events[index]!.downloaded).toBeGreaterThanOrEqual(events[index - 1]!.downloaded);
        expect(events.at(-1)).toEqual({ downloaded: small.length, total: small.length });
        const listed = await scanModels(onlyFolder(target));
        expect(listed.map((model) => [model.name, model.problem])).toEqual([["small", null]]);
    });

    it("cancels mid-way, keeps the partial file, and resumes from the completed chunks", async () => {
        server.set("large.gguf", { body: large, delayMs: 4 });
        const target = path.join(dir, "resume");
        const partial = path.join(target, "large.gguf.ipull");
        const controller = new AbortController();
        let events = 0;
        const started = performance.now();
        const cancelled = downloadModel(server.url("large.gguf"), {
            directory: target,
            signal: controller.signal,
            onProgress: () => {
                events++;
                // ipull appends its progress record after the data once a chunk is complete: stop then
                const size = fs.existsSync(partial) ? fs.statSync(partial).size : 0;
                if (size > large.length || events > 5000 || performance.now() - started > 20_000)
                    controller.abort();
            }
        });
        await expectTillerError(cancelled, "ABORTED", /cancelled.*partial file was kept/);
        expect(events).toBeGreaterThan(0);
        expect(fs.existsSync(partial)).toBe(true);
        expect(fs.existsSync(path.join(target, "large.gguf"))).toBe(false);
        expect(await scanModels(onlyFolder(target))).toEqual([]);

        const firstAttempt = server.rangeBytes("large.gguf");
        expect(firstAttempt).toBeLessThan(large.length);
        server.set("large.gguf", { body: large });
        const rangesBefore = server.ranges("large.gguf").length;
        const progress: DownloadProgress[] = [];
        const result = await downloadModel(server.url("large.gguf"), { directory: target, sha256: sha256(large), onProgress: (event) => progress.push(event) });
        expect(sha256(await readFile(result.path))).toBe(sha256(large));
        expect(fs.existsSync(partial)).toBe(false);
        // the resumed download skipped the completed chunk(s): it fetched less than the whole file,
        // and its first progress event already counts what was kept
        const secondAttempt = server.rangeBytes("large.gguf") - firstAttempt;
        const secondRanges = server.ranges("large.gguf").slice(rangesBefore);
        expect(secondAttempt, `ranges asked for: ${secondRanges.join(", ")}`).toBeLessThan(large.length);
        expect(progress[0]!.downloaded).toBeGreaterThan(0);
        expect(progress[0]!.downloaded + secondAttempt).toBeGreaterThanOrEqual(large.length);
        expect((await scanModels(onlyFolder(target))).map((model) => model.name)).toEqual(["large"]);
    });

    it("moves a download whose sha256 does not match aside and does not list it", async () => {
        const corrupted = Buffer.from(small);
        for (let offset = corrupted.length - 4000; offset < corrupted.length; offset += 97)
            corrupted[offset] = corrupted[offset]! ^ 0xff; // damage weights, keep the header
        server.set("corrupted.gguf", { body: corrupted });
        const target = path.join(dir, "corrupted");
        await expectTillerError(downloadModel(server.url("corrupted.gguf"), { directory: target, sha256: sha256(small) }),
            "TRUNCATED_FILE", /sha256 is [0-9a-f]{64}, expected [0-9a-f]{64}; moved aside as ".*corrupted\.gguf\.corrupt"/);
        expect(fs.existsSync(path.join(target, "corrupted.gguf"))).toBe(false);
        expect(fs.existsSync(path.join(target, "corrupted.gguf.corrupt"))).toBe(true);
        expect(await scanModels(onlyFolder(target))).toEqual([]);
    });

    it("moving a failed download aside never replaces an existing file: earlier .corrupt files stay byte for byte", async () => {
        const corrupted = Buffer.from(small);
        corrupted[corrupted.length - 100] = corrupted[corrupted.length - 100]! ^ 0xff;
        server.set("kept.gguf", { body: corrupted });
        const target = path.join(dir, "kept");
        fs.mkdirSync(target, { recursive: true });
        // files already under the names the quarantine would pick first (a user's own, an earlier failure)
        fs.writeFileSync(path.join(target, "kept.gguf.corrupt"), "the user's own file");
        fs.writeFileSync(path.join(target, "kept.gguf.corrupt-2"), "an earlier failed download");
        await expectTillerError(downloadModel(server.url("kept.gguf"), { directory: target, sha256: sha256(small) }),
            "TRUNCATED_FILE", /moved aside as ".*kept\.gguf\.corrupt-3"/);
        await expectTillerError(downloadModel(server.url("kept.gguf"), { directory: target, sha256: sha256(small) }),
            "TRUNCATED_FILE", /moved aside as ".*kept\.gguf\.corrupt-4"/);
        expect(fs.readFileSync(path.join(target, "kept.gguf.corrupt"), "utf8")).toBe("the user's own file");
        expect(fs.readFileSync(path.join(target, "kept.gguf.corrupt-2"), "utf8")).toBe("an earlier failed download");
        expect(sha256(fs.readFileSync(path.join(target, "kept.gguf.corrupt-3")))).toBe(sha256(corrupted));
        expect(sha256(fs.readFileSync(path.join(target, "kept.gguf.corrupt-4")))).toBe(sha256(corrupted));
        expect(fs.existsSync(path.join(target, "kept.gguf"))).toBe(false);
    });

    it("catches a truncated body and a body that is not a model", async () => {
        server.set("truncated.gguf", { body: small.subarray(0, Math.floor(small.length * 0.6)) });
        server.set("page.gguf", { body: Buffer.from("<html><body>Sign in to download</body></html>") });
        const target = path.join(dir, "bad");
        await expectTillerError(downloadModel(server.url("truncated.gguf"), { directory: target }), "TRUNCATED_FILE", /truncated/);
        await expectTillerError(downloadModel(server.url("page.gguf"), { directory: target }), "NOT_GGUF", /not a GGUF/);
        await expectTillerError(downloadModel(server.url("small-but-wrong-size.gguf"), { directory: target }), "FILE_NOT_FOUND", /404/);
        server.set("sized.gguf", { body: small });
        await expectTillerError(downloadModel(server.url("sized.gguf"), { directory: target, expectedSizeBytes: small.length + 1 }), "TRUNCATED_FILE", /expected/);
        expect(await scanModels(onlyFolder(target))).toEqual([]);
        expect(fs.readdirSync(target).sort()).toEqual(["page.gguf.corrupt", "sized.gguf.corrupt", "truncated.gguf.corrupt"]);
    });

    it("rejects bad arguments before touching the network", async () => {
        await expectTillerError(downloadModel("ftp://example.com/x.gguf"), "INVALID_ARGUMENT", /not a model URI/);
        await expectTillerError(downloadModel(server.url("small.gguf"), { sha256: "abc" }), "INVALID_ARGUMENT", /SHA-256/);
        const controller = new AbortController();
        controller.abort();
        await expectTillerError(downloadModel(server.url("small.gguf"), { directory: dir, signal: controller.signal }), "ABORTED", /before it started/);
    });
});

describe("backendInfo", () => {
    it("reports the usable backends, the loaded one, its memory, and what a loaded model got", async () => {
        const backend = await getTillerBackend();
        const info = await backendInfo(backend);
        expect(info.usable).toContain("cpu");
        expect(info.usable).toContain(info.loaded.backend);
        expect(info.installedBinaries.length).toBeGreaterThan(0);
        expect(info.ram.total).toBeGreaterThan(0);
        expect(info.loaded.llamaCppRelease).toMatch(/\w/);
        expect(info.loaded.defaultThreads).toBeGreaterThanOrEqual(1);
        if (info.loaded.backend === "cpu") {
            expect(info.vram).toBeNull();
            expect(info.devices).toEqual([]);
        } else {
            expect(info.vram!.total).toBeGreaterThan(0);
            expect(info.devices.length).toBeGreaterThan(0);
        }

        const dir = await mkdtemp(path.join(os.tmpdir(), "tiller-backend-"));
        try {
            const file = path.join(dir, "tiny.gguf");
            await writeRandomModelFile(file, { nLayer: 2, nEmbd: 32, nHead: 4, nVocab: 300, type: "f32", seed: 2 });
            const model = await TillerModel.load(file, {}, backend);
            try {
                const loaded = loadedModelInfo(model);
                expect(loaded.nLayer).toBe(2);
                expect(loaded.backend).toBe(info.loaded.backend);
                if (loaded.backend === "cpu")
                    expect(loaded).toMatchObject({ gpuLayers: 0, offloadedBlocks: 0, outputOnGpu: false, fullyOffloaded: false });
                else
                    expect(loaded.fullyOffloaded).toBe(true); // a tiny model fits whole
                expect(loaded.sizeBytes).toBeGreaterThan(0);
            } finally {
                await model.dispose();
            }

            // the scan's fit estimate through node-llama-cpp's GgufInsights on this backend
            const [scanned] = await scanModels({ roots: { "project": [dir], "node-llama-cpp": [], "lm-studio": [], "huggingface": [], "ollama": [] }, backend });
            expect(scanned!.fit).toMatchObject({ basis: "node-llama-cpp", fitsInRam: true });
            expect(scanned!.fit!.ramBytes).toBeGreaterThan(0);
            if (info.loaded.backend === "cpu")
                expect(scanned!.fit!.gpu).toBeNull();
            else
                expect(scanned!.fit!.gpu!.fitsInGpu).toBe(true);
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });
});
