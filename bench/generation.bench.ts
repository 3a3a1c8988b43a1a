// `npm run bench`: generation speed of the engine against node-llama-cpp's own completion on the
// same model file, with the same threads, context and batch sizes.
//
// Rates are steady-state decode rates: (tokens - 1) / (time from the first generated token to the
// last), so prompt evaluation and start-up costs are excluded on both sides alike. Each variant
// runs `repeats` times, interleaved (A B C D A B C D ...) so that drift of the machine hits all
// variants equally; the table shows medians.
//
// Environment: BENCH_THREADS (default: cores available), BENCH_TOKENS (default 64),
// BENCH_REPEATS (default 7), BENCH_LAYERS / BENCH_EMBD (default 16 × 768).
// `npm run bench -- --only generation,probes` (or BENCH_SECTIONS) runs some sections; see `sections`.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { writeRandomModelFile } from "../engine/gguf/RandomModelFile.js";
import { generate, type GenerateOptions } from "../engine/runtime/generate.js";
import type { TillerContext } from "../engine/runtime/TillerContext.js";
import { TillerModel } from "../engine/runtime/TillerModel.js";
import { median, medianIntervalRate } from "./benchStatistics.js";
import { createPeerCompletion, steadyRate } from "./peerCompletion.js";
import { seededSteeringVector } from "./seededSteeringVector.js";
import { benchMemory } from "./memory.bench.js";
import { benchProbes } from "./probes.bench.js";
import { benchVectorBuild } from "./vectorBuild.bench.js";
import { benchToyworldTraining } from "./toyworldTraining.bench.js";
import { benchToyworldDescriptions } from "./toyworldDescriptions.bench.js";
import { benchToyworldHeldOut } from "./toyworldHeldOut.bench.js";
import { benchBlackbox } from "./blackbox.bench.js";
import { benchReliability } from "./reliability.bench.js";
import { benchForensics } from "./forensics.bench.js";
import { benchVectors } from "./vectors.bench.js";
import { benchArchitecture } from "./architecture.bench.js";
import { benchVocab } from "./vocab.bench.js";
import { benchStartup } from "./startup.bench.js";
import { benchDecodePriority } from "./decodePriority.bench.js";

const threads = Number(process.env.BENCH_THREADS ?? os.availableParallelism());
const tokens = Number(process.env.BENCH_TOKENS ?? 64);
const repeats = Number(process.env.BENCH_REPEATS ?? 7);
const nLayer = Number(process.env.BENCH_LAYERS ?? 16);
const nEmbd = Number(process.env.BENCH_EMBD ?? 768);
const contextSize = 512;
const prompt = "The lab measured how each token responds to the push";


async function engineRate(context: TillerContext, options: GenerateOptions): Promise<{ rate: number; count: number; intervalRate: number }> {
    const stamps: number[] = [];
    const run = generate(context, prompt, { maxTokens: tokens, ...options });
    for await (const _token of run)
        stamps.push(performance.now());
    return { rate: steadyRate(stamps), count: stamps.length, intervalRate: medianIntervalRate(stamps) };
}

