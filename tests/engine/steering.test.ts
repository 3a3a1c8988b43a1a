// Steering and read-outs on the real stories260K model through the real llama.cpp.
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TokenInfo } from "../../engine/protocol/shapes.js";
import { generate } from "../../engine/runtime/generate.js";
import { composeControlVector } from "../../engine/runtime/SteeringPatch.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { randomVector, sineVector } from "../support/sineVector.js";

const prompt = "Once upon a time";

describe.skipIf(missing(sharedFiles.stories260K))("steering on stories260K", () => {
    let model: TillerModel;
    let context: TillerContext;

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 256 });
    });
    afterAll(async () => {
        await model?.dispose();
    });

    it("reports the model's shape", () => {
        expect(model.shape).toMatchObject({ architecture: "llama", nLayer: 5, nEmbd: 64, nVocab: 512, hasChatTemplate: false });
        expect(context.threads).toBe(1);
    });

    it("switching a patch on at token K leaves tokens 0..K-1 identical to the unsteered run", async () => {
        const baseline = await generate(context, prompt, { maxTokens: 40 }).result;
        const k = 10;
        const steered = await generate(context, prompt, {
            maxTokens: 40,
            patches: [{ id: "sine", vector: sineVector(), strength: 1, layers: { first: 1, last: 4 }, fromToken: k }]
        }).result;
        const ids = (tokens: TokenInfo[]) => tokens.map((token) => token.id);
        expect(ids(steered.tokens).slice(0, k)).toEqual(ids(baseline.tokens).slice(0, k));
        // identical distributions too, not only identical choices
        expect(steered.tokens.slice(0, k).map((token) => token.logprob)).toEqual(baseline.tokens.slice(0, k).map((token) => token.logprob));
        expect(steered.tokens[k - 1]!.activePatches).toEqual([]);
        expect(steered.tokens[k]!.activePatches).toEqual(["sine"]);
        expect(steered.tokens[k]!.logprob).not.toBe(baseline.tokens[k]!.logprob);
        expect(ids(steered.tokens)).not.toEqual(ids(baseline.tokens));
        expect(steered.patchChanges.map(({ atToken, activePatches }) => ({ atToken, activePatches })))
            .toEqual([{ atToken: 0, activePatches: [] }, { atToken: k, activePatches: ["sine"] }]);
    });

    it("a window from K until M steers only tokens K..M-1", async () => {
        const run = await generate(context, prompt, {
            maxTokens: 30,
            patches: [{ id: "w", vector: sineVector(), strength: 0.5, fromToken: 5, untilToken: 12 }]
        }).result;
        expect(run.tokens.map((token) => token.activePatches.length > 0)).toEqual(run.tokens.map((token) => token.index >= 5 && token.index < 12));
    });

    it("turning every patch off restores bit-identical logits on the same decode shape", async () => {
        const tokens = model.tokenize(prompt);
        const logitsOf = async () => {
            await context.clearMemory();
            await context.evaluate(tokens, { startPosition: 0, logits: "last" });
            return context.logits(tokens.length - 1);
        };
        const clean = await logitsOf();
        await context.setSteering(composeControlVector([{ id: "s", vector: sineVector(), strength: 2 }], 0, model.shape));
        const steered = await logitsOf();
        await context.setSteering(null);
        const restored = await logitsOf();
        expect(Buffer.from(steered.buffer).equals(Buffer.from(clean.buffer))).toBe(false);
        expect(Buffer.from(restored.buffer).equals(Buffer.from(clean.buffer))).toBe(true);
    });

    it("a patch changed or removed during a run takes effect at the next token", async () => {
        const run = generate(context, prompt, {
            maxTokens: 30,
            patches: [{ id: "sine", vector: sineVector(), strength: 0.5 }]
        });
        for await (const token of run) {
            if (token.index === 7)
                run.patches.update("sine", { strength: 1 });
            if (token.index === 15)
                run.patches.clear();
        }
        const result = await run.result;
        // the change made while token 7 was delivered acts on a later token, never on an earlier one
        const strengthChange = result.patchChanges.find((change) => change.atToken > 0 && change.activePatches.length > 0);
        const removal = result.patchChanges.find((change) => change.activePatches.length === 0);
        expect(strengthChange!.atToken).toBeGreaterThan(7);
        expect(removal!.atToken).toBeGreaterThan(15);
        for (const token of result.tokens)
            expect(token.activePatches).toEqual(token.index < removal!.atToken ? ["sine"] : []);
        expect(context.currentSteering).toBeNull();
    });

    for (const overlapDecode of [true, false]) {
        it(`the changed strength acts exactly from the token the run records (${overlapDecode ? "decodes overlapping the token records" : "in turn"})`, async () => {
            // Same run twice: live change at token 7 vs the equivalent planned windows. Identical tokens.
            const live = generate(context, prompt, { maxTokens: 25, patches: [{ id: "a", vector: sineVector(), strength: 0.3 }], overlapDecode });
            for await (const token of live) {
                if (token.index === 7)
                    live.patches.update("a", { strength: 1.2 });
            }
            const liveResult = await live.result;
            const switchAt = liveResult.patchChanges.at(-1)!.atToken;
            const planned = await generate(context, prompt, {
                maxTokens: 25,
                patches: [
                    { id: "a", vector: sineVector(), strength: 0.3, untilToken: switchAt },
                    { id: "b", vector: sineVector(), strength: 1.2, fromToken: switchAt }
                ]
            }).result;
            expect(liveResult.tokens.map((token) => token.id)).toEqual(planned.tokens.map((token) => token.id));
        });
    }

    it("several patches sum per layer", async () => {
        const half = await generate(context, prompt, {
            maxTokens: 20,
            patches: [{ id: "a", vector: sineVector(), strength: 0.25 }, { id: "b", vector: sineVector(), strength: 0.25 }]
        }).result;
        const whole = await generate(context, prompt, { maxTokens: 20, patches: [{ id: "c", vector: sineVector(), strength: 0.5 }] }).result;
        expect(half.tokens.map((token) => token.id)).toEqual(whole.tokens.map((token) => token.id));
    });

    it("projections equal ⟨l_out, v̂⟩ computed from the raw captured block outputs", async () => {
        const probes = [randomVector("r1", 5, 64, 1), randomVector("r2", 5, 64, 2)];
        // block 0 too: read-outs may use any block
        probes[0]!.directions = new Map([...probes[0]!.directions, [0, Float32Array.from({ length: 64 }, (_, i) => (i % 7) - 3)]]);
        const result = await generate(context, prompt, { maxTokens: 12, probes: probes.map((vector) => ({ vector })) }).result;

        // the raw block outputs of the same tokens, teacher-forced with the same decode shapes
        // (the prompt as one batch, then one token at a time), so the numbers are the same ones
        const promptTokens = model.tokenize(prompt);
        await context.clearMemory();
        await context.setCapture([0, 1, 2, 3, 4]);
        const rawRows: { layer: number; row: Float32Array }[][] = [];
        const collect = (captured: Awaited<ReturnType<TillerContext["evaluate"]>>, rows: number) => {
            for (let row = 0; row < rows; row++)
                rawRows.push([...captured].map(([layer, { data }]) => ({ layer, row: data.slice(row * 64, row * 64 + 64) })));
        };
        collect(await context.evaluate(promptTokens, { startPosition: 0, logits: "all" }), promptTokens.length);
        for (const token of result.tokens)
            collect(await context.evaluate(Int32Array.of(token.id), { startPosition: token.position, logits: "last" }), 1);
        await context.setCapture([]);
        const raw = (row: number, layer: number) => rawRows[row]!.find((entry) => entry.layer === layer)!.row;

        const records = [...result.promptTokens, ...result.tokens];
        expect(records).toHaveLength(rawRows.length);
        for (const [row, record] of records.entries()) {
            expect(record.projections).toHaveLength(4 + 5);
            for (const projection of record.projections) {
                const vector = probes.find((probe) => probe.name === projection.probe)!;
                const direction = vector.directions.get(projection.layer)!;
                const h = raw(row, projection.layer);
                let dotProduct = 0, vNorm = 0, hNorm = 0;
                for (let i = 0; i < 64; i++) {
                    dotProduct += h[i]! * direction[i]!;
                    vNorm += direction[i]! ** 2;
                    hNorm += h[i]! ** 2;
                }
                const expectedDot = dotProduct / Math.sqrt(vNorm);
                expect(Math.abs(projection.dot - expectedDot)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expectedDot)));
                expect(Math.abs(projection.cosine - expectedDot / Math.sqrt(hNorm))).toBeLessThanOrEqual(1e-6);
            }
        }
    });

    it.skipIf(missing(sharedFiles.parityLOut))("captured l_out matches llama.cpp's eval-callback printout", async () => {
        const printout = fs.readFileSync(sharedFiles.parityLOut, "utf8");
        const tokens = model.tokenize(prompt);
        expect(tokens).toHaveLength(5);
        await context.clearMemory();
        await context.setCapture([0, 1, 2, 3]);
        const captured = await context.evaluate(tokens, { startPosition: 0, logits: "last" });
        await context.setCapture([]);
        const blocks = printout.split("common_debug_cb_eval:").slice(1);
        expect(blocks).toHaveLength(4);
        for (const block of blocks) {
            const layer = Number(/l_out-(\d+)/.exec(block)![1]);
            const rows = [...block.matchAll(/\[\s*([-\d.]+),\s*([-\d.]+),\s*([-\d.]+),\s*\.\.\.,\s*([-\d.]+),\s*([-\d.]+),\s*([-\d.]+)\s*\]/g)];
            const sum = Number(/sum = ([-\d.]+)/.exec(block)![1]);
            const data = captured.get(layer)!.data;
            expect(rows).toHaveLength(5);
            for (const [row, match] of rows.entries()) {
                const printed = match.slice(1, 7).map(Number);
                const ours = [0, 1, 2, 61, 62, 63].map((i) => data[row * 64 + i]!);
                for (let i = 0; i < 6; i++)
                    expect(Math.abs(ours[i]! - printed[i]!)).toBeLessThanOrEqual(5e-5);
            }
            expect(Math.abs(data.reduce((total, value) => total + value, 0) - sum)).toBeLessThan(1e-3);
        }
    });

    it("capture is off unless asked for, and steering is cleared however a run ends", async () => {
        const controller = new AbortController();
        const run = generate(context, prompt, {
            maxTokens: 50,
            patches: [{ id: "s", vector: sineVector(), strength: 1 }],
            probes: [{ vector: sineVector() }],
            signal: controller.signal
        });
        for await (const token of run) {
            if (token.index === 3)
                controller.abort();
        }
        const result = await run.result;
        expect(result.stopReason).toBe("aborted");
        expect(result.tokens.length).toBeLessThan(50);
        expect(context.currentSteering).toBeNull();
        expect(context.capturedLayers).toEqual([]);
    });

    it("a token is handed on whole: with probes its projections are there when it arrives; with or without, the tokens handed on are the result's", async () => {
        // without a capture a token is handed on while its decode runs, with one only after it
        const reference = await generate(context, prompt, { maxTokens: 24 }).result;
        for (const [probes, overlapDecode] of [[[], true], [[], false], [[{ vector: sineVector() }], true], [[{ vector: sineVector() }], false]] as const) {
            const run = generate(context, prompt, { maxTokens: 24, probes, overlapDecode });
            const received: { index: number; projections: number }[] = [];
            const tokens = [];
            for await (const token of run) {
                received.push({ index: token.index, projections: token.projections.length });
                tokens.push(token);
            }
            const result = await run.result;
            expect(tokens).toEqual(result.tokens);
            expect(result.tokens.map((token) => token.id)).toEqual(reference.tokens.map((token) => token.id));
            expect(received.map((entry) => entry.index)).toEqual(result.tokens.map((_, i) => i));
            for (const entry of received) {
                // what the token carried on arrival is what it ends with
                expect(entry.projections).toBe(result.tokens[entry.index]!.projections.length);
                expect(entry.projections > 0).toBe(probes.length > 0);
            }
        }
    });

    it("seeded sampling is reproducible and differs across seeds", async () => {
        const sample = async (seed: number) =>
            (await generate(context, prompt, { maxTokens: 30, sampling: { temperature: 1, topK: 0, topP: 1, minP: 0, seed } }).result).text;
        expect(await sample(7)).toBe(await sample(7));
        expect(await sample(7)).not.toBe(await sample(8));
    });

    it("every token carries log-prob, entropy and top alternatives consistent with each other", async () => {
        const result = await generate(context, prompt, { maxTokens: 10, topAlternatives: 3 }).result;
        for (const token of result.tokens) {
            expect(token.top).toHaveLength(3);
            expect(token.top[0]!.id).toBe(token.id); // greedy: the chosen token is the most likely
            expect(token.top[0]!.logprob).toBeCloseTo(token.logprob, 6);
            expect(token.entropy).toBeGreaterThanOrEqual(0);
            expect(token.entropy).toBeLessThanOrEqual(Math.log(512) + 1e-9);
        }
        expect(result.tokens.map((token) => token.piece).join("")).toBe(result.text);
    });
});
