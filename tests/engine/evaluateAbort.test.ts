// An evaluation's abort signal: it stops the decode it was passed to, even one queued behind busy
// worker threads; an aborted signal refuses the next evaluation; and aborting a signal whose
// evaluation is over leaves a later decode with another signal alone (the context keeps one
// listener per signal and aborts only while that signal's decode runs). Real addon, stories260K.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

/** keeps every libuv worker busy for a while, so a decode queued now has certainly not started */
function occupyWorkers(): Promise<void[]> {
    const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    return Promise.all(Array.from({ length: poolSize }, () =>
        new Promise<void>((resolve, reject) => crypto.pbkdf2("tiller", "salt", 200_000, 32, "sha256", (error) => error ? reject(error) : resolve()))));
}

/** lets evaluate()'s queued task run up to its native decode call */
const untilDecodeQueued = () => new Promise((resolve) => setImmediate(resolve));

describe.skipIf(missing(sharedFiles.stories260K))("evaluate() and its abort signal", () => {
    let model: TillerModel;
    let context: TillerContext;
    const tokens = Int32Array.from({ length: 16 }, (_, i) => 1 + i);

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K, { gpuLayers: 0 });
        context = await model.createContext({ contextSize: 256, batchSize: 32, threads: 1 });
    }, 60_000);
    afterAll(async () => {
        await model?.dispose();
    });

    it("stops the decode it was passed to, and refuses the next evaluation once aborted", async () => {
        await context.clearMemory();
        const controller = new AbortController();
        const blockers = occupyWorkers();
        const evaluating = context.evaluate(tokens, { startPosition: 0, signal: controller.signal });
        await untilDecodeQueued();
        controller.abort();
        await expect(evaluating).rejects.toMatchObject({ code: "ABORTED" });
        await blockers;
        await expect(context.evaluate(tokens, { startPosition: 0, signal: controller.signal })).rejects.toMatchObject({ code: "ABORTED" });
    });

    it("leaves a decode alone when a signal of an evaluation that is over is aborted", async () => {
        await context.clearMemory();
        const earlier = new AbortController();
        await context.evaluate(tokens.subarray(0, 8), { startPosition: 0, signal: earlier.signal });
        const blockers = occupyWorkers();
        const later = context.evaluate(tokens.subarray(8), { startPosition: 8, signal: new AbortController().signal });
        await untilDecodeQueued();
        earlier.abort();
        await expect(later).resolves.toBeDefined();
        await blockers;
        expect(context.logits(7).length).toBe(model.shape.nVocab);
    });
});
