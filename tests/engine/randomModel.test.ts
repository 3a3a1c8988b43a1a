// Random-weight llama models written by engine/gguf/RandomModelFile.ts load and run in the real
// llama.cpp (through node-llama-cpp): the tokenizer round-trips text and generation yields tokens.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { getLlama, LlamaCompletion, LlamaLogLevel } from "node-llama-cpp";
import type { Llama } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufFile } from "../../engine/gguf/GgufReader.js";
import { writeRandomModelFile } from "../../engine/gguf/RandomModelFile.js";
import type { RandomModelOptions } from "../../engine/gguf/RandomModelFile.js";

const SHAPES: Array<[string, RandomModelOptions]> = [
    ["tiny 2-layer F32", { nLayer: 2, nEmbd: 32, nHead: 4, nVocab: 300, type: "f32", seed: 1 }],
    ["tiny 2-layer F16", { nLayer: 2, nEmbd: 32, nHead: 4, nVocab: 300, type: "f16", seed: 1 }],
    ["GQA F16 with a larger vocabulary", { nLayer: 3, nEmbd: 64, nHead: 8, nHeadKv: 2, nFf: 96, nVocab: 2000, contextLength: 512, type: "f16", seed: 99 }],
    ["single-block F32", { nLayer: 1, nEmbd: 16, nHead: 2, nVocab: 260, type: "f32", seed: 3 }]
];

describe("random models in llama.cpp", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "tiller-random-model-"));
    let llama: Llama;

    beforeAll(async () => {
        llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
    });

    afterAll(async () => {
        await llama?.dispose();
        rmSync(dir, { recursive: true, force: true });
    });

    it.each(SHAPES)("%s loads, tokenizes and generates", async (label, options) => {
        const modelPath = path.join(dir, `${label.replace(/\W+/g, "-")}.gguf`);
        await writeRandomModelFile(modelPath, options);

        const header = await readGgufFile(modelPath, { tensorData: false });
        expect(header.getNumber("llama.block_count")).toBe(options.nLayer);

        const model = await llama.loadModel({ modelPath });
        try {
            expect(model.fileInsights.totalLayers).toBe(options.nLayer + 1);
            expect(model.tokens.bos).toBe(1);
            expect(model.tokens.eos).toBe(2);

            const tokens = model.tokenize("hello world");
            expect(tokens.length).toBeGreaterThan(0);
            expect(model.detokenize(tokens)).toBe("hello world");
            // Text the vocabulary has no pieces for goes through the byte tokens.
            expect(model.detokenize(model.tokenize("Zürich 42 🦙"))).toBe("Zürich 42 🦙");

            const context = await model.createContext({ threads: 1, contextSize: 256 });
            try {
                const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
                let generated = 0;
                await completion.generateCompletion("Once upon a time", {
                    maxTokens: 8,
                    temperature: 0,
                    onToken: (chunk) => {
                        generated += chunk.length;
                    }
                });
                expect(generated).toBeGreaterThan(0);
            } finally {
                await context.dispose();
            }
        } finally {
            await model.dispose();
        }
    });
});