/** Generation speed against the peer, then memory and vector build on the same random model. */
async function benchGeneration(): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-bench-"));
    const modelPath = path.join(dir, `random-${nLayer}x${nEmbd}.gguf`);
    process.stdout.write(`writing a random ${nLayer}-layer × ${nEmbd}-wide F16 llama model...\n`);
    await writeRandomModelFile(modelPath, {
        nLayer, nEmbd, nHead: 12, nFf: 4 * nEmbd, nVocab: 8192, contextLength: 2048, type: "f16", seed: 1234
    });

    const model = await TillerModel.load(modelPath, { gpuLayers: 0 });
    const context = await model.createContext({ threads, contextSize, batchSize: contextSize });
    const steeringVector = seededSteeringVector("steer", nLayer, nEmbd, 1, 0.05);
    const probes = [1, 2, 3, 4].map((seed) => ({ vector: seededSteeringVector(`probe${seed}`, nLayer, nEmbd, 10 + seed, 1) }));

    // the peer: node-llama-cpp's own completion on the same file (its own copy of the weights)
    const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
    const peerCompletion = await createPeerCompletion(llama, { modelPath, threads, contextSize, prompt, tokens });
    const peerRate = () => peerCompletion.run();

    const variants: { name: string; run: () => Promise<{ rate: number; count: number; intervalRate?: number }> }[] = [
        { name: "node-llama-cpp completion (peer)", run: peerRate },
        { name: "engine, unsteered", run: () => engineRate(context, {}) },
        { name: "engine, steered on all layers", run: () => engineRate(context, { patches: [{ id: "s", vector: steeringVector, strength: 1 }] }) },
        { name: "engine, capturing 4 vectors × all layers", run: () => engineRate(context, { probes }) }
    ];

    process.stdout.write(`threads ${threads}, ${tokens} tokens per run, ${repeats} runs each (after one warm-up)\n`);
    for (const variant of variants)
        await variant.run(); // warm-up: first-touch of mmap'd weights, graph reservation
    const rates = variants.map(() => [] as number[]);
    const counts = variants.map(() => [] as number[]);
    const intervalRates = variants.map(() => [] as number[]);
    for (let repeat = 0; repeat < repeats; repeat++) {
        for (const [i, variant] of variants.entries()) {
            const { rate, count, intervalRate } = await variant.run();
            rates[i]!.push(rate);
            counts[i]!.push(count);
            intervalRates[i]!.push(intervalRate ?? Number.NaN);
        }
    }
    // the engine's own ratios: per repeat (the runs adjacent in time), from each run's median token
    // interval, then the median over repeats; the machine's slow minutes and one stalled token move
    // a ratio of medians of steady rates by more than these targets allow (vocab.bench.ts)
    const pairedRatio = (variant: number): number => median(intervalRates[variant]!.map((rate, repeat) => rate / intervalRates[1]![repeat]!));

    const medians = rates.map(median);
    const [peer, unsteered] = medians as [number, number];
    const rows = [
        ["variant", "median tok/s", "min", "max", "tokens"],
        ...variants.map((variant, i) => [variant.name, medians[i]!.toFixed(2), Math.min(...rates[i]!).toFixed(2),
            Math.max(...rates[i]!).toFixed(2), String(median(counts[i]!))])
    ];
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    process.stdout.write("\n" + rows.map((row) => row.map((cell, column) => column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)).join("  ")).join("\n") + "\n\n");

    const targets = [
        ["engine unsteered / node-llama-cpp", unsteered / peer, 0.95],
        ["steered / unsteered (paired)", pairedRatio(2), 0.98],
        ["capture / unsteered (paired)", pairedRatio(3), 0.8]
    ] as const;
    for (const [name, ratio, target] of targets)
        process.stdout.write(`${name.padEnd(36)} ${ratio.toFixed(3)}  (target ≥ ${target}: ${ratio >= target ? "met" : "MISSED"})\n`);

    await peerCompletion.dispose();
    await context.dispose();

    process.stdout.write("\n" + benchMemory(modelPath, { nLayer, nEmbd, nEmbdKv: nEmbd }, contextSize, threads).join("\n") + "\n");

    const buildContext = await model.createContext({ threads, contextSize: 4096, batchSize: 1024, sequences: 32 });
    process.stdout.write("\n" + (await benchVectorBuild(buildContext, 3)).join("\n") + "\n");
    await model.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The bench's sections, run in this order. `npm run bench -- --only a,b` (or BENCH_SECTIONS=a,b)
 * runs a subset; each section prints its own lines. Add a section here, with its code in a file of
 * its own under bench/.
 */
const sections: { name: string; run: () => Promise<void> }[] = [
    { name: "generation", run: benchGeneration },
    { name: "probes", run: async () => { process.stdout.write((await benchProbes(threads)).join("\n") + "\n"); } },
    { name: "toyworld", run: async () => { process.stdout.write((await benchToyworldTraining()).join("\n") + "\n"); } },
    { name: "toyworld-heldout", run: async () => { process.stdout.write((await benchToyworldHeldOut(1)).join("\n") + "\n"); } },
    { name: "toyworld-descriptions", run: async () => { process.stdout.write((await benchToyworldDescriptions(1)).join("\n") + "\n"); } },
    { name: "blackbox", run: () => benchBlackbox(threads) },
    { name: "forensics", run: async () => { process.stdout.write((await benchForensics(threads)).join("\n") + "\n"); } },
    { name: "vectors", run: async () => { process.stdout.write((await benchVectors(threads)).join("\n") + "\n"); } },
    { name: "arch", run: async () => { process.stdout.write((await benchArchitecture()).join("\n") + "\n"); } },
    { name: "vocab", run: async () => { process.stdout.write((await benchVocab(threads)).join("\n") + "\n"); } },
    { name: "startup", run: async () => { process.stdout.write((await benchStartup(threads)).join("\n") + "\n"); } },
    { name: "priority", run: async () => { process.stdout.write((await benchDecodePriority(threads)).join("\n") + "\n"); } },
    { name: "reliability", run: async () => { process.stdout.write((await benchReliability()).join("\n") + "\n"); } }
];

function selectedSections(): Set<string> | undefined {
    const onlyIndex = process.argv.indexOf("--only");
    const list = onlyIndex >= 0 ? process.argv[onlyIndex + 1] : process.env.BENCH_SECTIONS;
    if (list === undefined || list === "")
        return undefined;
    const names = new Set(list.split(",").map((name) => name.trim()));
    for (const name of names) {
        if (!sections.some((section) => section.name === name))
            throw new Error(`unknown bench section "${name}"; sections: ${sections.map((section) => section.name).join(", ")}`);
    }
    return names;
}

async function main(): Promise<void> {
    const only = selectedSections();
    for (const section of sections) {
        if (only !== undefined && !only.has(section.name))
            continue;
        process.stdout.write(`\n## ${section.name}\n`);
        await section.run();
    }
}

await main();
