// χ on quantized models. A random F32 model is quantized with `tiller quantize`'s engine function
// (llama_model_quantize) to Q8_0 and Q4_K_M; each quantized file is also decoded back to an F32
// copy holding exactly the quantized weights. The quantized file and its copy then differ only in
// what ggml does with activations (converted to Q8 inside every matmul with quantized weights), so
// their χ must agree within the reported errors — which the default step makes possible and a bare
// tiny step does not (the staircase shows up as a huge error, not as a confident wrong number).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeRandomModelFile } from "../../engine/gguf/RandomModelFile.js";
import { susceptibilitySweepTokens, type SweepOptions, type SweepResult } from "../../engine/probes/susceptibilitySweep.js";
import { quantizeModel } from "../../engine/runtime/quantizeModel.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { dequantizeModel } from "../support/dequantizeModel.js";

const nEmbd = 256;
const prompt = Int32Array.from([1, 300, 301, 302, 303, 304, 305, 306]);
const completion = Int32Array.from([310, 320, 330, 340, 350, 360, 370, 380, 390, 400]);

function seededVector(seed: number): SteeringVector {
    let state = seed;
    const next = () => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return state / 2 ** 32 - 0.5;
    };
    return { name: "random", nEmbd, directions: new Map([1, 2, 3].map((layer) => [layer, Float32Array.from({ length: nEmbd }, next)])) };
}

async function sweepFile(file: string, options: Partial<SweepOptions> = {}): Promise<SweepResult> {
    const model = await TillerModel.load(file, { gpuLayers: 0 });
    try {
        const context = await model.createContext({ threads: 1, contextSize: 64, batchSize: 64, sequences: 2, precise: true });
        return await susceptibilitySweepTokens(context, prompt, completion, { vector: seededVector(5), layers: { first: 1, last: 3 }, alphas: [0], ...options });
    } finally {
        await model.dispose();
    }
}

function agreeWithin(a: SweepResult, b: SweepResult, sigmas: number): void {
    for (const [t, token] of a.tokens.entries()) {
        const other = b.tokens[t]!;
        expect(Math.abs(token.chi - other.chi), `token ${t}: ${token.chi} ± ${token.chiError} vs ${other.chi} ± ${other.chiError}`)
            .toBeLessThan(sigmas * Math.hypot(token.chiError, other.chiError));
    }
}

describe("susceptibility on quantized models", () => {
    let dir: string;
    const files = { f32: "", q8_0: "", q4_k_m: "", q8_0Copy: "", q4_k_mCopy: "" };

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-quantized-sweep-"));
        files.f32 = path.join(dir, "f32.gguf");
        await writeRandomModelFile(files.f32, { nLayer: 4, nEmbd, nHead: 4, nFf: 512, nVocab: 512, type: "f32", seed: 7 });
        for (const type of ["q8_0", "q4_k_m"] as const) {
            files[type] = path.join(dir, `${type}.gguf`);
            const result = await quantizeModel(files.f32, files[type], { type, threads: 1 });
            expect(result.tensorTypes[type === "q8_0" ? "Q8_0" : "Q4_K"]).toBeGreaterThan(0);
            files[`${type}Copy`] = path.join(dir, `${type}-as-f32.gguf`);
            await dequantizeModel(files[type], files[`${type}Copy`]);
        }
    }, 120_000);
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    for (const type of ["q8_0", "q4_k_m"] as const) {
        it(`${type}: χ agrees with the F32 copy of the same weights within the reported error`, async () => {
            const quantized = await sweepFile(files[type]);
            const copy = await sweepFile(files[`${type}Copy`]);
            expect(quantized.relativeStep).toBe(0.1);
            expect(copy.relativeStep).toBe(0.02);
            agreeWithin(quantized, copy, 4);
            // the errors are informative: a few % of χ, not a blanket
            const relative = quantized.tokens.map((token) => token.chiError / Math.abs(token.chi)).sort((a, b) => a - b);
            expect(relative[Math.floor(relative.length / 2)]).toBeLessThan(0.15);
            // a bare tiny step lands on the activation staircase: the estimate reports it as noise
            const tiny = await sweepFile(files[type], { step: 1e-4 });
            const noisy = tiny.tokens.filter((token, t) => token.chiError > 20 * quantized.tokens[t]!.chiError).length;
            expect(noisy).toBeGreaterThan(tiny.tokens.length / 2);
        }, 60_000);
    }

    it("q8_0: χ also agrees with the original F32 model's (its weight rounding is below the reported error)", async () => {
        agreeWithin(await sweepFile(files.q8_0), await sweepFile(files.f32), 4);
    }, 60_000);
});
