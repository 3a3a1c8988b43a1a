// The architecture matrix: for each architecture of engine/gguf/RandomArchitectureModel.ts, in F32
// and quantized with `tiller quantize`'s code (Q8_0, Q4_K_M), through the real llama.cpp: load,
// generate, the chat template (node-llama-cpp's Jinja), steering changes the logits and clearing
// restores them bit for bit, capture of every block, an independent recomputation of the logits
// from the captured last block (TypeScript, the file's own output norm and matrix, soft-capping
// included), vector build, α-sweep and detection. plamo2's graph ignores control vectors: every
// steering or capture request on it must be refused with STEERING_UNSUPPORTED.
//
// Each cell of the README's table is recorded here only after its assertions passed; the last test
// renders the table and checks that the README holds exactly it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufFile } from "../../engine/gguf/GgufReader.js";
import { randomArchitectures, writeArchitectureModelFile, type RandomArchitecture } from "../../engine/gguf/RandomArchitectureModel.js";
import { detectFromTranscript, type LibraryVector } from "../../engine/forensics/detectFromTranscript.js";
import { resolveTranscript } from "../../engine/forensics/resolveTranscript.js";
import { susceptibilitySweep } from "../../engine/probes/susceptibilitySweep.js";
import { TillerError } from "../../engine/protocol/TillerError.js";
import { chatPromptLayout } from "../../engine/runtime/chatPrompt.js";
import { generate } from "../../engine/runtime/generate.js";
import { composeControlVector, type SteeringPatch } from "../../engine/runtime/SteeringPatch.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { quantizeModel } from "../../engine/runtime/quantizeModel.js";
import { buildSteeringVector } from "../../engine/vectors/buildSteeringVector.js";
import { readOutputHead, recomputeLogits, relativeMaxDifference } from "../support/recomputeLogits.js";

const N_LAYER = 3;
const N_EMBD = 256; // rows a multiple of 256: K-quants apply without fallback
const types = ["F32", "Q8_0", "Q4_K_M"] as const;
type WeightType = typeof types[number];
const matrixColumns = ["load", "generate", "chat", "steer", "clear", "capture", "logits", "build", "sweep", "detect"] as const;
type Column = typeof matrixColumns[number];

/** Largest relative difference allowed between recomputed and engine logits: ggml rounds activations to the weight's dot type. */
const logitTolerance: Record<WeightType, number> = { F32: 1e-4, Q8_0: 2e-2, Q4_K_M: 2e-2 };

/** Architectures whose llama.cpp graph ignores control vectors (see engine/runtime/knownSteeringSupport.ts). */
const unsupported = new Set<RandomArchitecture>(["plamo2"]);

const chatMarkers: Record<RandomArchitecture, string> = {
    llama: "[/INST]", qwen2: "<|im_start|>assistant\n", qwen3: "<|im_start|>assistant\n", qwen3moe: "<|im_start|>assistant\n",
    gemma2: "<start_of_turn>model\n", phi3: "<|assistant|>\n", plamo2: "<|im_start|>assistant\n"
};

const results = new Map<string, Partial<Record<Column, string>>>();
const record = (row: string, column: Column, value: string) => results.set(row, { ...results.get(row), [column]: value });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-arch-matrix-"));
const pairs = [
    { prompt: "I feel", positive: " happy and glad", negative: " sad and down" },
    { prompt: "Today was", positive: " a great day", negative: " a bad day" },
    { prompt: "The movie was", positive: " wonderful", negative: " terrible" },
    { prompt: "She looked", positive: " joyful", negative: " gloomy" }
];
const prompt = "Once upon a time there was a little girl";

afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
});

function modelFile(arch: RandomArchitecture, type: WeightType): string {
    return path.join(dir, `${arch}-${type.toLowerCase()}.gguf`);
}

/** One direction per steerable block, fixed and sign-alternating, scaled to the residual stream's size. */
function probeVector(nEmbd: number, size: number): SteeringVector {
    const directions = new Map<number, Float32Array>();
    for (let layer = 1; layer < N_LAYER; layer++)
        directions.set(layer, Float32Array.from({ length: nEmbd }, (_, i) => (i % 3 === 0 ? size : -size / 2) * Math.cos(i + layer)));
    return { name: "probe", nEmbd, directions };
}

