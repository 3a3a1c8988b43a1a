// Tiller's out-product kernel (engine/native/src/out_product_kernel.h) replaces ggml's in the
// trainer's backward pass and must not change a bit: the toy world's own shape (4 × 128, FFN 344,
// head size 32: tiles with masked edges, short rows, rows not a multiple of the tile), trained on
// the replies as the build does, gives byte-identical weights on every kernel this CPU runs and on
// ggml's own. One thread.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufFile } from "../../engine/gguf/GgufReader.js";
import type { NativeTrainerOptions, TillerNativeAddon } from "../../engine/native/AddonTypes.js";
import { getTillerBackend } from "../../engine/runtime/TillerBackend.js";
import { BpeTokenizer } from "../../engine/toyworld/bpeTokenizer.js";
import { dialogueText, promptText } from "../../engine/toyworld/chatLayout.js";
import { generateCorpus, systemFor } from "../../engine/toyworld/corpus.js";
import { encodeModelMetadata, modelTensors, TOYWORLD_SHAPE } from "../../engine/toyworld/modelShape.js";
import { toyworldInitialisation, toyworldOptimizer } from "../../engine/toyworld/trainingPolicy.js";
import { cutWindows, replyFlaggedStream, type WindowSet } from "../../engine/toyworld/trainingWindows.js";

const SHAPE = TOYWORLD_SHAPE;
const STEPS = 12;
type Kernel = NonNullable<NativeTrainerOptions["outProduct"]>;

describe("Tiller's out-product kernel", () => {
    let dir: string;
    let addon: TillerNativeAddon;
    let metadataPath: string;
    let names: string[];
    let windows: WindowSet;

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-out-product-"));
        addon = (await getTillerBackend({ gpu: false })).addon;
        const dialogues = generateCorpus({ seed: 11, dialogues: 400 });
        const tokenizer = BpeTokenizer.train(dialogues.map(dialogueText), 60);
        metadataPath = path.join(dir, "metadata.gguf");
        fs.writeFileSync(metadataPath, encodeModelMetadata(SHAPE, tokenizer));
        names = modelTensors(SHAPE, tokenizer.vocabularySize).map((t) => t.name);
        windows = cutWindows(replyFlaggedStream(dialogues.map((d) => ({ prompt: promptText(d.user, systemFor(d.mode)), reply: d.assistant })), tokenizer), SHAPE.contextSize);
        expect(windows.count).toBeGreaterThanOrEqual(STEPS);
    }, 60_000);
    afterAll(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    /** trains STEPS steps from the same seed on `kernel`; the saved file, the kernel that ran and the seconds */
    async function train(kernel: Kernel) {
        const trainer = await addon.createTrainer(metadataPath, {
            seed: 5, threads: 1, contextSize: SHAPE.contextSize, initialisation: toyworldInitialisation(names, SHAPE.nLayer), outProduct: kernel
        });
        try {
            const width = SHAPE.contextSize + 1;
            const result = await trainer.train(windows.windows.subarray(0, STEPS * width), toyworldOptimizer({ start: 2e-3, end: 1e-4, totalSteps: STEPS }, 0, STEPS),
                () => {}, windows.labelMask!.subarray(0, STEPS * SHAPE.contextSize));
            const file = path.join(dir, `${kernel}.gguf`);
            trainer.save(file);
            return { file, info: trainer.info(), seconds: result.seconds };
        } finally {
            trainer.dispose();
        }
    }

    it("trains to the same bytes as ggml's out_prod, on every kernel this CPU runs", async () => {
        const reference = await train("ggml");
        expect(reference.info.outProductKernel).toBe("ggml");
        expect(reference.info.outProductNodes).toBe(0);
        const ggmlWeights = await readGgufFile(reference.file);

        const chosen = await train("tiller");
        // on x86-64 (AVX2 or better, every CI machine) the default is one of Tiller's kernels, so
        // the comparison below is not ggml against itself
        if (process.arch === "x64" && process.platform === "linux")
            expect(["avx512", "avx2"]).toContain(chosen.info.outProductKernel);
        const runs = [chosen];
        // the other kernel this CPU can run (AVX2 on an AVX-512 machine)
        for (const kernel of ["avx512", "avx2"] as const) {
            if (kernel !== chosen.info.outProductKernel && runs.length < 3) {
                const other = await train(kernel).catch((error: Error) => error);
                if (!(other instanceof Error))
                    runs.push(other);
            }
        }
        console.log([reference, ...runs].map((r) => `${r.info.outProductKernel}: ${(1000 * r.seconds / STEPS).toFixed(1)} ms per step`).join(", "));

        for (const run of runs) {
            if (run.info.outProductKernel === "ggml")
                continue;
            // every backward out-product of the 4 blocks and the output runs on the kernel
            expect(run.info.outProductNodes).toBeGreaterThanOrEqual(SHAPE.nLayer * 9 * 2);
            const weights = await readGgufFile(run.file);
            for (const { name } of ggmlWeights.tensors)
                expect(Buffer.from(weights.tensorBytes(name)).equals(Buffer.from(ggmlWeights.tensorBytes(name))), `${run.info.outProductKernel}: ${name}`).toBe(true);
        }
        // and training moved the weights (the comparison is between trained models, not initial ones)
        const initial = await addon.createTrainer(metadataPath, { seed: 5, threads: 1, contextSize: SHAPE.contextSize, initialisation: toyworldInitialisation(names, SHAPE.nLayer) });
        const initialFile = path.join(dir, "initial.gguf");
        initial.save(initialFile);
        initial.dispose();
        const before = await readGgufFile(initialFile);
        for (const { name } of ggmlWeights.tensors)
            expect(Buffer.from(before.tensorBytes(name)).equals(Buffer.from(ggmlWeights.tensorBytes(name))), name).toBe(false);
    }, 120_000);

    it("refuses an unknown kernel by name", async () => {
        await expect(async () => addon.createTrainer(metadataPath, {
            seed: 5, threads: 1, contextSize: SHAPE.contextSize, initialisation: toyworldInitialisation(names, SHAPE.nLayer), outProduct: "fast" as never
        })).rejects.toThrow(/outProduct must be "tiller", "ggml", "avx512" or "avx2"/);
    });
});
