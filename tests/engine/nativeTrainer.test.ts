// The native trainer as a primitive: the learning rate TypeScript gives each step is the one AdamW
// uses (a rate far below any weight's float32 resolution leaves every weight bit for bit as it was;
// the schedule's rates move them), dispose() frees the model at once (not at GC), a
// progress callback that throws stops training and rejects train() instead of escaping as an
// uncaught exception, and bad optimizer settings are refused by name. A tiny llama model made from
// the toy world's own metadata writer, the real llama.cpp, 1 thread.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NativeTrainer, NativeTrainerOptions, TillerNativeAddon } from "../../engine/native/AddonTypes.js";
import { getTillerBackend } from "../../engine/runtime/TillerBackend.js";
import { BpeTokenizer } from "../../engine/toyworld/bpeTokenizer.js";
import { dialogueText } from "../../engine/toyworld/chatLayout.js";
import { generateCorpus } from "../../engine/toyworld/corpus.js";
import { encodeModelMetadata, modelTensors, type ToyworldShape } from "../../engine/toyworld/modelShape.js";
import { cosineLearningRate, cosineLearningRates, TOYWORLD_ADAMW, toyworldInitialisation, toyworldOptimizer } from "../../engine/toyworld/trainingPolicy.js";
import { cutWindows, tokenStream } from "../../engine/toyworld/trainingWindows.js";

// 256: the metadata's context length (the trainer refuses longer windows)
const SHAPE: ToyworldShape = { nLayer: 2, nEmbd: 32, nHead: 2, nFf: 64, contextSize: 256 };
const WINDOWS = 6;

