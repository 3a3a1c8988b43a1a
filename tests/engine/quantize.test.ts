// `tiller quantize` / quantizeModel: llama.cpp's own quantizer through the addon. A random F32
// model (rows a multiple of 256, so K-quants apply without fallback) is quantized to Q8_0 and
// Q4_K_M; the written tensors have the asked-for types, progress covers every tensor, the file
// loads and generates, and its logits differ from the F32 model's by a quantization-sized amount.
// Bad input fails with a clear error and leaves OUT untouched.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufFile } from "../../engine/gguf/GgufReader.js";
import { writeRandomModelFile } from "../../engine/gguf/RandomModelFile.js";
import { writeControlVectorFile } from "../../engine/gguf/ControlVectorFile.js";
import { writeGgufFile } from "../../engine/gguf/GgufWriter.js";
import { tensorValues } from "../../engine/gguf/dequantize.js";
import type { NativeQuantizeProgress } from "../../engine/native/AddonTypes.js";
import { TillerError } from "../../engine/protocol/TillerError.js";
import { parseQuantizationType, quantizeModel } from "../../engine/runtime/quantizeModel.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { expectOneLineError, runTiller } from "../support/runTiller.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-quantize-"));
const f32Path = path.join(dir, "model-f32.gguf");
const compiledMain = path.resolve(import.meta.dirname, "..", "..", "dist", "engine", "cli", "main.js");

beforeAll(async () => {
    await writeRandomModelFile(f32Path, { nLayer: 2, nEmbd: 256, nHead: 4, nFf: 512, nVocab: 512, type: "f32", seed: 7 });
});

afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
});

/** Last-token logits of a short prompt, greedy continuation of 6 tokens. */
async function probe(modelPath: string): Promise<{ logits: Float32Array; text: string }> {
    const model = await TillerModel.load(modelPath, { gpuLayers: 0 });
    try {
        const context = await model.createContext({ threads: 1, contextSize: 64 });
        const prompt = model.tokenize("hello world");
        await context.evaluate(prompt, { logits: "last" });
        const logits = new Float32Array(context.logits(prompt.length - 1));
        const tokens: number[] = [];
        let next = argmax(logits);
        for (let i = 0; i < 6; i++) {
            tokens.push(next);
            await context.evaluate(Int32Array.of(next), { logits: "last" });
            next = argmax(context.logits(0));
        }
        return { logits, text: model.detokenize(tokens) };
    } finally {
        await model.dispose();
    }
}

function argmax(values: ArrayLike<number>): number {
    let best = 0;
    for (let i = 1; i < values.length; i++)
        if (values[i]! > values[best]!)
            best = i;
    return best;
}

function relativeDifference(a: Float32Array, b: Float32Array): number {
    let diff = 0;
    let norm = 0;
    for (let i = 0; i < a.length; i++) {
        diff += (a[i]! - b[i]!) ** 2;
        norm += a[i]! ** 2;
    }
    return Math.sqrt(diff / norm);
}