async function expectRefused(action: () => Promise<unknown>): Promise<void> {
    const error = await action().then(() => undefined, (e: unknown) => e);
    expect(error, "the request was not refused").toBeInstanceOf(TillerError);
    expect((error as TillerError).code).toBe("STEERING_UNSUPPORTED");
    expect((error as TillerError).message).toMatch(/does not support steering.*ignores control vectors/);
}

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
    const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
    const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
    return x.length === y.length && x.every((value, i) => value === y[i]);
}

describe.each(randomArchitectures.map((arch) => [arch]))("%s", (arch) => {
    beforeAll(async () => {
        await writeArchitectureModelFile(modelFile(arch, "F32"), {
            architecture: arch, nLayer: N_LAYER, nEmbd: N_EMBD, nHead: 4, nHeadKv: 2, nFf: 512, nExpert: 4, nExpertUsed: 2,
            // soft-capping small enough to bend the random model's logits, so the check must include it
            finalLogitSoftcap: 2, type: "f32", seed: 11
        });
        await quantizeModel(modelFile(arch, "F32"), modelFile(arch, "Q8_0"), { type: "q8_0", threads: 1 });
        await quantizeModel(modelFile(arch, "F32"), modelFile(arch, "Q4_K_M"), { type: "q4_k_m", threads: 1 });
    }, 120_000);

    describe.each(types.map((type) => [type]))("%s", (type) => {
        const row = `${arch} ${type}`;
        let model: TillerModel;
        let context: TillerContext;
        let tokens: Int32Array;
        const supported = !unsupported.has(arch);

        beforeAll(async () => {
            model = await TillerModel.load(modelFile(arch, type), { gpuLayers: 0 });
            context = await model.createContext({ threads: 1, contextSize: 256, batchSize: 256, sequences: 2, precise: true });
            tokens = model.tokenize(prompt);
        });

        afterAll(async () => {
            await model?.dispose();
        });

        it("loads, with the load-time support check", async () => {
            expect(model.shape).toMatchObject({ architecture: arch, nLayer: N_LAYER, nEmbd: N_EMBD });
            const header = await readGgufFile(modelFile(arch, type), { tensorData: false });
            if (type === "Q4_K_M")
                expect(header.tensors.some((t) => t.typeName === "Q4_K")).toBe(true);
            if (type === "Q8_0")
                expect(header.tensors.some((t) => t.typeName === "Q8_0")).toBe(true);
            expect(model.support).toMatchObject({ steering: supported, capture: supported });
            if (!supported)
                expect(model.support!.message).toMatch(/plamo2.*ignores control vectors/);
            record(row, "load", "✓");
        });

        it("generates", async () => {
            const run = await generate(context, prompt, { maxTokens: 6 }).result;
            // a random model may emit its end-of-generation token early
            expect(run.tokens.length === 6 || run.stopReason === "eog").toBe(true);
            expect(run.tokens.every((token) => Number.isFinite(token.logprob))).toBe(true);
            record(row, "generate", "✓");
        });

        it("lays out a chat with its template (node-llama-cpp's Jinja) and tokenizes its control tokens", async () => {
            const layout = await chatPromptLayout({ chatTemplate: model.chatTemplate, eosText: model.tokenText(model.shape.eos, true) });
            expect(layout.kind).toBe("template");
            const text = layout.prompt("How are you?");
            expect(text).toContain("How are you?");
            // the assistant turn is open: the text ends with the template's opening of it (spaces aside)
            expect(text.trimEnd().endsWith(chatMarkers[arch].trimEnd()), JSON.stringify(text)).toBe(true);
            const special = model.tokenize(text, { special: true });
            const plain = model.tokenize(text, { special: false });
            if (arch !== "llama") // the llama-2 format has no control tokens beyond BOS
                expect(special.length).toBeLessThan(plain.length);
            const run = await generate(context, text, { maxTokens: 3, addBos: false }).result;
            expect(run.tokens.length).toBeGreaterThan(0);
            record(row, "chat", "✓");
        });

        it(supported ? "steering changes the logits; clearing restores them bit for bit" : "refuses steering (STEERING_UNSUPPORTED)", async () => {
            const vector = probeVector(N_EMBD, 0.5);
            const steering = composeControlVector([{ id: "p", vector, strength: 4 }], 0, model.shape);
            if (!supported) {
                await expectRefused(() => context.setSteering(steering));
                await expectRefused(() => generate(context, prompt, { maxTokens: 2, patches: [{ id: "p", vector, strength: 4 }] }).result);
                record(row, "steer", "refused");
                record(row, "clear", "–");
                return;
            }
            await context.clearMemory();
            await context.evaluate(tokens, { startPosition: 0 });
            const clean = context.logits(tokens.length - 1);
            await context.setSteering(steering);
            await context.clearMemory();
            await context.evaluate(tokens, { startPosition: 0 });
            const steered = context.logits(tokens.length - 1);
            expect(relativeMaxDifference(steered, clean)).toBeGreaterThan(1e-2);
            const steeredRun = await generate(context, prompt, { maxTokens: 4, patches: [{ id: "p", vector, strength: 4 }] }).result;
            const cleanRun = await generate(context, prompt, { maxTokens: 4 }).result;
            expect(steeredRun.tokens[0]!.top.map((t) => t.logprob)).not.toEqual(cleanRun.tokens[0]!.top.map((t) => t.logprob));
            record(row, "steer", "✓");

            await context.setSteering(null);
            await context.clearMemory();
            await context.evaluate(tokens, { startPosition: 0 });
            expect(bitsEqual(context.logits(tokens.length - 1), clean)).toBe(true);
            record(row, "clear", "✓");
        });

        it(supported ? "captures every block; the logits recomputed from the last block match the engine's" : "refuses capture", async () => {
            const all = Array.from({ length: N_LAYER }, (_, layer) => layer);
            if (!supported) {
                await expectRefused(() => context.setCapture(all));
                record(row, "capture", "refused");
                record(row, "logits", "–");
                return;
            }
            await context.clearMemory();
            await context.setCapture(all);
            const captured = await context.evaluate(tokens, { startPosition: 0, logits: "last" });
            await context.setCapture([]);
            const engine = context.logits(tokens.length - 1);
            expect([...captured.keys()].sort()).toEqual(all);
            for (const layer of all.slice(0, -1))
                expect(captured.get(layer)!.rows).toBe(tokens.length);
            // llama.cpp keeps only the rows that want logits before the last block
            expect(captured.get(N_LAYER - 1)!.rows).toBe(1);
            expect([...captured.values()].every(({ data }) => data.every(Number.isFinite))).toBe(true);
            record(row, "capture", "✓");

            const head = readOutputHead(await readGgufFile(modelFile(arch, type)));
            const last = captured.get(N_LAYER - 1)!.data;
            const recomputed = recomputeLogits(head, last);
            const difference = relativeMaxDifference(recomputed, engine);
            expect(difference, `${head.matrixName} (${head.matrixType})`).toBeLessThan(logitTolerance[type]);
            // what would make it fail: another block's output, or (gemma2) leaving the soft-cap out
            const previousBlock = captured.get(N_LAYER - 2)!.data.subarray((tokens.length - 1) * N_EMBD, tokens.length * N_EMBD);
            expect(relativeMaxDifference(recomputeLogits(head, previousBlock), engine)).toBeGreaterThan(10 * logitTolerance[type]);
            if (head.softcap != null)
                expect(relativeMaxDifference(recomputeLogits(head, last, { softcap: false }), engine)).toBeGreaterThan(5 * logitTolerance[type]);
            record(row, "logits", "✓");
        });

        let built: SteeringVector | undefined;
        it(supported ? "builds a vector from contrastive pairs" : "refuses to build a vector", async () => {
            if (!supported) {
                await expectRefused(() => buildSteeringVector(context, pairs, { heldOutFraction: 0 }));
                record(row, "build", "refused");
                return;
            }
            const result = await buildSteeringVector(context, pairs, { heldOutFraction: 0 });
            expect([...result.vector.directions.keys()].sort()).toEqual([1, 2]);
            for (const direction of result.vector.directions.values()) {
                expect(direction).toHaveLength(N_EMBD);
                expect(direction.some((value) => value !== 0) && direction.every(Number.isFinite)).toBe(true);
            }
            built = result.vector;
            record(row, "build", "✓");
        });

        it(supported ? "sweeps α: χ is finite and the curves move" : "refuses to sweep", async () => {
            const vector = built ?? probeVector(N_EMBD, 0.5);
            const sweep = () => susceptibilitySweep(context, prompt, " and a big red ball", {
                vector, layers: { first: 1, last: 2 }, alphas: [-2, 0, 2], step: 0.05
            });
            if (!supported) {
                await expectRefused(sweep);
                record(row, "sweep", "refused");
                return;
            }
            const result = await sweep();
            expect(result.tokens.length).toBeGreaterThan(0);
            expect(result.tokens.every((token) => Number.isFinite(token.chi))).toBe(true);
            expect(result.tokens.some((token) => token.logprobs[0] !== token.logprobs[2])).toBe(true);
            record(row, "sweep", "✓");
        });

        it(supported ? "blind detection from a transcript: a hidden patch's text is flagged and named, clean text is not" : "refuses detection", async () => {
            const vector = probeVector(N_EMBD, 0.5);
            const library: LibraryVector[] = [
                { id: "decoy", name: "decoy", vector: { ...vector, name: "decoy",
                    directions: new Map([...vector.directions].map(([layer, d]) => [layer, d.map((x, i) => (i % 2 === 0 ? x : -x))])) } },
                { id: "probe", name: "probe", vector }
            ];
            const write = async (patches: SteeringPatch[]) => {
                const run = await generate(context, prompt, { maxTokens: 12, patches, sampling: { temperature: 0 } }).result;
                return resolveTranscript(model, { prompt, tokens: run.tokens.map((token) => token.id), sampling: { temperature: 0 } });
            };
            if (!supported) {
                const transcript = await write([]);
                await expectRefused(() => detectFromTranscript(context, transcript, library, { nullDraws: 20 }));
                record(row, "detect", "refused");
                return;
            }
            const clean = await detectFromTranscript(context, await write([]), library, { nullDraws: 20 });
            expect(clean).toMatchObject({ steered: false, verdict: "clean" });
            const steered = await detectFromTranscript(context, await write([{ id: "hidden", vector, strength: 8, fromToken: 2 }]), library, { nullDraws: 20 });
            expect(steered).toMatchObject({ steered: true, verdict: "library" });
            expect(steered.best!.vectorId).toBe("probe");
            record(row, "detect", "✓");
        });
    });
});

