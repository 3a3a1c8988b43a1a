// Generation through the native row analysis on the real stories260K model, against the reference
// implementation run by hand on the same decodes (JS sampler, statistics and read-outs over the
// logits copied into JavaScript); and the read-outs recorded in sessions and exports.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeNpy } from "../../engine/io/npy.js";
import { readoutColumns } from "../../engine/protocol/thermoReadouts.js";
import { generate } from "../../engine/runtime/generate.js";
import { resolveSamplingOptions, type SamplingOptions } from "../../engine/runtime/sampling/SamplingOptions.js";
import { computeLogitGap, computeThermoReadout } from "../../engine/runtime/sampling/ThermoReadouts.js";
import { TokenSampler } from "../../engine/runtime/sampling/TokenSampler.js";
import { computeTokenStatistics, logProbOf } from "../../engine/runtime/sampling/TokenStatistics.js";
import { scoreTokens } from "../../engine/runtime/scoreTokens.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { exportSession } from "../../engine/sessions/exportSession.js";
import { openSession } from "../../engine/sessions/SessionReader.js";
import { SessionWriter } from "../../engine/sessions/SessionWriter.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const prompt = "Once upon a time";
const tolerance = 2e-5;

describe.skipIf(missing(sharedFiles.stories260K))("native per-token path on stories260K", () => {
    let model: TillerModel;
    let context: TillerContext;

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 256 });
    });
    afterAll(async () => {
        await model?.dispose();
    });

    /** the reference: the same decodes, with the logits copied into JS and the JS sampler */
    async function referenceRun(options: SamplingOptions, maxTokens: number) {
        const sampler = new TokenSampler(options);
        const tokens = model.tokenize(prompt);
        await context.clearMemory();
        await context.evaluate(tokens, { startPosition: 0, logits: "last" });
        let row = tokens.length - 1;
        let position = tokens.length;
        const out: { id: number; logits: Float32Array }[] = [];
        for (let index = 0; index < maxTokens; index++) {
            const logits = context.logits(row);
            const id = sampler.sample(logits);
            if (model.isEndOfGeneration(id))
                break;
            out.push({ id, logits });
            if (index < maxTokens - 1)
                await context.evaluate(Int32Array.of(id), { startPosition: position, logits: "last" });
            row = 0;
            position++;
        }
        return out;
    }

    for (const sampling of [{ temperature: 0 }, { temperature: 0.9, seed: 7 }, { temperature: 1.4, topK: 0, topP: 1, minP: 0, seed: 3 }, { temperature: 0.6, topK: 8, topP: 0.8, seed: 11 }]) {
        it(`emits the reference's tokens, statistics and read-outs (${JSON.stringify(sampling)})`, async () => {
            const options = resolveSamplingOptions(sampling);
            const run = await generate(context, prompt, { maxTokens: 60, sampling, topAlternatives: 5 }).result;
            const reference = await referenceRun(options, 60);
            expect(run.tokens.map((token) => token.id)).toEqual(reference.map((token) => token.id));
            for (const [index, token] of run.tokens.entries()) {
                const { logits, id } = reference[index]!;
                const stats = computeTokenStatistics(logits, 5);
                expect(Math.abs(token.logprob - logProbOf(logits, id, stats.logSumExp))).toBeLessThan(tolerance);
                expect(Math.abs(token.entropy - stats.entropy)).toBeLessThan(tolerance);
                expect(token.top.map((alternative) => alternative.id)).toEqual(stats.top.map((alternative) => alternative.id));
                for (const [got, temperature] of [[token.readouts!.t1, 1], [token.readouts!.sampler, options.temperature]] as const) {
                    const want = computeThermoReadout(logits, temperature, id);
                    expect(got.temperature).toBe(temperature);
                    for (const key of ["freeEnergy", "meanEnergy", "entropy", "heatCapacity", "surprisal"] as const)
                        expect(Math.abs(got[key]! - want[key]!), key).toBeLessThan(tolerance * Math.max(1, Math.abs(want[key]!)));
                }
                expect(token.readouts!.gap).toBe(computeLogitGap(logits));
                // at T = 1 the surprisal is the emitted token's −log p
                expect(token.readouts!.t1.surprisal).toBeCloseTo(-token.logprob, 9);
            }
        });
    }

    it("scores a text natively with the reference's log-probabilities", async () => {
        const tokens = model.tokenize("Once upon a time, there was a little girl named Lily.");
        const scored = await scoreTokens(context, tokens, { from: 2 });
        await context.clearMemory();
        await context.evaluate(tokens, { startPosition: 0, logits: "all" });
        expect(scored.map((token) => token.position)).toEqual(Array.from({ length: tokens.length - 2 }, (_, i) => i + 2));
        for (const token of scored) {
            const logits = context.logits(token.position - 1);
            const stats = computeTokenStatistics(logits, 0);
            expect(token.logprob).toBeCloseTo(logProbOf(logits, token.id, stats.logSumExp), 12);
            expect(token.entropy).toBeCloseTo(stats.entropy, 12);
        }
    });

    it("records the read-outs in the session, its .npy arrays and the export", async () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-readouts-"));
        try {
            const writer = SessionWriter.create(root, {
                name: "read-outs", appVersion: "test", settings: { threads: 1 },
                model: { fileName: "stories260K.gguf", path: model.path, sizeBytes: fs.statSync(model.path).size, sha256: "0".repeat(64) }
            });
            const sampling = { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, seed: 5 };
            const { result } = await writer.recordRun(generate(context, prompt, { maxTokens: 12, sampling }),
                { prompt, maxTokens: 12, sampling, topAlternatives: 5, patches: [], probes: [], contextSize: 256, threads: 1 });
            writer.close();

            const reopened = openSession(writer.folder);
            expect(reopened.problems).toEqual([]);
            const recorded = reopened.runs[0]!;
            expect(recorded.tokens.map((token) => token.readouts)).toEqual(result.tokens.map((token) => token.readouts));
            expect(recorded.tokens[0]!.readouts!.sampler.temperature).toBe(0.8);

            const runArrays = fs.readdirSync(path.join(writer.folder, "runs"));
            const stored = decodeNpy(fs.readFileSync(path.join(writer.folder, "runs", runArrays[0]!, "readouts.npy")));
            expect(stored.shape).toEqual([result.tokens.length, readoutColumns.length]);
            const zetaColumn = readoutColumns.findIndex((column) => column.name === "zeta_ts");
            expect(stored.data[3 * readoutColumns.length + zetaColumn]).toBe(result.tokens[3]!.readouts!.sampler.zeta ?? NaN);

            const exported = exportSession(reopened, path.join(root, "export"));
            const csv = fs.readFileSync(path.join(exported, "run-0", "tokens.csv"), "utf8").trim().split("\n");
            const header = csv[0]!.split(",");
            for (const column of readoutColumns)
                expect(header).toContain(column.name);
            // counted from the end: a piece may hold a comma
            const fromEnd = header.length - header.indexOf("surprisal_t1");
            for (const [row, token] of result.tokens.entries()) {
                const fields = csv[row + 1]!.split(",");
                expect(Number(fields[fields.length - fromEnd])).toBeCloseTo(-token.logprob, 9);
            }
            const npy = decodeNpy(fs.readFileSync(path.join(exported, "run-0", "readouts.npy")));
            expect(Array.from(npy.data)).toEqual(Array.from(stored.data));
            expect(JSON.parse(fs.readFileSync(path.join(exported, "run-0", "readout_columns.json"), "utf8"))).toEqual(readoutColumns.map((column) => column.name));
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});