describe("quantizeModel", () => {
    let reference: { logits: Float32Array; text: string };
    beforeAll(async () => {
        reference = await probe(f32Path);
    });

    it.each([
        ["q8_0", { Q8_0: 2 * 7 + 2 }, 0.02], // every matrix: 7 per block, the embedding and the output,
        ["q4_k_m", { Q4_K: 1, Q6_K: 1 }, 0.3]
    ] as const)("writes %s with llama.cpp's quantizer, progress per tensor, and it runs", async (type, expectedTypes, maxRelativeDiff) => {
        const output = path.join(dir, `model-${type}.gguf`);
        const progress: NativeQuantizeProgress[] = [];
        const result = await quantizeModel(f32Path, output, { type, threads: 1, onProgress: (p) => progress.push(p) });

        const header = await readGgufFile(output, { tensorData: false });
        expect(result.tensorCount).toBe(header.tensors.length);
        expect(result.outputBytes).toBe(fs.statSync(output).size);
        expect(result.outputBytes).toBeLessThan(result.inputBytes / 3);
        // every weight matrix is quantized; norms stay F32
        for (const tensor of header.tensors) {
            if (tensor.dims.length === 1)
                expect(tensor.typeName, tensor.name).toBe("F32");
            else
                expect(tensor.typeName, tensor.name).not.toMatch(/^F(32|16)$/);
        }
        for (const [name, atLeast] of Object.entries(expectedTypes))
            expect(result.tensorTypes[name] ?? 0, `${name} in ${JSON.stringify(result.tensorTypes)}`).toBeGreaterThanOrEqual(atLeast);
        // Q4_K_M is a mix (Q4_K, with Q6_K for some attn_v / ffn_down and the output), as llama.cpp decides
        if (type === "q4_k_m")
            expect(Object.keys(result.tensorTypes).sort()).toEqual(expect.arrayContaining(["F32", "Q4_K", "Q6_K"]));

        expect(progress.length).toBe(header.tensors.length);
        expect(progress.map((p) => p.done)).toEqual(header.tensors.map((_, i) => i + 1));
        expect(new Set(progress.map((p) => p.tensor))).toEqual(new Set(header.tensors.map((t) => t.name)));
        expect(progress.every((p) => p.total === header.tensors.length)).toBe(true);
        expect(fs.readdirSync(dir).filter((name) => name.endsWith(".partial"))).toEqual([]);

        const quantized = await probe(output);
        const difference = relativeDifference(reference.logits, quantized.logits);
        expect(difference).toBeGreaterThan(0); // it really is a different (quantized) model
        expect(difference).toBeLessThan(maxRelativeDiff);
        expect(quantized.text.length).toBeGreaterThan(0);
    });

    it("dequantizes Q8_0, Q4_K and Q6_K back to the F32 weights within their quantization error", async () => {
        const original = await readGgufFile(f32Path);
        const seen = new Set<string>();
        for (const type of ["q8_0", "q4_k_m"]) {
            const quantized = await readGgufFile(path.join(dir, `model-${type}.gguf`));
            for (const tensor of quantized.tensors) {
                if (tensor.typeName === "F32")
                    continue;
                const exact = original.tensorFloat32(tensor.name);
                const values = tensorValues(quantized, tensor.name);
                let error = 0;
                let norm = 0;
                for (let i = 0; i < exact.length; i++) {
                    error += (values[i]! - exact[i]!) ** 2;
                    norm += exact[i]! ** 2;
                }
                // 8 bits: ~0.5% error; 4-bit K-quants ~5%; a wrong block layout gives ~100%
                const bound = { Q8_0: 0.01, Q6_K: 0.03, Q4_K: 0.12 }[tensor.typeName] ?? 0;
                expect(Math.sqrt(error / norm), `${tensor.name} (${tensor.typeName})`).toBeLessThan(bound);
                seen.add(tensor.typeName);
            }
        }
        expect([...seen].sort()).toEqual(["Q4_K", "Q6_K", "Q8_0"]);
    });

    it("names the types it knows, in any spelling", () => {
        expect(parseQuantizationType("Q4_K_M")).toBe("q4_k_m");
        expect(parseQuantizationType("q8-0")).toBe("q8_0");
        expect(() => parseQuantizationType("q7_0")).toThrow(/unknown quantization type "q7_0"; choose one of .*q8_0/);
    });

    async function expectRefusal(input: string, output: string, code: string, pattern: RegExp) {
        const error = await quantizeModel(input, output, { type: "q8_0", threads: 1 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TillerError);
        expect((error as TillerError).code).toBe(code);
        expect((error as TillerError).message).toMatch(pattern);
    }

    it("refuses bad input with a clear error and leaves OUT as it was", async () => {
        const output = path.join(dir, "kept.gguf");
        fs.writeFileSync(output, "previous contents");
        const notGguf = path.join(dir, "notes.txt");
        fs.writeFileSync(notGguf, "not a model");
        await expectRefusal(notGguf, output, "NOT_GGUF", /not a GGUF/);
        await expectRefusal(path.join(dir, "absent.gguf"), output, "FILE_NOT_FOUND", /does not exist/);
        await expectRefusal(f32Path, f32Path, "INVALID_ARGUMENT", /is the input file/);
        await expectRefusal(f32Path, path.join(dir, "no-such-folder", "out.gguf"), "INVALID_ARGUMENT", /folder .* does not exist/);
        await expectRefusal(path.join(dir, "model-q8_0.gguf"), output, "INVALID_ARGUMENT", /already quantized \(\d+ tensors in Q8_0\)/);
        const vector = path.join(dir, "vector.gguf");
        await writeControlVectorFile(vector, { modelHint: "llama", nEmbd: 256, directions: new Map([[1, new Float32Array(256).fill(0.1)]]) });
        await expectRefusal(vector, output, "INVALID_ARGUMENT", /control vector, not a model/);
        const error = await quantizeModel(f32Path, output, { type: "q8_0", threads: 0 }).catch((e: unknown) => e);
        expect((error as TillerError).code).toBe("INVALID_ARGUMENT");
        expect(fs.readFileSync(output, "utf8")).toBe("previous contents");
    });

    it("passes llama.cpp's own reason through when it refuses the file", async () => {
        // a GGUF whose header our checks accept but whose architecture llama.cpp does not know
        const header = await readGgufFile(f32Path);
        const first = header.tensors[0]!;
        const strange = path.join(dir, "strange.gguf");
        await writeGgufFile(strange, {
            metadata: { "general.architecture": "no-such-arch" },
            tensors: [{ name: first.name, dims: first.dims, type: "raw", ggmlType: first.type, bytes: header.tensorBytes(first.name) }]
        });
        const output = path.join(dir, "strange-q8.gguf");
        await expectRefusal(strange, output, "MODEL_LOAD_FAILED", /could not quantize .*strange\.gguf.*: .*no-such-arch/);
        expect(fs.existsSync(output)).toBe(false);
        expect(fs.readdirSync(dir).filter((name) => name.endsWith(".partial"))).toEqual([]);
    });

    it("rejects with the error a progress callback throws, writes nothing, and the next quantization works", async () => {
        const output = path.join(dir, "callback-throws.gguf");
        const thrown = new Error("progress display went away");
        let calls = 0;
        const error = await quantizeModel(f32Path, output, {
            type: "q8_0",
            threads: 1,
            onProgress: () => {
                calls++;
                throw thrown;
            }
        }).catch((e: unknown) => e);
        expect(error).toBe(thrown);
        expect(calls).toBe(1); // later reports are dropped, not thrown again
        expect(fs.existsSync(output)).toBe(false);
        expect(fs.readdirSync(dir).filter((name) => name.endsWith(".partial"))).toEqual([]);
        // the process-wide busy flag was released
        const again = await quantizeModel(f32Path, output, { type: "q8_0", threads: 1 });
        expect(again.tensorCount).toBeGreaterThan(0);
    });
});

describe.runIf(fs.existsSync(compiledMain))("tiller quantize (CLI)", () => {
    it("prints progress on stderr and a summary on stdout", async () => {
        const output = path.join(dir, "cli-q8.gguf");
        const result = await runTiller(["quantize", f32Path, output, "--type", "Q8_0", "--threads", "1"]);
        expect(result.status, result.stderr).toBe(0);
        const tensors = (await readGgufFile(f32Path, { tensorData: false })).tensors.length;
        expect(result.stderr).toContain(`quantizing: ${tensors}/${tensors} tensors`);
        // 2 blocks × 7 matrices + embedding + output are Q8_0; the 2 × 2 + 1 norms stay F32
        expect(result.stdout).toMatch(new RegExp(`^wrote .*cli-q8\\.gguf: q8_0, ${tensors} tensors \\(16 Q8_0, 5 F32\\)`));
    });

    it("fails with one line for an unknown type", async () => {
        expectOneLineError(await runTiller(["quantize", f32Path, path.join(dir, "x.gguf"), "--type", "q9"]), /unknown quantization type "q9"/);
    });
});
