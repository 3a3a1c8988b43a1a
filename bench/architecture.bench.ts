// Bench section `arch`: the generation ratios of the `generation` section on a non-llama
// architecture (default qwen3: q/k norms, GQA, a BPE vocabulary), plus the cost of an α-sweep.
// The same code is scripts/gpu-check.sh's measurement with every layer on the GPU.
//
// Environment: BENCH_ARCH (default qwen3; any of `tiller make-model --arch`), BENCH_ARCH_LAYERS /
// BENCH_ARCH_EMBD (default 12 × 768, a multiple of 256; heads of 64), BENCH_ARCH_TYPE (f16, or q8_0 / q4_k_m through
// `tiller quantize`), BENCH_GPU_LAYERS (default 0; a number or "auto"; needs a GPU backend, e.g.
// TILLER_GPU=cuda), BENCH_THREADS, BENCH_TOKENS (default 64), BENCH_REPEATS (default 5).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomArchitectures, writeArchitectureModelFile, type RandomArchitecture } from "../engine/gguf/RandomArchitectureModel.js";
import { susceptibilitySweep } from "../engine/probes/susceptibilitySweep.js";
import { generate, type GenerateOptions } from "../engine/runtime/generate.js";
import { parseQuantizationType, quantizeModel } from "../engine/runtime/quantizeModel.js";
import type { TillerContext } from "../engine/runtime/TillerContext.js";
import { getTillerBackend } from "../engine/runtime/TillerBackend.js";
import { TillerModel } from "../engine/runtime/TillerModel.js";
import { median } from "./benchStatistics.js";
import { createPeerCompletion, steadyRate } from "./peerCompletion.js";
import { seededSteeringVector } from "./seededSteeringVector.js";

const prompt = "The lab measured how each token responds to the push";


async function engineRate(context: TillerContext, tokens: number, options: GenerateOptions): Promise<number> {
    const stamps: number[] = [];
    for await (const _token of generate(context, prompt, { maxTokens: tokens, ...options }))
        stamps.push(performance.now());
    return steadyRate(stamps);
}

