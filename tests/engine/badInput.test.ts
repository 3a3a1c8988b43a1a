// Bad input gives a clear TillerError with a code, and the engine keeps serving afterwards.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../../engine/runtime/generate.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { TillerError, type TillerErrorCode } from "../../engine/protocol/TillerError.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { sineVector } from "../support/sineVector.js";

const baselineText = ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball.";

async function expectTillerError(action: () => unknown, code: TillerErrorCode, messagePart: RegExp): Promise<void> {
    let caught: unknown;
    try {
        await action();
    } catch (error) {
        caught = error;
    }
    expect(caught).toBeInstanceOf(TillerError);
    expect((caught as TillerError).code).toBe(code);
    expect((caught as TillerError).message).toMatch(messagePart);
}

describe.skipIf(missing(sharedFiles.stories260K))("bad input on stories260K", () => {
    let dir: string;
    let model: TillerModel;
    let context: TillerContext;

    const stillServes = async () => {
        const result = await generate(context, "Once upon a time", { maxTokens: 40 }).result;
        expect(result.text).toBe(baselineText);
    };

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-bad-input-"));
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 64 });
    });
    afterAll(async () => {
        await model?.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("a file that is not GGUF", async () => {
        const file = path.join(dir, "notes.gguf");
        fs.writeFileSync(file, "these are not the weights you are looking for\n".repeat(10));
        await expectTillerError(() => TillerModel.load(file), "NOT_GGUF", /not a GGUF/);
        await stillServes();
    });

    it("a GGUF truncated in its header and one truncated in its tensor data", async () => {
        const bytes = fs.readFileSync(sharedFiles.stories260K);
        const header = path.join(dir, "header.gguf");
        const data = path.join(dir, "data.gguf");
        fs.writeFileSync(header, bytes.subarray(0, 3000));
        fs.writeFileSync(data, bytes.subarray(0, 900_000));
        await expectTillerError(() => TillerModel.load(header), "TRUNCATED_FILE", /truncated/);
        await expectTillerError(() => TillerModel.load(data), "TRUNCATED_FILE", /truncated.*1185376 bytes but the file has 900000/);
        await stillServes();
    });

    it("a GGUF version 1 file", async () => {
        const file = path.join(dir, "v1.gguf");
        const bytes = Buffer.from(fs.readFileSync(sharedFiles.stories260K));
        bytes.writeUInt32LE(1, 4);
        fs.writeFileSync(file, bytes);
        await expectTillerError(() => TillerModel.load(file), "UNSUPPORTED_GGUF", /version 1/);
        await stillServes();
    });

    it("a missing file", async () => {
        await expectTillerError(() => TillerModel.load(path.join(dir, "absent.gguf")), "FILE_NOT_FOUND", /does not exist/);
    });

    it("a steering vector whose width differs from the model's", async () => {
        const narrow = { name: "narrow", nEmbd: 32, directions: new Map([[1, new Float32Array(32)]]) };
        await expectTillerError(() => generate(context, "Once", { patches: [{ id: "n", vector: narrow, strength: 1 }] }),
            "VECTOR_MISMATCH", /width 32 .* 64/);
        await expectTillerError(() => generate(context, "Once", { probes: [{ vector: narrow }] }), "VECTOR_MISMATCH", /width 32/);
        await stillServes();
    });

    it("a layer range outside the model", async () => {
        for (const layers of [{ first: 0, last: 4 }, { first: 1, last: 5 }, { first: 3, last: 2 }])
            await expectTillerError(() => generate(context, "Once", { patches: [{ id: "p", vector: sineVector(), strength: 1, layers }] }),
                "INVALID_LAYER_RANGE", /layer range/);
        await stillServes();
    });

    it("a NaN or infinite strength", async () => {
        for (const strength of [Number.NaN, Infinity, -Infinity])
            await expectTillerError(() => generate(context, "Once", { patches: [{ id: "p", vector: sineVector(), strength }] }),
                "INVALID_ARGUMENT", /strength must be a finite number/);
        // also when changed during a run: the run keeps going with the old value
        const run = generate(context, "Once upon a time", { maxTokens: 5, patches: [{ id: "p", vector: sineVector(), strength: 0 }] });
        await expectTillerError(() => run.patches.update("p", { strength: Number.NaN }), "INVALID_ARGUMENT", /finite/);
        expect((await run.result).tokens).toHaveLength(5);
        await stillServes();
    });

    it("a prompt longer than the context", async () => {
        const long = "Once upon a time there was a little girl. ".repeat(context.contextSize / 4);
        expect(model.tokenize(long).length).toBeGreaterThan(context.contextSize);
        await expectTillerError(() => generate(context, long), "PROMPT_TOO_LONG", new RegExp(`context holds ${context.contextSize}`));
        await stillServes();
    });

    it("bad sampling settings and token counts", async () => {
        await expectTillerError(() => generate(context, "Once", { sampling: { temperature: Number.NaN } }), "INVALID_ARGUMENT", /temperature/);
        await expectTillerError(() => generate(context, "Once", { maxTokens: -1 }), "INVALID_ARGUMENT", /maxTokens/);
        await stillServes();
    });

    it("a generation that reaches the end of the context stops cleanly", async () => {
        const result = await generate(context, "Once upon a time", { maxTokens: 500 }).result;
        expect(["contextFull", "eog"]).toContain(result.stopReason);
        await stillServes();
    });

    it("a second run on a busy context is refused, and the first is unharmed", async () => {
        const first = generate(context, "Once upon a time", { maxTokens: 40 });
        await expectTillerError(() => generate(context, "Once"), "BUSY", /busy with a generation/);
        expect((await first.result).text).toBe(baselineText);
        await stillServes();
    });

    it("use after dispose is a clear error", async () => {
        const other = await TillerModel.load(sharedFiles.stories260K);
        const otherContext = await other.createContext({ threads: 1, contextSize: 64 });
        await other.dispose();
        await expectTillerError(() => otherContext.evaluate(Int32Array.of(1)), "DISPOSED", /disposed/);
        await expectTillerError(() => other.tokenize("x"), "DISPOSED", /disposed/);
    });
});