describe("the native trainer", () => {
    let dir: string;
    let addon: TillerNativeAddon;
    let metadataPath: string;
    let options: NativeTrainerOptions;
    let windows: Int32Array;

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-trainer-test-"));
        addon = (await getTillerBackend({ gpu: false })).addon;
        const texts = generateCorpus({ seed: 5, dialogues: 60 }).map(dialogueText);
        const tokenizer = BpeTokenizer.train(texts, 40);
        metadataPath = path.join(dir, "metadata.gguf");
        fs.writeFileSync(metadataPath, encodeModelMetadata(SHAPE, tokenizer));
        const names = modelTensors(SHAPE, tokenizer.vocabularySize).map((t) => t.name);
        options = { seed: 11, threads: 1, contextSize: SHAPE.contextSize, initialisation: toyworldInitialisation(names, SHAPE.nLayer) };
        const all = cutWindows(tokenStream(texts, tokenizer), SHAPE.contextSize);
        expect(all.count).toBeGreaterThanOrEqual(WINDOWS);
        windows = all.windows.subarray(0, WINDOWS * (SHAPE.contextSize + 1));
    }, 60_000);
    afterAll(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const create = () => addon.createTrainer(metadataPath, options);
    const saved = (trainer: NativeTrainer, name: string) => {
        const file = path.join(dir, name);
        trainer.save(file);
        return fs.readFileSync(file);
    };
    const rates = (...values: number[]) => ({ ...TOYWORLD_ADAMW, learningRates: Float32Array.from(values) });

    it("uses the rate TypeScript gives each step: 1e-30 leaves every weight bit for bit unchanged, the schedule's rates change them", async () => {
        const trainer = await create();
        try {
            const before = saved(trainer, "before.gguf");
            const lossBefore = await trainer.evaluate(windows);
            // an AdamW step moves a weight by at most about the rate; 1e-30 is far below the float32
            // spacing of any weight drawn here (far above 1e-20), so only a rate other than the one given could move them
            const still = await trainer.train(windows, rates(...Array.from({ length: WINDOWS }, () => 1e-30)), () => {});
            expect(still.steps).toBe(WINDOWS);
            expect(saved(trainer, "after-zero.gguf").equals(before)).toBe(true);
            expect(await trainer.evaluate(windows)).toBe(lossBefore);

            const schedule = { start: 1e-2, end: 1e-3, totalSteps: WINDOWS };
            await trainer.train(windows, toyworldOptimizer(schedule, 0, WINDOWS), () => {});
            expect(saved(trainer, "after-schedule.gguf").equals(before)).toBe(false);
            expect(await trainer.evaluate(windows)).toBeLessThan(lossBefore);
        } finally {
            trainer.dispose();
        }
    }, 60_000);

    it("trains only on the labels the mask flags: with none flagged no weight moves (no gradient), with some they do", async () => {
        const trainer = await create();
        try {
            const before = saved(trainer, "before-mask.gguf");
            const schedule = { start: 1e-2, end: 1e-3, totalSteps: WINDOWS };
            const none = new Uint8Array(WINDOWS * SHAPE.contextSize);
            await trainer.train(windows, toyworldOptimizer(schedule, 0, WINDOWS), () => {}, none);
            expect(saved(trainer, "after-none.gguf").equals(before)).toBe(true);
            const some = none.map((_, i) => (i % 3 === 0 ? 1 : 0));
            await trainer.train(windows, toyworldOptimizer(schedule, 0, WINDOWS), () => {}, some);
            expect(saved(trainer, "after-some.gguf").equals(before)).toBe(false);
            expect(() => trainer.train(windows, toyworldOptimizer(schedule, 0, WINDOWS), () => {}, new Uint8Array(SHAPE.contextSize)))
                .toThrow(/train: labelMask must hold contextSize = 256 flags per window \(1536\)/);
        } finally {
            trainer.dispose();
        }
    }, 60_000);

    it("the same seed and initialisation rules give the same weights; another seed does not", async () => {
        const a = await create();
        const b = await create();
        const c = await addon.createTrainer(metadataPath, { ...options, seed: 12 });
        try {
            const weightsA = saved(a, "a.gguf");
            expect(saved(b, "b.gguf").equals(weightsA)).toBe(true);
            expect(saved(c, "c.gguf").equals(weightsA)).toBe(false);
        } finally {
            for (const trainer of [a, b, c]) trainer.dispose();
        }
    }, 60_000);

    it("frees the model on dispose(), not at garbage collection; later calls throw DISPOSED; a second dispose is harmless", async () => {
        const alive = addon.liveObjects().trainers;
        const trainer = await create();
        expect(addon.liveObjects().trainers).toBe(alive + 1);
        trainer.dispose();
        // the trainer object is still referenced here, so only dispose() can have freed it
        expect(addon.liveObjects().trainers).toBe(alive);
        expect(() => trainer.info()).toThrow(expect.objectContaining({ code: "DISPOSED", message: "the trainer was disposed" }));
        expect(() => trainer.evaluate(windows)).toThrow(expect.objectContaining({ code: "DISPOSED" }));
        expect(() => trainer.dispose()).not.toThrow();
        expect(trainer.info.length).toBe(0);
    }, 60_000);

    it("a progress callback that throws stops training and rejects train() with that error; the trainer stays usable and is freed", async () => {
        const alive = addon.liveObjects().trainers;
        const trainer = await create();
        const thrown = new Error("the progress consumer failed");
        const seen: number[] = [];
        const run = trainer.train(windows, rates(...Array.from({ length: WINDOWS }, () => 1e-3)), (progress) => {
            seen.push(progress.step);
            if (progress.step === 2) throw thrown;
        });
        await expect(run).rejects.toBe(thrown);
        expect(seen).toEqual([1, 2]);
        // released: not busy, evaluates, trains again, and dispose frees it
        expect(Number.isFinite(await trainer.evaluate(windows))).toBe(true);
        const again = await trainer.train(windows, rates(...Array.from({ length: WINDOWS }, () => 1e-3)), () => {});
        expect(again).toMatchObject({ steps: WINDOWS, cancelled: false });
        trainer.dispose();
        expect(addon.liveObjects().trainers).toBe(alive);
    }, 60_000);

    it("reports every step before train() resolves, numbered within the call", async () => {
        const trainer = await create();
        try {
            const seen: number[] = [];
            await trainer.train(windows, rates(...Array.from({ length: WINDOWS }, () => 1e-3)), (progress) => seen.push(progress.step));
            expect(seen).toEqual(Array.from({ length: WINDOWS }, (_, i) => i + 1));
        } finally {
            trainer.dispose();
        }
    }, 60_000);

    it("refuses while busy, and refuses bad optimizer settings and initialisation rules by name", async () => {
        const trainer = await create();
        try {
            const run = trainer.train(windows, rates(...Array.from({ length: WINDOWS }, () => 1e-3)), () => {});
            expect(() => trainer.dispose()).toThrow(expect.objectContaining({ code: "BUSY" }));
            await run;
            expect(() => trainer.train(windows, rates(1e-3), () => {})).toThrow(/one rate per window \(6\)/);
            // rate 0 used to reach a ggml_opt assertion (the process aborted)
            expect(() => trainer.train(windows, rates(...Array.from({ length: WINDOWS }, (_, i) => (i === 3 ? 0 : 1e-3))), () => {}))
                .toThrow(/learning rate 3 must be a finite number > 0/);
            expect(() => trainer.train(windows, { ...rates(...Array.from({ length: WINDOWS }, () => 1e-3)), beta2: 1 }, () => {})).toThrow(/beta1 and beta2 must be in \[0, 1\)/);
            const { epsilon: _omitted, ...noEpsilon } = rates(...Array.from({ length: WINDOWS }, () => 1e-3));
            expect(() => trainer.train(windows, noEpsilon as never, () => {})).toThrow(/epsilon must be a finite number/);
        } finally {
            trainer.dispose();
        }
        const withoutOutput = options.initialisation.filter((rule) => rule.name !== "output.weight");
        await expect(addon.createTrainer(metadataPath, { ...options, initialisation: withoutOutput })).rejects.toThrow(/no rule for tensor "output.weight"/);
        expect(() => addon.createTrainer(metadataPath, { ...options, initialisation: "all" as never })).toThrow(/options.initialisation must be an array/);
        // windows longer than the model's context length would train positions the model never sees
        await expect(addon.createTrainer(metadataPath, { ...options, contextSize: 512 })).rejects.toThrow(/contextSize 512 exceeds the model's context length 256/);
    }, 60_000);
});

