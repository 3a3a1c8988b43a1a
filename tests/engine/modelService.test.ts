// The models.*, backends.info and model.load-backend requests through the real RPC server: a scan of
// temporary project and LM Studio folders (the environment points every source there), the catalog,
// a download from a loopback HTTP server with progress events, a cancel over the RPC and a resumed
// second attempt, the download folder's checks, and what a load with a backend choice reports.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeRandomModelFile } from "../../engine/gguf/RandomModelFile.js";
import { modelRootEnvVars } from "../../engine/models/modelRoots.js";
import { EngineService } from "../../engine/service/EngineService.js";
import { InProcessRpcClient } from "../support/inProcessRpc.js";
import { startRangeFileServer } from "../support/rangeFileServer.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

describe.skipIf(missing(sharedFiles.stories260K))("models and backends requests", () => {
    let dir: string;
    let service: EngineService;
    let client: InProcessRpcClient;
    const savedEnv: Record<string, string | undefined> = {};

    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-model-rpc-"));
        // every scan source points into the temporary folder (or is skipped)
        const env: Record<string, string> = {
            [modelRootEnvVars.project]: path.join(dir, "project"),
            [modelRootEnvVars["node-llama-cpp"]]: "",
            [modelRootEnvVars["lm-studio"]]: path.join(dir, "lmstudio"),
            [modelRootEnvVars.huggingface]: "",
            [modelRootEnvVars.ollama]: ""
        };
        for (const [name, value] of Object.entries(env)) {
            savedEnv[name] = process.env[name];
            process.env[name] = value;
        }
        fs.mkdirSync(path.join(dir, "project"), { recursive: true });
        fs.copyFileSync(sharedFiles.stories260K, path.join(dir, "project", "stories260K.gguf"));
        fs.writeFileSync(path.join(dir, "project", "notes.gguf"), "these are notes, not a model");
        fs.mkdirSync(path.join(dir, "lmstudio", "karpathy", "tinyllamas"), { recursive: true });
        fs.copyFileSync(sharedFiles.stories260K, path.join(dir, "lmstudio", "karpathy", "tinyllamas", "stories-copy.gguf"));
        fs.appendFileSync(path.join(dir, "lmstudio", "karpathy", "tinyllamas", "stories-copy.gguf"), Buffer.alloc(32)); // another file, not a duplicate
        service = new EngineService({ dataDir: path.join(dir, "data"), threads: 1 });
        client = new InProcessRpcClient(service);
    });

    afterAll(async () => {
        await client?.close();
        await service?.dispose();
        for (const [name, value] of Object.entries(savedEnv)) {
            if (value == null)
                delete process.env[name];
            else
                process.env[name] = value;
        }
        if (dir != null)
            fs.rmSync(dir, { recursive: true, force: true });
    });

    it("scans the project and LM Studio folders: shape, quantization, size, fit, problems", async () => {
        const scan = await client.request("models.scan", {});
        expect(scan.modelsDir).toBe(path.join(dir, "project"));
        const byName = new Map(scan.models.map((model) => [`${model.source}:${model.name}`, model]));
        expect([...byName.keys()].sort()).toEqual(["lm-studio:karpathy/tinyllamas", "project:notes", "project:stories260K"]);
        const stories = byName.get("project:stories260K")!;
        expect(stories).toMatchObject({ architecture: "llama", layers: 5, embeddingLength: 64, problem: null, fileName: "stories260K.gguf", sizeBytes: fs.statSync(sharedFiles.stories260K).size });
        expect(stories.quantization).toMatch(/\w/);
        expect(stories.fit?.fitsInRam).toBe(true);
        expect(stories.fit!.ramBytes).toBeGreaterThan(0);
        expect(byName.get("project:notes")!.problem).toMatch(/GGUF/);
        expect(byName.get("lm-studio:karpathy/tinyllamas")!.path).toBe(path.join(dir, "lmstudio", "karpathy", "tinyllamas", "stories-copy.gguf"));
    });

    it("lists the catalog", async () => {
        const catalog = await client.request("models.catalog", {});
        expect(catalog.models.length).toBeGreaterThanOrEqual(3);
        for (const entry of catalog.models)
            expect(entry.uri).toMatch(/^(hf:|https?:)/);
    });

    it("downloads with progress, cancels over the RPC, resumes, and checks the folder it is given", async () => {
        const source = path.join(dir, "large-source.bin");
        // over two of ipull's 5 MiB chunks, so the cancelled attempt keeps whole chunks
        await writeRandomModelFile(source, { nLayer: 2, nEmbd: 256, nHead: 4, nVocab: 2000, type: "f32", seed: 3 });
        const body = fs.readFileSync(source);
        fs.rmSync(source);
        const server = await startRangeFileServer({ "large.gguf": { body, delayMs: 3 } });
        try {
            const partial = path.join(dir, "project", "large.gguf.ipull");
            const first = client.start("models.download", { uri: server.url("large.gguf") });
            // cancel once ipull has written its first complete chunk (it appends its progress record then)
            const started = Date.now();
            while (!(fs.existsSync(partial) && fs.statSync(partial).size > body.length) && Date.now() - started < 30_000)
                await new Promise((resolve) => setTimeout(resolve, 20));
            client.cancel(first.id);
            await expect(first.result).rejects.toMatchObject({ code: "ABORTED", message: expect.stringContaining("partial file was kept") });
            const firstProgress = client.events.filter((entry) => entry.event === "progress" && entry.data.requestId === first.id);
            expect(firstProgress.length).toBeGreaterThan(1);
            expect(fs.existsSync(path.join(dir, "project", "large.gguf"))).toBe(false);
            const sentBefore = server.rangeBytes("large.gguf");

            server.set("large.gguf", { body });
            const sha256 = createHash("sha256").update(body).digest("hex");
            const second = client.start("models.download", { uri: server.url("large.gguf"), sha256 });
            const result = await second.result;
            expect(result).toEqual({ path: path.join(dir, "project", "large.gguf"), files: [path.join(dir, "project", "large.gguf")], sizeBytes: body.length, sha256 });
            expect(server.rangeBytes("large.gguf") - sentBefore, "the resumed download fetched less than the whole file").toBeLessThan(body.length);
            const progress = client.events.filter((entry) => entry.event === "progress" && entry.data.requestId === second.id).map((entry) => entry.data);
            for (let index = 1; index < progress.length; index++)
                expect(progress[index]!.done).toBeGreaterThanOrEqual(progress[index - 1]!.done);
            expect(progress.at(-1)).toMatchObject({ done: body.length, total: body.length });
            expect((await client.request("models.scan", {})).models.some((model) => model.name === "large" && model.problem == null)).toBe(true);

            expect(await client.failure("models.download", { uri: server.url("large.gguf"), directory: "models" })).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("absolute") });
            expect(await client.failure("models.download", { uri: server.url("large.gguf"), directory: path.join(dir, "absent") })).toMatchObject({ code: "FILE_NOT_FOUND" });
            expect(await client.failure("models.download", { uri: server.url("large.gguf"), fileName: "../escape.gguf" })).toMatchObject({ code: "INVALID_ARGUMENT" });
            expect(await client.failure("models.download", { uri: "ftp://example.com/x.gguf" })).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("not a model URI") });
        } finally {
            await server.close();
        }
    }, 120_000);

    it("reports the backends and the choices model.load accepts here", async () => {
        const info = await client.request("backends.info", {});
        expect(info.usable).toContain("cpu");
        expect(info.usable).toContain(info.loaded.backend);
        expect(info.choices.map((choice) => choice.choice)).toEqual(["auto", "cpu", "cuda", "vulkan", "metal"]);
        for (const choice of info.choices) {
            const expected = choice.choice === "auto" || choice.choice === "cpu" || choice.choice === info.loaded.backend;
            expect(choice.available, choice.choice).toBe(expected);
            expect(choice.reason == null, choice.choice).toBe(expected);
        }
        const refused = info.choices.find((choice) => !choice.available);
        if (refused != null) {
            const error = await client.failure("model.load", { path: sharedFiles.stories260K, backend: refused.choice, threads: 1 });
            expect(error).toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining(refused.reason!) });
        }
    });

    it("a load on the CPU reports what it got: no layers offloaded, memory read after the load", async () => {
        const loaded = await client.request("model.load", { path: sharedFiles.stories260K, backend: "cpu", gpuLayers: 3, contextSize: 256, threads: 1 });
        expect(loaded.gpuLayers).toBe(0);
        expect(loaded.placement).toMatchObject({ requestedBackend: "cpu", backend: "cpu", gpuLayers: 0, nLayer: 5, offloadedBlocks: 0, outputOnGpu: false, weightsBytes: loaded.shape.sizeBytes });
        expect(loaded.placement!.rssGrowthBytes).toBeGreaterThanOrEqual(0);
        const auto = await client.request("model.load", { path: sharedFiles.stories260K, contextSize: 256, threads: 1 });
        expect(auto.placement!.requestedBackend).toBe("auto");
        expect(auto.placement!.offloadedBlocks).toBe(Math.min(auto.placement!.gpuLayers, 5));
        expect((await client.request("engine.info", {})).model?.placement?.requestedBackend).toBe("auto");
        await client.request("model.unload", {});
    });
});