describe("the README's architecture table", () => {
    it("is the table these tests produced", () => {
        const table = renderMatrixTable();
        const readme = fs.readFileSync(path.resolve(import.meta.dirname, "..", "..", "README.md"), "utf8");
        const start = readme.indexOf("<!-- architecture-matrix:start -->");
        const end = readme.indexOf("<!-- architecture-matrix:end -->");
        const rendered = path.join(os.tmpdir(), "tiller-architecture-matrix.md");
        fs.writeFileSync(rendered, table);
        expect(start, "README.md lacks the architecture-matrix markers").toBeGreaterThan(0);
        expect(readme.slice(start + "<!-- architecture-matrix:start -->".length, end).trim(),
            `the README's table differs from this run's; the run's table is in ${rendered}`).toBe(table.trim());
    });
});

function renderMatrixTable(): string {
    const header = `| architecture | type | ${matrixColumns.join(" | ")} |`;
    const rule = `|${" --- |".repeat(matrixColumns.length + 2)}`;
    const rows = randomArchitectures.flatMap((arch) => types.map((type) => {
        const cells = results.get(`${arch} ${type}`) ?? {};
        return `| ${arch} | ${type} | ${matrixColumns.map((column) => cells[column] ?? "✗").join(" | ")} |`;
    }));
    return [header, rule, ...rows].join("\n") + "\n";
}
