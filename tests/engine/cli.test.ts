// The `tiller` CLI end to end: spawns `node bin/tiller.js` (the compiled dist/ build; run
// `npm run build:ts` first) on stories260K and on files written to a temporary folder.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeControlVectorFile } from "../../engine/gguf/ControlVectorFile.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { expectOneLineError, launcher, runTiller as tiller, type CliResult } from "../support/runTiller.js";
import { sineVector } from "../support/sineVector.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const compiledMain = path.join(repoRoot, "dist", "engine", "cli", "main.js");
const baselineText = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.";
const prompt = "Once upon a time";


interface JsonOutput {
    text: string;
    stopReason: string;
    model: { path: string; shape: { nLayer: number; nEmbd: number; architecture: string } };
    tokens: {
        index: number; id: number; piece: string; logprob: number; entropy: number;
        top: { id: number; piece: string; logprob: number }[];
        activePatches: string[];
        projections: { probe: string; layer: number; dot: number; cosine: number }[];
    }[];
    promptTokens: unknown[];
    patchChanges: { atToken: number; activePatches: string[] }[];
    timings: { loadMs: number; promptMs: number; generationMs: number; tokensPerSecond: number };
}

function parseJson(result: CliResult): JsonOutput {
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    return JSON.parse(lines[0]!) as JsonOutput;
}

beforeAll(() => {
    if (!fs.existsSync(compiledMain))
        throw new Error(`the CLI is not built: ${compiledMain} is missing; run \`npm run build:ts\` before these tests`);
});