describe("the toy world's training policy (TypeScript)", () => {
    it("decays along a cosine from the start rate to the end rate at totalSteps, and stays there", () => {
        const schedule = { start: 2e-3, end: 1e-4, totalSteps: 100 };
        expect(cosineLearningRate(schedule, 0)).toBe(Math.fround(2e-3));
        expect(cosineLearningRate(schedule, 50)).toBeCloseTo((2e-3 + 1e-4) / 2, 9);
        expect(cosineLearningRate(schedule, 100)).toBe(Math.fround(1e-4));
        expect(cosineLearningRate(schedule, 150)).toBe(Math.fround(1e-4));
        const rates = cosineLearningRates(schedule, 40, 3);
        expect(Array.from(rates)).toEqual([40, 41, 42].map((step) => cosineLearningRate(schedule, step)));
        for (let i = 1; i < 100; i++)
            expect(cosineLearningRate(schedule, i)).toBeLessThan(cosineLearningRate(schedule, i - 1));
    });

    it("with a warm-up and a hold: rises linearly to the start rate, holds it until decayFrom, then follows the cosine over the remaining steps", () => {
        const schedule = { start: 2e-3, end: 1e-4, totalSteps: 100, warmupSteps: 10, decayFrom: 60 };
        expect(cosineLearningRate(schedule, 0)).toBe(Math.fround(Math.fround(2e-3) / 10));
        expect(cosineLearningRate(schedule, 4)).toBe(Math.fround(Math.fround(2e-3) * 5 / 10));
        for (let i = 1; i < 10; i++)
            expect(cosineLearningRate(schedule, i)).toBeGreaterThan(cosineLearningRate(schedule, i - 1));
        for (const step of [9, 10, 30, 60])
            expect(cosineLearningRate(schedule, step)).toBe(Math.fround(2e-3));
        // halfway through the decay (step 80 of 60..100) the rate is the mean of start and end
        expect(cosineLearningRate(schedule, 80)).toBeCloseTo((2e-3 + 1e-4) / 2, 9);
        expect(cosineLearningRate(schedule, 100)).toBe(Math.fround(1e-4));
        for (let i = 61; i <= 100; i++)
            expect(cosineLearningRate(schedule, i)).toBeLessThan(cosineLearningRate(schedule, i - 1));
        // no warm-up and no hold is the plain cosine, rate for rate (the committed model's schedule)
        const plain = { start: 2e-3, end: 1e-4, totalSteps: 100 };
        for (let i = 0; i <= 100; i++)
            expect(cosineLearningRate({ ...plain, warmupSteps: 0, decayFrom: 0 }, i)).toBe(cosineLearningRate(plain, i));
    });

    it("starts norms at 1, matrices at N(0, 0.02²), residual writers scaled by 1/sqrt(2·nLayer), embeddings with a shared row component", () => {
        const rules = new Map(toyworldInitialisation(modelTensors(SHAPE, 50).map((t) => t.name), SHAPE.nLayer).map((rule) => [rule.name, rule]));
        expect(rules.size).toBe(2 + 9 * SHAPE.nLayer + 1);
        expect(rules.get("blk.0.attn_norm.weight")).toEqual({ name: "blk.0.attn_norm.weight", fill: 1 });
        expect(rules.get("output_norm.weight")).toEqual({ name: "output_norm.weight", fill: 1 });
        expect(rules.get("blk.1.attn_q.weight")).toEqual({ name: "blk.1.attn_q.weight", normalStd: 0.02 });
        expect(rules.get("blk.1.ffn_down.weight")).toEqual({ name: "blk.1.ffn_down.weight", normalStd: 0.02 / Math.sqrt(4) });
        expect(rules.get("token_embd.weight")).toEqual({ name: "token_embd.weight", normalStd: 0.02, sharedRow: true });
    });
});
