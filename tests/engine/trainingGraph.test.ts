// The trainer's own ggml graph (engine/native/src/training_graph.cc) is llama.cpp's model: after a
// few training steps, the file it saves, loaded into the real llama.cpp, gives the same logits on
// the same window as the graph's forward pass; and training moves every weight, the K and V
// projections and the token embeddings included (llama_opt_epoch, which trained through the KV
// cache, left them exactly as drawn). A small llama model from the toy world's metadata writer,
// 1 thread.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufFile } from "../../engine/gguf/GgufReader.js";
import type { NativeTrainer, TillerNativeAddon } from "../../engine/native/AddonTypes.js";
import { getTillerBackend } from "../../engine/runtime/TillerBackend.js";
import { BpeTokenizer } from "../../engine/toyworld/bpeTokenizer.js";
import { dialogueText, promptText } from "../../engine/toyworld/chatLayout.js";
import { generateCorpus, systemFor } from "../../engine/toyworld/corpus.js";
import { encodeModelMetadata, modelTensors, type ToyworldShape } from "../../engine/toyworld/modelShape.js";
import { toyworldInitialisation, toyworldOptimizer } from "../../engine/toyworld/trainingPolicy.js";
import { cutWindows, replyFlaggedStream, tokenStream, type WindowSet } from "../../engine/toyworld/trainingWindows.js";

const SHAPE: ToyworldShape = { nLayer: 2, nEmbd: 64, nHead: 4, nFf: 96, contextSize: 256 };
const STEPS = 40;

/**
 * mean cross-entropy of next-token prediction: rows × nVocab logits, row i predicts window[i + 1];
 * with `counts`, over the rows flagged 1 only
 */
function meanCrossEntropy(logits: Float32Array, nVocab: number, window: Int32Array, counts?: Uint8Array): number {
    let sum = 0;
    let rows = 0;
    for (let i = 0; i < window.length - 1; i++) {
        if (counts != null && counts[i] === 0)
            continue;
        rows++;
        const row = logits.subarray(i * nVocab, (i + 1) * nVocab);
        let max = -Infinity;
        for (const v of row) max = Math.max(max, v);
        let z = 0;
        for (const v of row) z += Math.exp(v - max);
        sum += max + Math.log(z) - row[window[i + 1]!]!;
    }
    return sum / rows;
}

function std(values: Float32Array): number {
    let mean = 0;
    for (const v of values) mean += v;
    mean /= values.length;
    let variance = 0;
    for (const v of values) variance += (v - mean) ** 2;
    return Math.sqrt(variance / values.length);
}

