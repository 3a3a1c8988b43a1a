// The native layer refuses what used to crash the process: typed arrays of the wrong element type
// (out-of-bounds reads), batches larger than the context's batch size and sequence ids outside the
// context (llama.cpp asserts and aborts), and an abort issued before a queued decode started (was
// lost). Each call here ended the process, or decoded anyway, before these checks. Real addon, stories260K.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeRandomModel } from "../../engine/gguf/RandomModelFile.js";
import type { NativeContext, NativeModel } from "../../engine/native/AddonTypes.js";
import { getTillerBackend } from "../../engine/runtime/TillerBackend.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

describe.skipIf(missing(sharedFiles.stories260K))("native argument checks", () => {
    let model: NativeModel;
    let context: NativeContext;

    beforeAll(async () => {
        const { addon } = await getTillerBackend();
        model = await addon.loadModel(sharedFiles.stories260K, 0, true);
        context = await addon.createContext(model, { contextSize: 256, batchSize: 32, sequences: 2, threads: 1, threadsBatch: 1 });
    }, 60_000);
    afterAll(() => {
        context?.dispose();
        model?.dispose();
    });

    const row = (n: number) => ({
        tokens: Int32Array.from({ length: n }, (_, i) => 1 + i),
        positions: Int32Array.from({ length: n }, (_, i) => i),
        seqIds: new Int32Array(n),
        want: Uint8Array.from({ length: n }, (_, i) => (i === n - 1 ? 1 : 0))
    });

    it("refuses typed arrays of the wrong element type", () => {
        const { tokens, positions, seqIds, want } = row(4);
        expect(() => context.decode(new Float64Array(4) as never, positions, seqIds, want)).toThrow(TypeError);
        expect(() => context.decode(tokens, new Int8Array(4) as never, seqIds, want)).toThrow(TypeError);
        expect(() => context.decode(tokens, positions, new Uint32Array(4) as never, want)).toThrow(TypeError);
        expect(() => context.decode(tokens, positions, seqIds, new Int32Array(4) as never)).toThrow(TypeError);
        expect(() => context.setCaptureLayers(new Float32Array([1, 2]) as never)).toThrow(TypeError);
        expect(() => context.setCaptureLayers([1, 2] as never)).toThrow(TypeError);
    });

    it("refuses a batch larger than the batch size, sequence ids outside the context, negative positions", () => {
        const big = row(33);
        expect(() => context.decode(big.tokens, big.positions, big.seqIds, big.want)).toThrow(/batch size \(32\)/);
        const { tokens, positions, want } = row(4);
        expect(() => context.decode(tokens, positions, Int32Array.from([0, 0, 2, 0]), want)).toThrow(/sequence id 2 is outside 0-1/);
        expect(() => context.decode(tokens, positions, Int32Array.from([0, -1, 0, 0]), want)).toThrow(/sequence id -1/);
        expect(() => context.decode(tokens, Int32Array.from([0, 1, -5, 3]), new Int32Array(4), want)).toThrow(/position -5/);
    });

    it("honours an abort issued after a decode was queued but before it started, and decodes normally afterwards", async () => {
        // Occupy every libuv worker thread first, so the decode is certainly queued and not yet
        // started when abort() comes (a tiny decode can otherwise finish before abort() is called).
        const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
        const blockers = Array.from({ length: poolSize }, () =>
            new Promise<void>((resolve, reject) => crypto.pbkdf2("tiller", "salt", 200_000, 32, "sha256", (error) => error ? reject(error) : resolve())));
        const { tokens, positions, seqIds, want } = row(8);
        const decoding = context.decode(tokens, positions, seqIds, want);
        context.abort(); // the worker has not run yet: this is the window that used to lose the abort
        await expect(decoding).rejects.toMatchObject({ decodeStatus: 2 });
        await Promise.all(blockers);
        const again = row(4);
        await expect(context.decode(again.tokens, again.positions, again.seqIds, again.want)).resolves.toBeUndefined();
        expect(context.logits(3).length).toBeGreaterThan(0);
    });

    it("reads metadata values longer than 4 KiB whole (they were cut at 4 KiB)", async () => {
        const { addon } = await getTillerBackend();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-native-meta-"));
        const file = path.join(dir, "long-name.gguf");
        const name = "n".repeat(10_000) + "end";
        fs.writeFileSync(file, encodeRandomModel({ nLayer: 1, nEmbd: 16, nHead: 2, nVocab: 300, type: "f32", seed: 1, name }));
        const longNamed = await addon.loadModel(file, 0, true);
        try {
            expect(longNamed.meta("general.name")).toBe(name);
            expect(longNamed.meta("general.architecture")).toBe("llama");
            expect(longNamed.meta("no.such.key")).toBeNull();
            expect(() => longNamed.meta(42 as never)).toThrow(TypeError);
        } finally {
            longNamed.dispose();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses sequence ids outside the context in the memory calls (llama.cpp asserts or reads out of bounds on them)", () => {
        expect(() => context.memorySeqRm(2, 0, -1)).toThrow(/memorySeqRm: sequence id 2.* is outside 0-1 \(or -1 for all\)/);
        expect(() => context.memorySeqRm(-2, 0, -1)).toThrow(RangeError);
        expect(() => context.memorySeqCp(0, 7, 0, -1)).toThrow(/memorySeqCp: sequence id 7/);
        expect(() => context.memorySeqCp(-1, 0, 0, -1)).toThrow(/memorySeqCp: sequence id -1/);
        expect(() => context.memorySeqPosMax(1000)).toThrow(/memorySeqPosMax: sequence id 1000/);
        expect(() => context.memorySeqPosMax(0.5)).toThrow(RangeError);
        expect(() => context.memorySeqRm("0" as never, 0, -1)).toThrow(TypeError);
        // the valid ones still work, -1 (every sequence) included
        expect(context.memorySeqRm(-1, 0, -1)).toBe(true);
        expect(context.memorySeqPosMax(1)).toBe(-1);
    });

    it("refuses a context where createContext expects a model (it was read as one: type confusion)", async () => {
        const { addon } = await getTillerBackend();
        expect(() => addon.createContext(context as never, { contextSize: 64, batchSize: 8, sequences: 1, threads: 1, threadsBatch: 1 }))
            .toThrow(/must be a NativeModel/);
        expect(() => addon.createContext({} as never, { contextSize: 64, batchSize: 8, sequences: 1, threads: 1, threadsBatch: 1 }))
            .toThrow(/must be a NativeModel/);
    });
});
