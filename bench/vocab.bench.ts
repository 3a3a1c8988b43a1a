// Section `vocab`: per-token speed on real vocabulary sizes, and start-up.
//
// Random F16 llama models of a few layers (so the vocabulary dominates a decode: 8k, 32k, 128k,
// 262k tokens) and the 16 × 768 model. For each, interleaved repeats of
//   bare:  Tiller's own decode loop with nothing around it: one decode per token, the next token
//          from a native argmax (analyzeRows with statistics off), no events, no statistics;
//   full:  Tiller's generate() (greedy, statistics, read-outs, 5 alternatives, per-token events);
//   peer:  node-llama-cpp's LlamaCompletion on the same file, threads and context.
// Rates are steady-state: (tokens − 1) / (first → last token). Also the native analysis itself,
// timed on a real logits row: argmax only, statistics + read-outs at T = 1 (greedy), and with a
// sampler at T = 0.8 (a second exponential pass), against the per-token time of a full run.
// Start-up: `tiller generate -n 8` on stories260K (wall clock of the process, median of 3) and
// model.load over the RPC server (in process, through the server's validation).
//
// Environment: BENCH_THREADS, BENCH_VOCAB_TOKENS (default 48), BENCH_REPEATS (default 5),
// BENCH_VOCABS (default 8192,32768,131072,262144).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaCompletion, LlamaLogLevel } from "node-llama-cpp";
import { writeRandomModelFile, type RandomModelOptions } from "../engine/gguf/RandomModelFile.js";
import { EngineRpcServer } from "../engine/service/EngineRpcServer.js";
import { EngineService } from "../engine/service/EngineService.js";
import { generate } from "../engine/runtime/generate.js";
import { resolveSamplingOptions } from "../engine/runtime/sampling/SamplingOptions.js";
import { TokenSampler } from "../engine/runtime/sampling/TokenSampler.js";
import type { TillerContext } from "../engine/runtime/TillerContext.js";
import { TillerModel } from "../engine/runtime/TillerModel.js";
import { median } from "./benchStatistics.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const storiesPath = process.env.TILLER_STORIES ?? path.resolve(root, "..", "shared", "models", "stories260K.gguf");
const tokens = Number(process.env.BENCH_VOCAB_TOKENS ?? 48);
const repeats = Number(process.env.BENCH_REPEATS ?? 5);
const vocabs = (process.env.BENCH_VOCABS ?? "8192,32768,131072,262144").split(",").map(Number);
const prompt = "The lab measured how each token responds to the push";
const contextSize = 256;

function rateOf(stamps: number[]): number {
    if (stamps.length < 2)
        throw new Error(`only ${stamps.length} tokens were generated; the bench needs at least 2`);
    return (stamps.length - 1) / ((stamps.at(-1)! - stamps[0]!) / 1000);
}

/** The same decodes as generate(), nothing else: the floor any generation loop sits on. */
async function bareRate(context: TillerContext): Promise<number> {
    const promptTokens = context.model.tokenize(prompt);
    await context.clearMemory();
    await context.evaluate(promptTokens, { startPosition: 0, logits: "last" });
    let row = promptTokens.length - 1;
    let position = promptTokens.length;
    const stamps: number[] = [];
    for (let index = 0; index < tokens; index++) {
        const id = context.analyzeRows([row], { statistics: false }).greedy[0]!;
        stamps.push(performance.now());
        if (index < tokens - 1)
            await context.evaluate(Int32Array.of(id), { startPosition: position, logits: "last" });
        row = 0;
        position++;
    }
    return rateOf(stamps);
}

async function fullRate(context: TillerContext): Promise<number> {
    const stamps: number[] = [];
    // the random model may emit its EOG id; generation then stops early, so ignore it
    for await (const _token of generate(context, prompt, { maxTokens: tokens }))
        stamps.push(performance.now());
    return rateOf(stamps);
}

/** µs per call of the native analysis on the prompt's last logits row (median of many calls). */
async function analysisMicros(context: TillerContext): Promise<{ argmax: number; greedy: number; sampled: number }> {
    const promptTokens = context.model.tokenize(prompt);
    await context.clearMemory();
    await context.evaluate(promptTokens, { startPosition: 0, logits: "last" });
    const row = [promptTokens.length - 1];
    const sampler = new TokenSampler(resolveSamplingOptions({ temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05 }));
    const time = (fn: () => void): number => {
        const samples: number[] = [];
        for (let i = 0; i < 60; i++) {
            const start = performance.now();
            fn();
            samples.push((performance.now() - start) * 1000);
        }
        return median(samples);
    };
    return {
        argmax: time(() => context.analyzeRows(row, { statistics: false })),
        greedy: time(() => context.analyzeRows(row, { topAlternatives: 5, temperature: 0 })),
        sampled: time(() => context.analyzeRows(row, { topAlternatives: 5, sampler }))
    };
}

interface VocabCase {
    label: string;
    options: RandomModelOptions;
}