describe("the trainer's own training graph", () => {
    let dir: string;
    let addon: TillerNativeAddon;
    let trainer: NativeTrainer;
    let windows: Int32Array;
    let replyWindows: WindowSet;
    let nVocab: number;
    let initialFile: string;
    let trainedFile: string;
    const width = SHAPE.contextSize + 1;

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-training-graph-"));
        addon = (await getTillerBackend({ gpu: false })).addon;
        const dialogues = generateCorpus({ seed: 3, dialogues: 300 });
        const texts = dialogues.map(dialogueText);
        const tokenizer = BpeTokenizer.train(texts, 60);
        nVocab = tokenizer.vocabularySize;
        const metadataPath = path.join(dir, "metadata.gguf");
        fs.writeFileSync(metadataPath, encodeModelMetadata(SHAPE, tokenizer));
        const names = modelTensors(SHAPE, nVocab).map((t) => t.name);
        trainer = await addon.createTrainer(metadataPath, { seed: 5, threads: 1, contextSize: SHAPE.contextSize, initialisation: toyworldInitialisation(names, SHAPE.nLayer) });
        const all = cutWindows(tokenStream(texts, tokenizer), SHAPE.contextSize);
        expect(all.count).toBeGreaterThan(STEPS + 2);
        windows = all.windows;
        replyWindows = cutWindows(replyFlaggedStream(dialogues.map((d) => ({ prompt: promptText(d.user, systemFor(d.mode)), reply: d.assistant })), tokenizer), SHAPE.contextSize);
        initialFile = path.join(dir, "initial.gguf");
        trainer.save(initialFile);
        await trainer.train(windows.subarray(0, STEPS * width), toyworldOptimizer({ start: 1e-2, end: 1e-3, totalSteps: STEPS }, 0, STEPS), () => {});
        trainedFile = path.join(dir, "trained.gguf");
        trainer.save(trainedFile);
    }, 120_000);
    afterAll(() => {
        trainer?.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("computes llama.cpp's forward pass: the saved model, loaded in llama.cpp, gives the graph's logits on held-out windows", async () => {
        const model = await addon.loadModel(trainedFile, 0, false);
        const context = await addon.createContext(model, { contextSize: SHAPE.contextSize, batchSize: SHAPE.contextSize, sequences: 1, threads: 1, threadsBatch: 1, precise: true });
        try {
            const positions = Int32Array.from({ length: SHAPE.contextSize }, (_, i) => i);
            const llamaLogits = async (tokens: Int32Array) => {
                context.memoryClear();
                await context.decode(tokens, positions, new Int32Array(SHAPE.contextSize), new Uint8Array(SHAPE.contextSize).fill(1));
                const out = new Float32Array(SHAPE.contextSize * nVocab);
                for (let i = 0; i < SHAPE.contextSize; i++) out.set(context.logits(i), i * nVocab);
                return out;
            };
            // windows the 40 steps never trained on
            for (const w of [STEPS, STEPS + 1]) {
                const window = windows.subarray(w * width, (w + 1) * width);
                const tokens = window.subarray(0, SHAPE.contextSize);
                const ours = trainer.logits(tokens);
                const theirs = await llamaLogits(tokens);
                let maxDiff = 0, maxAbs = 0;
                for (let i = 0; i < ours.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
                    maxAbs = Math.max(maxAbs, Math.abs(theirs[i]!));
                }
                const lossOurs = meanCrossEntropy(ours, nVocab, window);
                const lossTheirs = meanCrossEntropy(theirs, nVocab, window);
                const lossTrainer = await trainer.evaluate(window);
                console.log(`window ${w}: max |logit difference| ${maxDiff.toExponential(2)} (logits up to ${maxAbs.toFixed(2)}); ` +
                    `cross-entropy llama.cpp ${lossTheirs.toFixed(6)}, graph ${lossOurs.toFixed(6)}, trainer.evaluate ${lossTrainer.toFixed(6)}`);
                // the model has learnt something (its logits are not near-uniform), so the comparison has teeth
                expect(maxAbs).toBeGreaterThan(3);
                expect(maxDiff).toBeLessThan(1e-3);
                expect(Math.abs(lossOurs - lossTheirs)).toBeLessThan(1e-5);
                expect(Math.abs(lossTrainer - lossTheirs)).toBeLessThan(1e-4);
                // the tolerance tells windows apart: another window's logits are far outside it
                const other = await llamaLogits(windows.subarray((w + 5) * width, (w + 5) * width + SHAPE.contextSize));
                let otherDiff = 0;
                for (let i = 0; i < ours.length; i++) otherDiff = Math.max(otherDiff, Math.abs(ours[i]! - other[i]!));
                expect(otherDiff).toBeGreaterThan(1);
            }
        } finally {
            context.dispose();
            model.dispose();
        }
    }, 60_000);

    it("trains every weight, the K and V projections and the token embeddings included", async () => {
        const initial = await readGgufFile(initialFile);
        const trained = await readGgufFile(trainedFile);
        const rows: string[] = [];
        for (const { name } of initial.tensors) {
            const before = initial.tensorFloat32(name);
            const after = trained.tensorFloat32(name);
            let maxChange = 0;
            for (let i = 0; i < before.length; i++) maxChange = Math.max(maxChange, Math.abs(after[i]! - before[i]!));
            rows.push(`${name}: std ${std(before).toFixed(4)} → ${std(after).toFixed(4)}, max change ${maxChange.toExponential(2)}`);
            // 40 AdamW steps at rates 1e-2 → 1e-3 move some element of every weight by far more than float noise
            expect(maxChange, name).toBeGreaterThan(1e-2);
        }
        console.log(rows.filter((row) => /attn_[kvq]|token_embd/.test(row)).join("\n"));
    });

    it("counts only the labels the mask flags: evaluate() is the cross-entropy of the graph's logits over the flagged rows", async () => {
        const mask = replyWindows.labelMask!;
        expect(replyWindows.windows).toEqual(windows);
        for (const w of [STEPS, STEPS + 1]) {
            const window = windows.subarray(w * width, (w + 1) * width);
            const counts = mask.subarray(w * SHAPE.contextSize, (w + 1) * SHAPE.contextSize);
            const flagged = counts.reduce((a, b) => a + b, 0);
            // replies are about half of a chat's tokens: both kinds of row are there
            expect(flagged).toBeGreaterThan(SHAPE.contextSize / 4);
            expect(flagged).toBeLessThan(SHAPE.contextSize * 3 / 4);
            const logits = trainer.logits(window.subarray(0, SHAPE.contextSize));
            const replies = meanCrossEntropy(logits, nVocab, window, counts);
            const all = meanCrossEntropy(logits, nVocab, window);
            const masked = await trainer.evaluate(window, counts);
            console.log(`window ${w}: ${flagged} reply labels; cross-entropy over replies ${replies.toFixed(6)}, trainer.evaluate with the mask ${masked.toFixed(6)}, over all ${all.toFixed(6)}`);
            expect(Math.abs(masked - replies)).toBeLessThan(1e-4);
            // the mask changes the figure (so the comparison above has teeth); all flags set is no mask
            expect(Math.abs(replies - all)).toBeGreaterThan(1e-2);
            expect(await trainer.evaluate(window, new Uint8Array(SHAPE.contextSize).fill(1))).toBe(await trainer.evaluate(window));
        }
        expect(Number.isNaN(await trainer.evaluate(windows.subarray(0, width), new Uint8Array(SHAPE.contextSize)))).toBe(true);
        expect(() => trainer.evaluate(windows.subarray(0, width), new Uint8Array(3))).toThrow(/labelMask must hold contextSize = 256 flags per window/);
        expect(() => trainer.evaluate(windows.subarray(0, width), new Float32Array(SHAPE.contextSize) as never)).toThrow(/labelMask must be a Uint8Array/);
    });
});
