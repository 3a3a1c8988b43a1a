// Blind detection from a transcript on stories260K (issue 11): the detector gets the prompt, the
// emitted ids and the claimed sampler — never the patch. Greedy text is judged exactly, sampled
// text by calibrated likelihood ratios; bad transcripts fail with errors that name the problem.
// Through the engine service as `forensics.detect`, recorded into the session.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectFromTranscript, type LibraryVector } from "../../engine/forensics/detectFromTranscript.js";
import { resolveTranscript } from "../../engine/forensics/resolveTranscript.js";
import { generate } from "../../engine/runtime/generate.js";
import type { SamplingOptions } from "../../engine/runtime/sampling/SamplingOptions.js";
import type { SteeringPatch } from "../../engine/runtime/SteeringPatch.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { EngineService, type RequestContext } from "../../engine/service/EngineService.js";
import { openSession } from "../../engine/sessions/SessionReader.js";
import { buildVectorFromDataset } from "../../engine/vectors/buildVectorFromDataset.js";
import { loadBuiltinDataset } from "../../engine/vectors/datasets/builtinDatasets.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { randomVector, sineVector } from "../support/sineVector.js";

const prompt = "Once upon a time";

describe.skipIf(missing(sharedFiles.stories260K))("blind detection from a transcript on stories260K", () => {
    let model: TillerModel;
    let generation: TillerContext;
    let context: TillerContext;
    let library: LibraryVector[];

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
        generation = await model.createContext({ threads: 1, contextSize: 256 });
        context = await model.createContext({ threads: 1, contextSize: 256, batchSize: 256, sequences: 2, precise: true });
        const happy = (await buildVectorFromDataset(context, loadBuiltinDataset("sentiment"), { readAt: "mean" })).vector;
        library = [
            { id: "happy.gguf", name: "happy", vector: happy },
            { id: "sine.gguf", name: "sine", vector: sineVector() },
            { id: "random.gguf", name: "random", vector: randomVector("random", 5, 64, 3) }
        ];
    }, 60_000);
    afterAll(async () => {
        await model?.dispose();
    });

    /** the lab writes the text (patch hidden); the detector gets ids + claimed sampler only */
    const write = async (patches: SteeringPatch[], sampling: Partial<SamplingOptions>, maxTokens = 40) => {
        const run = await generate(generation, prompt, { maxTokens, sampling, patches }).result;
        const { seed: _seed, ...claimed } = sampling;
        return resolveTranscript(model, { prompt, tokens: run.tokens.map((token) => token.id), sampling: claimed });
    };

    it("greedy: clean text is consistent; a patch's text is impossible for the clean model, and the library names it", async () => {
        const clean = await detectFromTranscript(context, await write([], { temperature: 0 }), library);
        expect(clean).toMatchObject({ method: "greedy-exact", steered: false, pValue: 1, verdict: "clean", onsetToken: null });

        const patch = { id: "hidden", vector: library[0]!.vector, strength: 1.5, layers: { first: 2, last: 3 }, fromToken: 12 };
        const steered = await detectFromTranscript(context, await write([patch], { temperature: 0 }), library);
        expect(steered).toMatchObject({ method: "greedy-exact", steered: true, pValue: 0, verdict: "library" });
        const firstChanged = steered.tests.greedyInconsistent![0]!;
        expect(firstChanged).toBeGreaterThanOrEqual(12); // nothing before the onset can change
        expect(steered.onsetToken).toBeGreaterThanOrEqual(9);
        expect(steered.onsetToken).toBeLessThanOrEqual(firstChanged);
        expect(steered.best!.vectorId).toBe("happy.gguf");
        expect(steered.best!.alpha).toBeGreaterThan(0);
        expect(steered.best!.logLrVsClean).toBeGreaterThan(5);
        expect(steered.best!.logLrVsRunnerUp).toBeGreaterThan(0);
        expect(steered.tokens).toHaveLength(40);
        expect(steered.tokens.slice(0, 12).every((token) => token.cleanArgmax)).toBe(true);

        // the same text without the right vector in the library: steered, but not by anything it holds
        const outside = await detectFromTranscript(context, await write([patch], { temperature: 0 }), library.slice(1));
        expect(outside).toMatchObject({ steered: true, verdict: "outside-library" });
    }, 120_000);

    it("sampled at T = 0.7: clean runs stay under the significance, a patched run is caught with its vector", async () => {
        for (const seed of [1, 2, 3]) {
            const clean = await detectFromTranscript(context, await write([], { temperature: 0.7, seed }), library);
            expect(clean.method).toBe("likelihood-ratio");
            expect(clean.pValue).toBeGreaterThan(clean.significance);
            expect(clean.steered).toBe(false);
        }
        const patch = { id: "hidden", vector: library[0]!.vector, strength: 2, layers: { first: 1, last: 4 }, fromToken: 8 };
        const steered = await detectFromTranscript(context, await write([patch], { temperature: 0.7, seed: 5 }), library);
        expect(steered.steered).toBe(true);
        expect(steered.pValue).toBeLessThan(0.01);
        expect(steered.best!.vectorId).toBe("happy.gguf");
        expect(steered.onsetToken).toBeGreaterThanOrEqual(4);
    }, 120_000);

    it("bad transcripts fail with errors that name the problem", async () => {
        const expectError = (thunk: () => unknown, code: string, message: RegExp) => {
            try {
                thunk();
            } catch (error) {
                expect((error as { code: string }).code).toBe(code);
                expect((error as Error).message).toMatch(message);
                return;
            }
            throw new Error("expected an error");
        };
        expectError(() => resolveTranscript(model, { prompt, tokens: [5, 100000] }), "INVALID_ARGUMENT", /token 1 \(id 100000\) is outside the model's vocabulary of 512/);
        const ids = Array.from(model.tokenize(" there was a cat", { addBos: false }));
        expectError(() => resolveTranscript(model, { prompt, tokens: ids, completion: " there was a dog" }), "INVALID_ARGUMENT", /text does not match the token ids/);
        expectError(() => resolveTranscript(model, { prompt, tokens: ids, sampling: { topP: 0 } }), "INVALID_ARGUMENT", /impossible sampler settings.*topP/);
        expectError(() => resolveTranscript(model, { prompt, tokens: [] }), "INVALID_ARGUMENT", /no emitted tokens/);
        const transcript = resolveTranscript(model, { prompt, tokens: ids });
        await expect(detectFromTranscript(context, transcript, [{ id: "wide", name: "wide", vector: randomVector("wide", 5, 128, 1) }]))
            .rejects.toMatchObject({ code: "VECTOR_MISMATCH", message: expect.stringMatching(/width 128.*64/) });
        // hot sampled text claimed as greedy: no hypothesis makes it the argmax
        const run = await generate(generation, prompt, { maxTokens: 30, sampling: { temperature: 2, topK: 0, topP: 1, minP: 0, seed: 9 } }).result;
        await expect(detectFromTranscript(context, resolveTranscript(model, { prompt, tokens: run.tokens.map((token) => token.id) }), library))
            .rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringMatching(/sampler settings could not have produced this text/) });
    }, 120_000);
});

