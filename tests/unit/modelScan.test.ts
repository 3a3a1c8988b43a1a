// Finding models on disk: a temporary tree imitating Tiller's models/, node-llama-cpp's folder, LM
// Studio (publisher/repo/file.gguf), the Hugging Face cache (snapshot symlinks into blobs/) and
// Ollama (manifests → blobs/sha256-…), filled with a real (tiny, random) GGUF model. Also the
// recommended-model catalog and its validation.
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeRandomModelFile } from "../../engine/gguf/RandomModelFile.js";
import { loadModelCatalog, parseModelCatalog } from "../../engine/models/modelCatalog.js";
import { modelRoots, type ModelRoots } from "../../engine/models/modelRoots.js";
import { parseSplitName, quantizationName } from "../../engine/models/readModelHeader.js";
import { scanModels, type ScannedModel } from "../../engine/models/scanModels.js";
import { TillerError } from "../../engine/protocol/TillerError.js";

const tinyModel = { nLayer: 1, nEmbd: 16, nHead: 2, nVocab: 300, type: "f32", seed: 1 } as const;

let root: string;
let roots: ModelRoots;
let modelBytes: Buffer;
let models: ScannedModel[];

async function put(file: string, data: Uint8Array | string): Promise<string> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, data);
    return file;
}

beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "tiller-model-scan-"));
    const source = path.join(root, "source.gguf");
    await writeRandomModelFile(source, tinyModel);
    modelBytes = await fs.readFile(source);
    const hash = createHash("sha256").update(modelBytes).digest("hex");

    roots = {
        "project": [path.join(root, "project")],
        "node-llama-cpp": [path.join(root, "nlc")],
        "lm-studio": [path.join(root, "lmstudio"), path.join(root, "absent-lmstudio")],
        "huggingface": [path.join(root, "hf")],
        "ollama": [path.join(root, "ollama")]
    };

    // project: a model, a garbage .gguf, a split model in two parts, an orphan part, and files a scan must skip
    await put(path.join(root, "project", "tiny.gguf"), modelBytes);
    await put(path.join(root, "project", "garbage.gguf"), "this is not a model at all");
    await put(path.join(root, "project", "big-00001-of-00002.gguf"), modelBytes);
    await put(path.join(root, "project", "big-00002-of-00002.gguf"), modelBytes);
    await put(path.join(root, "project", "lonely-00002-of-00003.gguf"), modelBytes);
    await put(path.join(root, "project", "broken.gguf.corrupt"), modelBytes);
    await put(path.join(root, "project", "partial.gguf.ipull"), modelBytes.subarray(0, 100));
    await put(path.join(root, "project", "notes.txt"), "not a model");
    await put(path.join(root, "project", "short.gguf"), modelBytes.subarray(0, modelBytes.length - 64));

    // node-llama-cpp's folder: flat files named after the URI
    await put(path.join(root, "nlc", "hf_someone_tiny.F32.gguf"), modelBytes);

    // LM Studio: publisher/repo/file.gguf
    await put(path.join(root, "lmstudio", "publisher", "tiny-repo-GGUF", "tiny-repo.F32.gguf"), modelBytes);

    // Hugging Face cache: snapshot entries are relative symlinks into blobs/ (two revisions, one blob)
    const repo = path.join(root, "hf", "models--org--tiny-name");
    await put(path.join(repo, "blobs", hash), modelBytes);
    for (const revision of ["abc", "def"]) {
        await fs.mkdir(path.join(repo, "snapshots", revision), { recursive: true });
        await fs.symlink(path.join("..", "..", "blobs", hash), path.join(repo, "snapshots", revision, "x.gguf"));
    }
    await put(path.join(repo, "refs", "main"), "abc");
    await put(path.join(root, "hf", "models--org--no-gguf", "snapshots", "abc", "config.json"), "{}");

    // Ollama: two tags of one blob, and a manifest whose blob is missing
    const ollama = path.join(root, "ollama");
    await put(path.join(ollama, "blobs", `sha256-${hash}`), modelBytes);
    const manifest = (digest: string) => JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.docker.distribution.manifest.v2+json",
        config: { mediaType: "application/vnd.docker.container.image.v1+json", digest: "sha256:" + "0".repeat(64), size: 2 },
        layers: [
            { mediaType: "application/vnd.ollama.image.template", digest: "sha256:" + "1".repeat(64), size: 10 },
            { mediaType: "application/vnd.ollama.image.model", digest: `sha256:${digest}`, size: modelBytes.length }
        ]
    });
    const library = path.join(ollama, "manifests", "registry.ollama.ai", "library");
    await put(path.join(library, "tiny", "latest"), manifest(hash));
    await put(path.join(library, "tiny", "1m"), manifest(hash));
    await put(path.join(library, "ghost", "latest"), manifest("f".repeat(64)));
    await put(path.join(ollama, "manifests", "registry.ollama.ai", "someone", "custom", "q8"), "{not json");

    models = await scanModels({ roots });
}, 60_000);

