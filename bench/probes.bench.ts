// Probes on stories260K: what a susceptibility sweep costs against K naive full passes (each
// strength re-decoding prompt + completion). Blind detection has its own section, `forensics`.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { susceptibilitySweep, parseAlphaGrid } from "../engine/probes/susceptibilitySweep.js";
import { scoreTokens } from "../engine/runtime/scoreTokens.js";
import { composeControlVector } from "../engine/runtime/SteeringPatch.js";
import type { SteeringVector } from "../engine/runtime/SteeringVector.js";
import { TillerModel } from "../engine/runtime/TillerModel.js";
import { buildVectorFromDataset } from "../engine/vectors/buildVectorFromDataset.js";
import { loadBuiltinDataset } from "../engine/vectors/datasets/builtinDatasets.js";
import { median } from "./benchStatistics.js";

const storiesPath = process.env.TILLER_STORIES ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "shared", "models", "stories260K.gguf");

export async function benchProbes(threads: number): Promise<string[]> {
    if (!fs.existsSync(storiesPath))
        return [`probes: skipped, ${storiesPath} is absent (set TILLER_STORIES)`];
    const model = await TillerModel.load(storiesPath);
    const context = await model.createContext({ threads, contextSize: 4096, batchSize: 1024, sequences: 32, precise: true });
    const lines: string[] = [];
    try {
        const build = async (name: string) => ({ ...(await buildVectorFromDataset(context, loadBuiltinDataset(name), { readAt: "mean" })).vector, name });
        const library: SteeringVector[] = [await build("sentiment"), await build("formality"), await build("refusal"), await build("sycophancy")];

        const prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.";
        const completion = " One day, she saw a big red ball. She was so happy and she laughed and played with the ball all day long.";
        const alphas = parseAlphaGrid("-2:2:9");
        const vector = library[0]!;
        const layers = { first: 1, last: 4 };
        const sweepTimes: number[] = [];
        const naiveTimes: number[] = [];
        let decodes = { prefix: 0, suffix: 0, prefixTokens: 0, suffixTokens: 0 };
        const all = model.tokenize(prompt + completion);
        const from = model.tokenize(prompt).length;
        const strengths = alphas.length + 7; // the grid + the centre and six stencil points of χ
        const linearTimes: number[] = [];
        for (let repeat = 0; repeat < 5; repeat++) {
            // from generated token 1: the prompt is decoded once, unsteered, and shared by every strength
            const sweep = await susceptibilitySweep(context, prompt, completion, { vector, layers, alphas, fromToken: 1, linearResponse: false });
            sweepTimes.push(sweep.elapsedMs);
            decodes = sweep.decodes;
            linearTimes.push((await susceptibilitySweep(context, prompt, completion, { vector, layers, alphas, fromToken: 1 })).elapsedMs);
            const started = performance.now();
            for (let k = 0; k < strengths; k++) // as many strengths, each a full pass
                await scoreTokens(context, all, { steering: composeControlVector([{ id: "s", vector, strength: alphas[k % alphas.length]!, layers }], 0, model.shape), from });
            naiveTimes.push(performance.now() - started);
        }
        lines.push(
            `susceptibility sweep from generated token 1, K=${alphas.length} (+7 for χ) strengths over a ${all.length - from}-token completion after a ${from}-token prompt:`,
            `  decodes: ${decodes.prefix} prefix (${decodes.prefixTokens} tokens) + ${decodes.suffix} suffix (${decodes.suffixTokens} tokens)`,
            `  sweep ${median(sweepTimes).toFixed(1)} ms vs ${strengths} naive full passes ${median(naiveTimes).toFixed(1)} ms (medians of 5): ` +
            `${(median(naiveTimes) / median(sweepTimes)).toFixed(2)}× faster; tokens decoded ${decodes.prefixTokens + decodes.suffixTokens} vs ${strengths * all.length}`,
            `  keeping the stencil's distributions for I_t and the FDT gap: ${median(linearTimes).toFixed(1)} ms (${(median(linearTimes) / median(sweepTimes)).toFixed(2)}× the sweep without)`
        );
    } finally {
        await model.dispose();
    }
    return lines;
}