export async function benchArchitecture(): Promise<string[]> {
    const architecture = (process.env.BENCH_ARCH ?? "qwen3") as RandomArchitecture;
    if (!randomArchitectures.includes(architecture))
        throw new Error(`BENCH_ARCH must be one of ${randomArchitectures.join(", ")}`);
    const nLayer = Number(process.env.BENCH_ARCH_LAYERS ?? 12);
    const nEmbd = Number(process.env.BENCH_ARCH_EMBD ?? 768);
    const nHead = nEmbd / 64; // head size 64, 4 query heads per KV head
    const type = process.env.BENCH_ARCH_TYPE ?? "f16";
    const gpuLayersEnv = process.env.BENCH_GPU_LAYERS ?? "0";
    const gpuLayers = gpuLayersEnv === "auto" ? "auto" as const : Number(gpuLayersEnv);
    const threads = Number(process.env.BENCH_THREADS ?? os.availableParallelism());
    const tokens = Number(process.env.BENCH_TOKENS ?? 64);
    const repeats = Number(process.env.BENCH_REPEATS ?? 5);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-bench-arch-"));
    const lines: string[] = [];
    try {
        const f16Path = path.join(dir, `${architecture}-f16.gguf`);
        let started = performance.now();
        await writeArchitectureModelFile(f16Path, {
            architecture, nLayer, nEmbd, nHead, nHeadKv: nHead / 4, nFf: 3 * nEmbd, type: "f16", seed: 2026, contextLength: 4096
        });
        lines.push(`${architecture}, ${nLayer} blocks × ${nEmbd} wide, F16 written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        let modelPath = f16Path;
        if (type !== "f16") {
            modelPath = path.join(dir, `${architecture}-${type}.gguf`);
            const quantized = await quantizeModel(f16Path, modelPath, { type: parseQuantizationType(type), threads });
            lines.push(`quantized to ${quantized.type} in ${quantized.seconds.toFixed(2)} s (${(quantized.outputBytes / 2 ** 20).toFixed(1)} MiB)`);
        }

        const backend = await getTillerBackend();
        started = performance.now();
        const model = await TillerModel.load(modelPath, { gpuLayers });
        const loadSeconds = (performance.now() - started) / 1000;
        lines.push(`backend ${backend.gpu === false ? "CPU" : backend.gpu}, ${model.gpuLayers} of ${nLayer} layers offloaded, loaded in ${loadSeconds.toFixed(2)} s ` +
            `(support check: steering ${model.support?.steering ? "yes" : "no"}, capture ${model.support?.capture ? "yes" : "no"})`);
        const context = await model.createContext({ threads, contextSize: 512, batchSize: 512, sequences: 2 });
        const steering = seededSteeringVector("steer", nLayer, nEmbd, 1, 0.05);
        const probes = [1, 2, 3, 4].map((seed) => ({ vector: seededSteeringVector(`probe${seed}`, nLayer, nEmbd, 10 + seed, 1) }));

        // the peer: node-llama-cpp's own completion on the same file, same backend, threads and sizes
        const peerCompletion = await createPeerCompletion(await backend.nodeLlama(), { modelPath, gpuLayers: model.gpuLayers, threads, contextSize: 512, prompt, tokens });
        const peerRate = async (): Promise<number> => (await peerCompletion.run()).rate;
        const variants: [string, () => Promise<number>][] = [
            ["node-llama-cpp completion (peer)", peerRate],
            ["engine, unsteered", () => engineRate(context, tokens, {})],
            ["engine, steered on all layers", () => engineRate(context, tokens, { patches: [{ id: "s", vector: steering, strength: 1 }] })],
            ["engine, capturing 4 vectors × all layers", () => engineRate(context, tokens, { probes })]
        ];
        for (const [, run] of variants)
            await run(); // warm-up
        const rates = variants.map(() => [] as number[]);
        for (let repeat = 0; repeat < repeats; repeat++)
            for (const [i, [, run]] of variants.entries())
                rates[i]!.push(await run());
        const medians = rates.map(median);
        lines.push(`threads ${threads}, ${tokens} tokens per run, median of ${repeats} interleaved runs (tok/s):`);
        for (const [i, [name]] of variants.entries())
            lines.push(`  ${name.padEnd(42)} ${medians[i]!.toFixed(1).padStart(9)}`);
        const [peer, unsteered, steered, capture] = medians as [number, number, number, number];
        lines.push(
            `  engine unsteered / node-llama-cpp          ${(unsteered / peer).toFixed(3)}  (target ≥ 0.95)`,
            `  steered / unsteered                        ${(steered / unsteered).toFixed(3)}  (target ≥ 0.98)`,
            `  capture / unsteered                        ${(capture / unsteered).toFixed(3)}  (target ≥ 0.8)`
        );
        await peerCompletion.dispose();

        // an α-sweep of 9 strengths over a 24-token completion: one prefix + one suffix batch per strength
        const sweepContext = await model.createContext({ threads, contextSize: 1024, batchSize: 1024, sequences: 2, precise: true });
        const completionText = " and every number it printed was checked twice before anyone trusted it again.";
        const sweepTimes: number[] = [];
        let decodes = "";
        for (let i = 0; i < 3; i++) {
            const result = await susceptibilitySweep(sweepContext, prompt, completionText, {
                vector: steering, layers: { first: 1, last: nLayer - 1 }, alphas: [-4, -3, -2, -1, 0, 1, 2, 3, 4]
            });
            sweepTimes.push(result.elapsedMs);
            decodes = `${result.decodes.prefix} prefix + ${result.decodes.suffix} suffix decodes, ${result.tokens.length} completion tokens`;
        }
        lines.push(`α-sweep, 9 strengths (${decodes}): median ${median(sweepTimes).toFixed(1)} ms`);
        await model.dispose();
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    return lines;
}