export async function benchVocab(threads: number): Promise<string[]> {
    const lines: string[] = [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-bench-vocab-"));
    const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
    const cases: VocabCase[] = [
        ...vocabs.map((nVocab) => ({ label: `4 × 256, vocab ${nVocab}`, options: { nLayer: 4, nEmbd: 256, nHead: 4, nVocab, contextLength: 1024, type: "f16", seed: 7 } as RandomModelOptions })),
        ...(process.env.BENCH_VOCAB_LARGE === "0" ? [] : [{ label: "16 × 768, vocab 8192", options: { nLayer: 16, nEmbd: 768, nHead: 12, nVocab: 8192, contextLength: 1024, type: "f16", seed: 1234 } as RandomModelOptions }])
    ];
    const header = ["model", "bare tok/s", "full tok/s", "peer tok/s", "full/bare", "full/peer", "overhead ms/tok", "argmax µs", "stats+read-outs µs", "T=0.8 µs", "read-outs % of token"];
    const rows: string[][] = [header];
    const misses: string[] = [];
    try {
        for (const { label, options } of cases) {
            process.stderr.write(`vocab: ${label}\n`);
            const modelPath = path.join(dir, `random-${options.nLayer}x${options.nEmbd}-${options.nVocab}.gguf`);
            await writeRandomModelFile(modelPath, options);
            const model = await TillerModel.load(modelPath, { gpuLayers: 0 });
            const context = await model.createContext({ threads, contextSize, batchSize: contextSize });
            const peerModel = await llama.loadModel({ modelPath, gpuLayers: 0 });
            const peerContext = await peerModel.createContext({ threads, contextSize, batchSize: contextSize });
            const peerSequence = peerContext.getSequence();
            const completion = new LlamaCompletion({ contextSequence: peerSequence });
            const peerRate = async (): Promise<number> => {
                const stamps: number[] = [];
                await peerSequence.clearHistory();
                await completion.generateCompletion(prompt, {
                    maxTokens: tokens, temperature: 0, repeatPenalty: false,
                    onToken: (chunk) => {
                        for (let i = 0; i < chunk.length; i++)
                            stamps.push(performance.now());
                    }
                });
                return rateOf(stamps);
            };
            const variants = [() => bareRate(context), () => fullRate(context), peerRate];
            for (const variant of variants) {
                process.stderr.write(`vocab: ${label}: warm-up ${variants.indexOf(variant)}\n`);
                await variant(); // warm-up
            }
            const rates = variants.map(() => [] as number[]);
            for (let repeat = 0; repeat < repeats; repeat++) {
                for (const [i, variant] of variants.entries())
                    rates[i]!.push(await variant());
            }
            const [bare, full, peer] = rates.map(median) as [number, number, number];
            const micros = await analysisMicros(context);
            const tokenMicros = 1e6 / full;
            // the read-outs' own cost: the statistics pass beyond the argmax the bare loop needs anyway
            const readoutShare = (micros.greedy - micros.argmax) / tokenMicros;
            rows.push([label, bare.toFixed(1), full.toFixed(1), peer.toFixed(1), (full / bare).toFixed(3), (full / peer).toFixed(3),
                (1000 / full - 1000 / bare).toFixed(3), micros.argmax.toFixed(0), micros.greedy.toFixed(0), micros.sampled.toFixed(0),
                (100 * readoutShare).toFixed(2)]);
            if (full / bare < 0.95)
                misses.push(`${label}: full/bare ${(full / bare).toFixed(3)} < 0.95`);
            if (full / peer < 1.2)
                misses.push(`${label}: full/peer ${(full / peer).toFixed(3)} < 1.2`);
            if (readoutShare > 0.02)
                misses.push(`${label}: read-outs ${(100 * readoutShare).toFixed(2)}% > 2%`);
            await peerContext.dispose();
            await peerModel.dispose();
            await model.dispose();
            fs.rmSync(modelPath, { force: true });
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const widths = header.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    lines.push(`threads ${threads}, ${tokens} tokens per run, ${repeats} interleaved runs each (medians, after one warm-up)`);
    lines.push(...rows.map((row) => row.map((cell, column) => column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)).join("  ")));
    lines.push(misses.length === 0 ? "targets (full/bare ≥ 0.95, full/peer ≥ 1.2, read-outs ≤ 2%): all met" : `targets MISSED: ${misses.join("; ")}`);
    lines.push(...(await benchStartup(threads)));
    return lines;
}

/** Time to first token: the CLI as a fresh process, and model.load over the RPC server. */
async function benchStartup(threads: number): Promise<string[]> {
    if (!fs.existsSync(storiesPath))
        return [`start-up: skipped, ${storiesPath} is absent (set TILLER_STORIES)`];
    const cli = path.join(root, "bin", "tiller.js");
    const walls: number[] = [];
    for (let i = 0; i < 3; i++) {
        const start = performance.now();
        execFileSync(process.execPath, [cli, "generate", "-m", storiesPath, "-p", "Once upon a time", "-n", "8", "--threads", String(threads)], { stdio: "ignore" });
        walls.push(performance.now() - start);
    }
    const service = new EngineService({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "tiller-bench-rpc-")), threads });
    const server = new EngineRpcServer(service);
    const pending = new Map<string, (message: { kind: string }) => void>();
    const link = server.connect({ send: (message) => {
        const parsed = (typeof message === "string" ? JSON.parse(message) : message) as { kind: string; id?: string };
        if (parsed.id != null && parsed.kind !== "event")
            pending.get(parsed.id)?.(parsed);
    } });
    const request = (id: string, method: string, params: unknown) => new Promise<{ kind: string }>((resolve) => {
        pending.set(id, resolve);
        link.receive(JSON.stringify({ kind: "request", id, method, params }));
    });
    const loads: number[] = [];
    for (let i = 0; i < 3; i++) {
        const start = performance.now();
        const reply = await request(`load${i}`, "model.load", { path: storiesPath, threads });
        loads.push(performance.now() - start);
        if (reply.kind !== "response")
            throw new Error(`model.load failed: ${JSON.stringify(reply)}`);
        await request(`unload${i}`, "model.unload", {});
    }
    link.close();
    await service.dispose();
    return [
        `start-up: \`tiller generate -n 8\` on stories260K, whole process: median ${median(walls).toFixed(0)} ms (runs: ${walls.map((w) => w.toFixed(0)).join(", ")})`,
        `start-up: model.load of stories260K over the RPC server (engine already running): median ${median(loads).toFixed(0)} ms (runs: ${loads.map((w) => w.toFixed(0)).join(", ")})`
    ];
}