afterAll(async () => {
    if (root != null)
        await fs.rm(root, { recursive: true, force: true });
});

function find(source: string, name: string): ScannedModel {
    const model = models.find((entry) => entry.source === source && entry.name === name);
    expect(model, `${source} ${name} in ${JSON.stringify(models.map((entry) => [entry.source, entry.name]))}`).toBeDefined();
    return model!;
}

function expectTinyShape(model: ScannedModel): void {
    expect(model.problem).toBeNull();
    expect(model.header).toMatchObject({
        architecture: "llama", layers: 1, embeddingLength: 16, heads: 2, headsKv: 2, vocabSize: 300, contextLength: 2048, quantization: "F32"
    });
    expect(model.header!.parameters).toBeGreaterThan(300 * 16);
    expect(model.header!.tensorBytes).toBeLessThanOrEqual(modelBytes.length);
    expect(model.fit).toMatchObject({ basis: "estimate", gpu: null, fitsInRam: true, contextSize: 2048 });
}

describe("scanModels", () => {
    it("lists the project folder's models by name, split models once, and skips non-.gguf files", () => {
        const project = models.filter((model) => model.source === "project").map((model) => model.name).sort();
        expect(project).toEqual(["big", "garbage", "lonely", "short", "tiny"]);
        const tiny = find("project", "tiny");
        expectTinyShape(tiny);
        expect(tiny.path).toBe(path.join(root, "project", "tiny.gguf"));
        expect(tiny.sizeBytes).toBe(modelBytes.length);
        expect(tiny.parts).toBe(1);

        const big = find("project", "big");
        expect(big.parts).toBe(2);
        expect(big.path).toBe(path.join(root, "project", "big-00001-of-00002.gguf"));
        expect(big.sizeBytes).toBe(2 * modelBytes.length);
        expect(big.problem).toBeNull();
        expect(big.header!.parameters).toBe(2 * tiny.header!.parameters);
    });

    it("lists unreadable files with a problem instead of failing", () => {
        expect(find("project", "garbage").problem).toMatch(/GGUF/i);
        expect(find("project", "garbage").header).toBeNull();
        expect(find("project", "short").problem).toMatch(/truncated|ends|short/i);
        expect(find("project", "lonely").problem).toMatch(/2 of 3 parts are missing/);
    });

    it("finds node-llama-cpp's and LM Studio's models", () => {
        expectTinyShape(find("node-llama-cpp", "hf_someone_tiny.F32"));
        const lmStudio = find("lm-studio", "publisher/tiny-repo-GGUF");
        expectTinyShape(lmStudio);
        expect(lmStudio.fileName).toBe("tiny-repo.F32.gguf");
    });

    it("names Hugging Face cache entries org/name and resolves their symlinks into blobs, once per blob", () => {
        const entries = models.filter((model) => model.source === "huggingface");
        expect(entries).toHaveLength(1);
        const hf = entries[0]!;
        expect(hf.name).toBe("org/tiny-name");
        expect(hf.fileName).toBe("x.gguf");
        expect(hf.path).toMatch(/snapshots[/\\]abc[/\\]x\.gguf$/);
        expect(hf.realPath).toMatch(/blobs[/\\][0-9a-f]{64}$/);
        expectTinyShape(hf);
    });

    it("recovers Ollama's name:tag from its manifests and reports a missing blob", () => {
        const ollama = models.filter((model) => model.source === "ollama");
        // the blob is reached through two tags: listed once, the other tag as an alias
        const tiny = ollama.find((model) => model.name === "tiny:1m" || model.name === "tiny:latest")!;
        expect(tiny).toBeDefined();
        expect([tiny.name, ...tiny.aliases].sort()).toEqual(["tiny:1m", "tiny:latest"]);
        expect(tiny.realPath).toMatch(/sha256-[0-9a-f]{64}$/);
        expectTinyShape(tiny);
        expect(find("ollama", "ghost:latest").problem).toMatch(/sha256-f{64}" is missing/);
        expect(find("ollama", "someone/custom:q8").problem).toMatch(/manifest/);
    });

    it("never lists a file twice across sources", () => {
        const paths = models.map((model) => model.realPath);
        expect(new Set(paths).size).toBe(paths.length);
    });

    it("skips the fit estimate on request and treats absent folders as empty", async () => {
        const onlyProject = await scanModels({
            roots: { "project": [path.join(root, "project")], "node-llama-cpp": [], "lm-studio": [], "huggingface": [path.join(root, "nowhere")], "ollama": [] },
            fit: false
        });
        expect(onlyProject.every((model) => model.source === "project" && model.fit === null)).toBe(true);
        expect(onlyProject).toHaveLength(5);
    });
});

describe("modelRoots", () => {
    it("follows node-llama-cpp's, LM Studio's, Hugging Face's and Ollama's defaults under the home folder", () => {
        const home = path.join(root, "home");
        const defaults = modelRoots({ env: { TILLER_MODELS_DIR: path.join(root, "project") }, homeDir: home });
        expect(defaults.project).toEqual([path.join(root, "project")]);
        expect(defaults["node-llama-cpp"]).toEqual([path.join(home, ".node-llama-cpp", "models")]);
        expect(defaults["lm-studio"]).toEqual([path.join(home, ".lmstudio", "models"), path.join(home, ".cache", "lm-studio", "models")]);
        expect(defaults.huggingface).toEqual([path.join(home, ".cache", "huggingface", "hub")]);
        expect(defaults.ollama).toEqual([path.join(home, ".ollama", "models")]);
    });

    it("honours the environment variables, several folders per variable, and options over both", () => {
        const a = path.join(root, "a");
        const b = path.join(root, "b");
        const env = {
            TILLER_LMSTUDIO_MODELS_DIR: [a, b].join(path.delimiter),
            HF_HOME: path.join(root, "hf-home"),
            OLLAMA_MODELS: path.join(root, "ollama-models"),
            TILLER_NODE_LLAMA_CPP_MODELS_DIR: ""
        };
        const resolved = modelRoots({ env, homeDir: root, roots: { ollama: [b] } });
        expect(resolved["lm-studio"]).toEqual([a, b]);
        expect(resolved.huggingface).toEqual([path.join(root, "hf-home", "hub")]);
        expect(resolved["node-llama-cpp"]).toEqual([]);
        expect(resolved.ollama).toEqual([b]);
        expect(modelRoots({ env: { OLLAMA_MODELS: a, HF_HUB_CACHE: b, TILLER_HF_HUB_CACHE: a }, homeDir: root }))
            .toMatchObject({ ollama: [a], huggingface: [a] });
    });
});

describe("model header helpers", () => {
    it("parses split names and names quantizations", () => {
        expect(parseSplitName("Qwen-Q4_K_M-00002-of-00003.gguf")).toEqual({ base: "Qwen-Q4_K_M", part: 2, count: 3 });
        expect(parseSplitName("model.gguf")).toBeUndefined();
        expect(parseSplitName("bad-00004-of-00003.gguf")).toBeUndefined();
        expect(quantizationName(15)).toBe("Q4_K_M");
        expect(quantizationName(0)).toBe("F32");
        expect(quantizationName(1)).toBe("F16");
        expect(quantizationName(null, new Map([["Q8_0", 10], ["F32", 2]]))).toBe("Q8_0");
    });
});

describe("model catalog", () => {
    it("loads models/catalog.json: 4-6 small chat models with hf: URIs, sizes, licences and reasons", async () => {
        const catalog = await loadModelCatalog();
        expect(catalog.models.length).toBeGreaterThanOrEqual(4);
        expect(catalog.models.length).toBeLessThanOrEqual(6);
        for (const entry of catalog.models) {
            expect(entry.uri).toMatch(/^hf:[\w.-]+\/[\w.-]+-GGUF:[A-Z0-9_]+$/i);
            expect(entry.approxSizeBytes).toBeGreaterThan(100e6);
            expect(entry.approxSizeBytes).toBeLessThan(3e9);
            expect(entry.licence.length).toBeGreaterThan(0);
            expect(entry.why.length).toBeGreaterThan(20);
        }
    });

    it("rejects malformed catalogs with the field at fault", () => {
        const good = { id: "x", name: "X", uri: "hf:a/b-GGUF:Q4_K_M", approxSizeBytes: 1, parameters: "1B", licence: "MIT", why: "because" };
        expect(() => parseModelCatalog({ version: 1, models: [{ ...good, uri: "ftp://x" }] })).toThrow(/models\.0\.uri/);
        expect(() => parseModelCatalog({ version: 1, models: [good, good] })).toThrow(/duplicate id/);
        expect(() => parseModelCatalog({ version: 2, models: [good] })).toThrow(TillerError);
        expect(parseModelCatalog({ version: 1, models: [good] }).models[0]!.id).toBe("x");
    });
});