describe.skipIf(missing(sharedFiles.stories260K))("forensics.detect through the engine service", () => {
    let dataDir: string;
    let service: EngineService;
    let happyId: string;
    let next = 0;
    const request = (): RequestContext => ({ requestId: `f${next++}`, signal: new AbortController().signal });

    beforeAll(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-forensics-"));
        service = new EngineService({ dataDir, threads: 1 });
        await service.loadModel({ path: sharedFiles.stories260K, gpuLayers: 0, contextSize: 256, threads: 1 }, request());
        happyId = (await service.buildVector({ dataset: "sentiment", readAt: "mean", name: "happy" }, request())).vector.id;
    }, 120_000);
    afterAll(async () => {
        await service?.dispose();
        if (dataDir != null)
            fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("detects a recorded run from its tokens alone, and records the detection", async () => {
        const events: { event: string; data: any }[] = [];
        service.onEvent((event, data) => events.push({ event, data }));
        const { runId } = await service.startRun({ prompt, maxTokens: 30,
            patches: [{ id: "p", vectorId: happyId, strength: 1.5, layers: { first: 2, last: 3 }, fromToken: 10 }] });
        while (!events.some((entry) => entry.event === "run.end"))
            await new Promise((resolve) => setTimeout(resolve, 10));
        const context = request();
        const result = await service.forensics.detect({ runId, nullDraws: 50 }, context);
        expect(result).toMatchObject({ method: "greedy-exact", steered: true, verdict: "library" });
        expect(result.best!.vectorId).toBe(happyId);
        expect(events.some((entry) => entry.event === "progress" && entry.data.requestId === context.requestId)).toBe(true);
        const notes = openSession(path.join(dataDir, "sessions", fs.readdirSync(path.join(dataDir, "sessions"))[0]!)).notes
            .filter((note) => note.kind === "forensics.detect");
        expect(notes).toHaveLength(1);

        // typed: the same tokens as text, claimed greedy; and a typed transcript that is not what its ids spell
        const typed = await service.forensics.detect({ prompt, completion: result.tokens.map((token) => token.piece).join(""), candidates: [], nullDraws: 50 }, request());
        expect(typed).toMatchObject({ steered: true, verdict: "outside-library" });
        await expect(service.forensics.detect({ prompt, tokens: [1, 2], completion: "nothing like it" }, request())).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(service.forensics.detect({ runId, prompt }, request())).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }, 120_000);
});
