// Section `priority`: what decoding at background priority (README "Decode priority") does for
// other work of the same process, and what it costs the decode.
//
// A worker thread plays the UI: every 16 ms a frame is due, and the thread wakes and does a fixed
// amount of CPU work (calibrated to ~4 ms on this machine before any decode starts). A frame's
// time is due → its work done: ~4 ms on a free core, more when the thread waits for a core or is
// preempted. The thread runs at the process's priority and in the process's scheduling group, so
// this isolates what the nice values do (latency.spec.ts's browser is in a group of its own:
// README). Meanwhile the main thread generates, interleaved repeats of: normal priority and
// background priority with threads = BENCH_THREADS (default: the cores, so every core has a decode
// thread), and background with its own default thread count (one core left free).
//
// Environment: BENCH_PRIORITY_REPEATS (default 3), BENCH_PRIORITY_TOKENS (default 200).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { writeRandomModelFile } from "../engine/gguf/RandomModelFile.js";
import { defaultDecodeThreads, type DecodePriority } from "../engine/runtime/decodePriority.js";
import { generate } from "../engine/runtime/generate.js";
import { TillerModel } from "../engine/runtime/TillerModel.js";
import { median } from "./benchStatistics.js";

const FRAME_MS = 16;
const WORK_MS = 4;

// CommonJS, run by the worker with eval: calibrate, then one frame every FRAME_MS until stopped
const frameProbe = `
const { parentPort, workerData } = require("node:worker_threads");
const stop = new Int32Array(workerData.stop);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
let sink = 0;
const burn = (n) => { for (let i = 0; i < n; i++) sink = (sink * 1664525 + 1013904223) >>> 0; };
let iterations = 1e5;
for (let round = 0; round < 20; round++) {
    const start = performance.now();
    burn(iterations);
    iterations = Math.max(1, Math.round(iterations * ${WORK_MS} / Math.max(0.01, performance.now() - start)));
}
parentPort.postMessage({ ready: true });
const frames = [];
let due = performance.now() + ${FRAME_MS};
while (Atomics.load(stop, 0) === 0) {
    const wait = due - performance.now();
    if (wait > 0)
        Atomics.wait(sleeper, 0, 0, wait);
    burn(iterations);
    const done = performance.now();
    frames.push(done - due);
    due = Math.max(due + ${FRAME_MS}, done);
}
parentPort.postMessage({ frames, sink });
`;

interface FrameRun {
    frames: number[];
    /** generated tokens per second of the generation's wall time (prompt excluded) */
    tokensPerSecond: number;
    /** the whole generate() call, prompt included */
    wallMs: number;
}

async function measure(model: TillerModel, priority: DecodePriority, threads: number, tokens: number): Promise<FrameRun> {
    const context = await model.createContext({ threads, contextSize: tokens + 32, decodePriority: priority });
    const stop = new SharedArrayBuffer(4);
    const worker = new Worker(frameProbe, { eval: true, workerData: { stop } });
    try {
        const messages: { ready?: boolean; frames?: number[] }[] = [];
        let notify: (() => void) | undefined;
        worker.on("message", (message: { ready?: boolean; frames?: number[] }) => {
            messages.push(message);
            notify?.();
        });
        const next = () => new Promise<{ ready?: boolean; frames?: number[] }>((resolve) => {
            const take = () => {
                const message = messages.shift();
                if (message != null)
                    resolve(message);
                else
                    notify = take;
            };
            take();
        });
        await next(); // calibrated
        const start = performance.now();
        const result = await generate(context, "Once upon a time", { maxTokens: tokens, sampling: { temperature: 0 } }).result;
        const wallMs = performance.now() - start;
        Atomics.store(new Int32Array(stop), 0, 1);
        const { frames } = await next();
        return { frames: frames ?? [], tokensPerSecond: result.timings.tokensPerSecond, wallMs };
    } finally {
        await worker.terminate();
        await context.dispose();
    }
}

function quantile(values: readonly number[], q: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

export async function benchDecodePriority(threads: number): Promise<string[]> {
    const repeats = Number(process.env.BENCH_PRIORITY_REPEATS ?? 3);
    const tokens = Number(process.env.BENCH_PRIORITY_TOKENS ?? 200);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-bench-priority-"));
    const modelPath = path.join(dir, "random-8x512.gguf");
    await writeRandomModelFile(modelPath, { nLayer: 8, nEmbd: 512, nHead: 8, nVocab: 8192, type: "f16", seed: 99 });
    const model = await TillerModel.load(modelPath, { gpuLayers: 0, checkSupport: false });
    const loadBefore = os.loadavg()[0]!;
    const variants: { name: string; priority: DecodePriority; threads: number; runs: FrameRun[] }[] = [
        { name: `normal, ${threads} threads`, priority: "normal", threads, runs: [] },
        { name: `background, ${threads} threads`, priority: "background", threads, runs: [] },
        { name: `background, ${defaultDecodeThreads("background", threads)} (default)`, priority: "background", threads: defaultDecodeThreads("background", threads), runs: [] }
    ];
    try {
        for (let repeat = 0; repeat < repeats; repeat++) {
            for (const variant of repeat % 2 === 0 ? variants : [...variants].reverse())
                variant.runs.push(await measure(model, variant.priority, variant.threads, tokens));
        }
    } finally {
        await model.dispose();
        fs.rmSync(dir, { recursive: true, force: true });
    }
    const loadAfter = os.loadavg()[0]!;
    const lines = [
        `random 8 × 512 F16 model, ${tokens} greedy tokens, ${repeats} interleaved repeats per variant; ` +
            `a frame (${WORK_MS} ms of CPU work) due every ${FRAME_MS} ms on a thread of the same process at its priority; ` +
            `1-min load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`,
        "decode                    frame due → done: median  p95     max      frames late > 16 ms   decode tok/s (median)  generate() wall (median)"
    ];
    for (const variant of variants) {
        const frames = variant.runs.flatMap((run) => run.frames);
        const late = frames.filter((frame) => frame > FRAME_MS).length;
        lines.push(`${variant.name.padEnd(25)} ${median(frames).toFixed(1).padStart(22)} ms ${quantile(frames, 0.95).toFixed(1).padStart(6)} ms ` +
            `${Math.max(...frames).toFixed(1).padStart(6)} ms ${`${late} of ${frames.length}`.padStart(14)}        ` +
            `${median(variant.runs.map((run) => run.tokensPerSecond)).toFixed(1).padStart(6)}            ` +
            `${median(variant.runs.map((run) => run.wallMs)).toFixed(0)} ms`);
    }
    return lines;
}