describe("the tiller launcher", () => {
    it("finds the compiled CLI (run `npm run build:ts` first)", () => {
        expect(fs.existsSync(compiledMain), `${compiledMain} is missing: run \`npm run build:ts\``).toBe(true);
    });

    it("says to build when dist/ is missing", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-cli-launcher-"));
        try {
            fs.mkdirSync(path.join(dir, "bin"));
            fs.copyFileSync(launcher, path.join(dir, "bin", "tiller.js"));
            fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
            expectOneLineError(await tiller(["--help"], path.join(dir, "bin", "tiller.js")), /npm run build/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("rejects an unknown command or option with one line", async () => {
        expectOneLineError(await tiller(["frobnicate"]), /unknown command/);
        expectOneLineError(await tiller(["generate", "-m", "x.gguf", "-p", "x", "--frobnicate"]), /unknown option/);
        expectOneLineError(await tiller(["generate", "-p", "x"]), /required option '-m, --model <FILE>'/);
        expectOneLineError(await tiller(["generate", "-m", "x.gguf", "-p", "x", "-n", "many"]), /"many" is not a whole number/);
    });

    it("documents every generate option's default", async () => {
        const result = await tiller(["generate", "--help"]);
        expect(result.status).toBe(0);
        for (const option of ["--n-predict", "--temp", "--top-k", "--top-p", "--min-p", "--seed", "--threads", "--ctx-size", "--gpu-layers", "--layers", "--from-token", "--until-token", "--probe-layers"]) {
            const line = result.stdout.split("\n").findIndex((text) => text.includes(option));
            expect(line, option).toBeGreaterThanOrEqual(0);
            const block = result.stdout.split("\n").slice(line, line + 3).join(" ");
            expect(block, option).toMatch(/default/);
        }
    });
});

describe.skipIf(missing(sharedFiles.stories260K))("tiller on stories260K", () => {
    const model = sharedFiles.stories260K;
    let dir: string;
    let sineFile: string;
    const generateArgs = (...extra: string[]) => ["generate", "-m", model, "-p", prompt, "--threads", "1", ...extra];

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-cli-"));
        sineFile = path.join(dir, "sine.gguf");
        const sine = sineVector();
        await writeControlVectorFile(sineFile, { modelHint: "llama", nEmbd: sine.nEmbd, directions: new Map(sine.directions) });
    });
    afterAll(() => {
        if (dir != null)
            fs.rmSync(dir, { recursive: true, force: true });
    });

    it("generates llama.cpp's greedy continuation, and only the continuation", async () => {
        const result = await tiller(generateArgs("-n", "40", "--temp", "0"));
        expect(result.stderr).toBe("");
        expect(result.status).toBe(0);
        expect(result.stdout).toBe(`${baselineText}\n`);
    });

    it("prints one JSON object with --json", async () => {
        const output = parseJson(await tiller(generateArgs("-n", "40", "--json")));
        expect(output.text).toBe(baselineText);
        expect(output.stopReason).toBe("maxTokens");
        expect(output.model.path).toBe(path.resolve(model));
        expect(output.model.shape).toMatchObject({ architecture: "llama", nLayer: 5, nEmbd: 64 });
        expect(output.tokens).toHaveLength(40);
        expect(output.tokens.map((token) => token.piece).join("")).toBe(baselineText);
        const first = output.tokens[0]!;
        expect(Object.keys(first).sort()).toEqual(["activePatches", "entropy", "id", "index", "logprob", "piece", "projections", "readouts", "top"]);
        expect(first.index).toBe(0);
        expect(first.logprob).toBeLessThanOrEqual(0);
        expect(first.entropy).toBeGreaterThanOrEqual(0);
        expect(first.top[0]).toEqual({ id: first.id, piece: first.piece, logprob: first.logprob });
        expect(first.activePatches).toEqual([]);
        expect(output.promptTokens).toHaveLength(5);
        expect(output.patchChanges).toEqual([{ atToken: 0, activePatches: [] }]);
        for (const key of ["loadMs", "promptMs", "generationMs", "tokensPerSecond"] as const)
            expect(output.timings[key]).toBeGreaterThanOrEqual(0);
    });

    it("steers with a control vector exactly as llama.cpp's --control-vector-scaled does", async () => {
        const rows = fs.readFileSync(sharedFiles.parityGreedy, "utf8").trim().split("\n").slice(1).map((row) => row.split("\t"));
        const row = rows.find(([scale, layers]) => scale === "1" && layers === "1-4");
        expect(row).toBeDefined();
        const expected = row![2]!.replace(/\\n/g, "\n").replace(/\n\n$/, "");
        const result = await tiller(generateArgs("-n", "60", "--vector", `${sineFile}:1`, "--layers", "1-4"));
        expect(result.stderr).toBe("");
        expect(result.stdout).not.toBe(`${baselineText}\n`);
        expect(result.stdout).toBe(`${expected}\n`);
    });

    it("takes the scale after the last ':' only when it is a number", async () => {
        const colonFile = path.join(dir, "a:0.5.gguf");
        fs.copyFileSync(sineFile, colonFile);
        const parity = (scale: string) => fs.readFileSync(sharedFiles.parityGreedy, "utf8").split("\n")
            .find((line) => line.startsWith(`${scale}\t1-4\t`))!.split("\t")[2]!.replace(/\\n/g, "\n").replace(/\n\n$/, "");
        const whole = await tiller(generateArgs("-n", "60", "--vector", colonFile));
        expect(whole.stderr).toBe("");
        expect(whole.stdout).toBe(`${parity("1")}\n`);
        const scaled = await tiller(generateArgs("-n", "60", "--vector", `${colonFile}:0.5`));
        expect(scaled.stderr).toBe("");
        expect(scaled.stdout).toBe(`${parity("0.5")}\n`);
    });

    it("--from-token 10 leaves the first 10 tokens as the unsteered run", async () => {
        const plain = parseJson(await tiller(generateArgs("-n", "40", "--json")));
        const steered = parseJson(await tiller(generateArgs("-n", "40", "--json", "--vector", sineFile, "--from-token", "10")));
        const ids = (output: JsonOutput) => output.tokens.map((token) => token.id);
        expect(ids(steered).slice(0, 10)).toEqual(ids(plain).slice(0, 10));
        expect(ids(steered)).not.toEqual(ids(plain));
        expect(steered.tokens[9]!.activePatches).toEqual([]);
        expect(steered.tokens[10]!.activePatches).toEqual(["sine"]);
        expect(steered.patchChanges).toEqual([{ atToken: 0, activePatches: [] }, { atToken: 10, activePatches: ["sine"] }]);
    });

    it("reads projections with --probe and --probe-layers", async () => {
        const output = parseJson(await tiller(generateArgs("-n", "5", "--json", "--probe", sineFile, "--probe-layers", "2-3")));
        expect(output.text).toBe(baselineText.slice(0, output.text.length));
        for (const token of output.tokens) {
            expect(token.projections.map((projection) => [projection.probe, projection.layer])).toEqual([["sine", 2], ["sine", 3]]);
            for (const projection of token.projections)
                expect(Math.abs(projection.cosine)).toBeLessThanOrEqual(1);
        }
    });

    it("describes a model and a control vector with info", async () => {
        const text = await tiller(["info", model]);
        expect(text.status, text.stderr).toBe(0);
        expect(text.stdout).toMatch(/^architecture:\s+llama$/m);
        expect(text.stdout).toMatch(/^layers:\s+5$/m);
        const modelInfo = JSON.parse((await tiller(["info", model, "--json"])).stdout) as Record<string, unknown>;
        expect(modelInfo).toMatchObject({
            kind: "model", architecture: "llama", layers: 5, embeddingLength: 64, heads: 8, headsKv: 4,
            feedForwardLength: 172, vocabSize: 512, contextLength: 2048, parameters: 292_800, hasChatTemplate: false
        });
        const vectorInfo = JSON.parse((await tiller(["info", sineFile, "--json"])).stdout) as { norms: Record<string, number> };
        expect(vectorInfo).toMatchObject({ kind: "controlvector", modelHint: "llama", layers: [1, 2, 3, 4], width: 64 });
        expect(vectorInfo.norms["1"]).toBeGreaterThan(0);
        const vectorText = await tiller(["info", sineFile]);
        expect(vectorText.stdout).toMatch(/^model hint:\s+llama$/m);
    });

    it("makes a random model, describes it, and generates with it", async () => {
        const file = path.join(dir, "random.gguf");
        const made = await tiller(["make-model", "--layers", "3", "--embd", "32", "--heads", "4", "--heads-kv", "2", "--vocab", "300", "--type", "f16", "--seed", "7", "-o", file]);
        expect(made.status, made.stderr).toBe(0);
        expect(made.stdout.trimEnd().split("\n")).toHaveLength(1);
        expect(made.stdout).toContain(file);
        const info = JSON.parse((await tiller(["info", file, "--json"])).stdout) as Record<string, unknown>;
        expect(info).toMatchObject({ kind: "model", architecture: "llama", layers: 3, embeddingLength: 32, heads: 4, headsKv: 2, vocabSize: 300 });
        const output = parseJson(await tiller(["generate", "-m", file, "-p", "hello", "-n", "8", "--json", "--threads", "1"]));
        expect(output.model.shape).toMatchObject({ nLayer: 3, nEmbd: 32 });
        expect(output.tokens.length).toBeGreaterThan(0);
    });

    describe("bad input: one line on stderr, non-zero exit", () => {
        it("a file that is not GGUF", async () => {
            const file = path.join(dir, "notes.gguf");
            fs.writeFileSync(file, "these are not the weights you are looking for\n".repeat(10));
            expectOneLineError(await tiller(["generate", "-m", file, "-p", prompt, "--threads", "1"]), /\[NOT_GGUF\].*notes\.gguf/);
            expectOneLineError(await tiller(["info", file]), /\[NOT_GGUF\].*notes\.gguf/);
        });

        it("GGUF files truncated in the header and in the tensor data", async () => {
            const bytes = fs.readFileSync(model);
            for (const size of [3000, 900_000]) {
                const file = path.join(dir, `truncated-${size}.gguf`);
                fs.writeFileSync(file, bytes.subarray(0, size));
                expectOneLineError(await tiller(["generate", "-m", file, "-p", prompt, "--threads", "1"]), /\[TRUNCATED_FILE\].*truncated/);
                expectOneLineError(await tiller(["info", file]), /\[TRUNCATED_FILE\].*truncated/);
            }
        });

        it("a GGUF version 1 file", async () => {
            const file = path.join(dir, "v1.gguf");
            const bytes = Buffer.alloc(64);
            bytes.write("GGUF", 0, "latin1");
            bytes.writeUInt32LE(1, 4);
            fs.writeFileSync(file, bytes);
            expectOneLineError(await tiller(["generate", "-m", file, "-p", prompt, "--threads", "1"]), /\[UNSUPPORTED_GGUF\].*version 1/);
            expectOneLineError(await tiller(["info", file]), /\[UNSUPPORTED_GGUF\].*v(ersion )?1/);
        });

        it("a missing model file", async () => {
            expectOneLineError(await tiller(["generate", "-m", path.join(dir, "absent.gguf"), "-p", prompt, "--threads", "1"]),
                /\[FILE_NOT_FOUND\].*absent\.gguf/);
        });

        it("a steering vector whose width differs from the model's", async () => {
            const file = path.join(dir, "narrow.gguf");
            await writeControlVectorFile(file, { modelHint: "llama", nEmbd: 32, directions: new Map([[1, new Float32Array(32).fill(0.1)]]) });
            expectOneLineError(await tiller(generateArgs("--vector", file)), /\[VECTOR_MISMATCH\].*narrow.*32.*64|\[VECTOR_MISMATCH\].*narrow.*64.*32/);
        });

        it("a steering vector made for another architecture", async () => {
            const file = path.join(dir, "gpt2-sine.gguf");
            const sine = sineVector();
            await writeControlVectorFile(file, { modelHint: "gpt2", nEmbd: sine.nEmbd, directions: new Map(sine.directions) });
            expectOneLineError(await tiller(generateArgs("--vector", file)), /\[VECTOR_MISMATCH\].*gpt2-sine.*"gpt2"/);
        });

        it("a layer range outside the model", async () => {
            expectOneLineError(await tiller(generateArgs("--vector", sineFile, "--layers", "0-9")), /\[INVALID_LAYER_RANGE\].*0-9/);
        });

        it("a NaN or infinite strength", async () => {
            expectOneLineError(await tiller(generateArgs("--vector", `${sineFile}:nan`)), /"nan"/);
            expectOneLineError(await tiller(generateArgs("--vector", `${sineFile}:inf`)), /"inf"/);
        });

        it("a prompt longer than the context", async () => {
            // llama.cpp rounds the context up to a multiple of 256 cells, so the prompt must exceed 256 tokens
            const long = "Once upon a time there was a little girl named Lily who loved to play outside. ".repeat(12);
            expectOneLineError(await tiller(["generate", "-m", model, "-p", long, "--ctx-size", "32", "--threads", "1"]), /\[PROMPT_TOO_LONG\]/);
        });
    });
});
