// The native trainer reads its graph's shape from the metadata file with typed reads; gguf's own
// getters abort the process on a value of another type, so each key's type is checked first. A
// wrong-typed or missing key must come back as an error naming the key, and the addon must go on
// working afterwards.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TillerNativeAddon } from "../../engine/native/AddonTypes.js";
import { getTillerBackend } from "../../engine/runtime/TillerBackend.js";
import type { GgufValueInput } from "../../engine/gguf/GgufWriter.js";
import { BpeTokenizer } from "../../engine/toyworld/bpeTokenizer.js";
import { dialogueText } from "../../engine/toyworld/chatLayout.js";
import { generateCorpus } from "../../engine/toyworld/corpus.js";
import { encodeModelMetadata, modelTensors, type ToyworldShape } from "../../engine/toyworld/modelShape.js";
import { toyworldInitialisation } from "../../engine/toyworld/trainingPolicy.js";

const SHAPE: ToyworldShape = { nLayer: 2, nEmbd: 32, nHead: 2, nFf: 64, contextSize: 64 };

describe("the native trainer's metadata checks", () => {
    let dir: string;
    let addon: TillerNativeAddon;
    let tokenizer: BpeTokenizer;

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-trainer-metadata-"));
        addon = (await getTillerBackend({ gpu: false })).addon;
        tokenizer = BpeTokenizer.train(generateCorpus({ seed: 5, dialogues: 30 }).map(dialogueText), 20);
    }, 60_000);
    afterAll(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const create = (name: string, overrides: Record<string, GgufValueInput>) => {
        const file = path.join(dir, `${name}.gguf`);
        fs.writeFileSync(file, encodeModelMetadata(SHAPE, tokenizer, overrides));
        const names = modelTensors(SHAPE, tokenizer.vocabularySize).map((t) => t.name);
        return addon.createTrainer(file, { seed: 1, threads: 1, contextSize: SHAPE.contextSize, initialisation: toyworldInitialisation(names, SHAPE.nLayer) });
    };

    const cases: Array<[string, Record<string, GgufValueInput>, RegExp]> = [
        ["block count as a string", { "llama.block_count": "2" }, /llama\.block_count as a uint32/],
        ["embedding length as a float", { "llama.embedding_length": { type: "float32", value: 32 } }, /llama\.embedding_length as a uint32/],
        ["rope base as an integer", { "llama.rope.freq_base": { type: "uint32", value: 10000 } }, /llama\.rope\.freq_base as a float32/],
        ["norm epsilon as a float64", { "llama.attention.layer_norm_rms_epsilon": { type: "float64", value: 1e-5 } }, /layer_norm_rms_epsilon as a float32/],
        ["architecture as a number", { "general.architecture": { type: "uint32", value: 1 } }, /llama architecture only/]
    ];
    for (const [label, overrides, message] of cases) {
        it(`refuses ${label}, naming the key`, async () => {
            await expect(create(label.replace(/\W+/g, "-"), overrides)).rejects.toThrow(message);
        });
    }

    it("still trains from correct metadata afterwards (the refusals did not abort or poison the addon)", async () => {
        const trainer = await create("correct", {});
        try {
            const windows = new Int32Array(SHAPE.contextSize + 1).map((_, i) => 3 + (i % 50));
            expect(Number.isFinite(await trainer.evaluate(windows))).toBe(true);
        } finally {
            trainer.dispose();
        }
    });
});
