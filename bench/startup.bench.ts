// Section `startup`: how long a fresh process takes to produce tokens (issue 13's start-up target:
// `tiller generate -n 8` on stories260K within 0.5 s of llama.cpp's own CLI doing the same).
//
// Each round runs, one after the other (interleaved, so drift of the machine hits all alike):
//   tiller:        `node bin/tiller.js generate -m stories260K -p "Once upon a time" -n 8`, as
//                  installed (the direct start where it applies: README "Fast start");
//   tiller (nlc):  the same with TILLER_DIRECT_START=0 (node-llama-cpp loads llama.cpp, as before);
//   llama.cpp:     llama-completion with the same prompt, tokens, threads, greedy (skipped with a
//                  message when the binary is absent; LLAMA_COMPLETION names it);
//   RPC:           a fresh engine process (bench/startupRpcProbe.ts): model.load through the RPC
//                  server, cold (starts the backend) and again (reload on a running engine);
//   serve:         `tiller serve --no-model --port 0`: spawn → its "serving at" line (the server
//                  and its engine process both started and connected), then stopped.
// Time to first token = spawn → the first byte of the continuation on stdout (the CLI streams
// each token's text as it is sampled); total = spawn → exit. llama-completion prints the prompt
// before any token, so only its total is comparable. One warm-up round first (not counted; it
// also lets a first-ever direct start run its one-time crash test). Medians of the rounds.
//
// Environment: BENCH_STARTUP_RUNS (default 10), BENCH_THREADS, LLAMA_COMPLETION (default
// /tmp/llama.cpp/build/bin/llama-completion), TILLER_STORIES (the model file).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./benchStatistics.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const storiesPath = process.env.TILLER_STORIES ?? path.resolve(root, "..", "shared", "models", "stories260K.gguf");
const prompt = "Once upon a time";
const tokens = 8;

interface ProcessTiming {
    /** spawn → first stdout byte (ms) */
    firstOutputMs: number | null;
    /** spawn → exit (ms) */
    totalMs: number;
    stdout: string;
}

/** Runs a process to its end, timing its first output and its exit; throws on a non-zero exit. */
function timeProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ProcessTiming> {
    return new Promise((resolve, reject) => {
        const start = performance.now();
        let firstOutputMs: number | null = null;
        let stdout = "";
        let stderr = "";
        const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], env });
        child.stdout.on("data", (chunk: Buffer) => {
            firstOutputMs ??= performance.now() - start;
            stdout += chunk.toString("utf8");
        });
        child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString("utf8"); });
        child.on("error", reject);
        child.on("close", (code) => {
            const totalMs = performance.now() - start;
            if (code !== 0)
                reject(new Error(`${path.basename(file)} ${args.slice(0, 2).join(" ")} exited with ${code}: ${stderr.trim().split("\n").slice(-2).join(" ")}`));
            else
                resolve({ firstOutputMs, totalMs, stdout });
        });
    });
}

/** `tiller serve --no-model`: spawn → the line saying where it serves (ms); the server is then stopped. */
function timeServeStart(cli: string, threads: number, env: NodeJS.ProcessEnv): Promise<number> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-bench-serve-"));
    return new Promise<number>((resolve, reject) => {
        const start = performance.now();
        let output = "";
        let listeningMs: number | null = null;
        const child = spawn(process.execPath, [cli, "serve", "--no-model", "--port", "0", "--threads", String(threads), "--data-dir", dataDir],
            { stdio: ["ignore", "pipe", "pipe"], env: { ...env, TILLER_DATA_DIR: dataDir } });
        const onOutput = (chunk: Buffer) => {
            output += chunk.toString("utf8");
            if (listeningMs == null && output.includes("serving at")) {
                listeningMs = performance.now() - start;
                child.kill("SIGTERM");
            }
        };
        child.stdout.on("data", onOutput);
        child.stderr.on("data", onOutput);
        child.on("error", reject);
        child.on("close", () => {
            if (listeningMs != null)
                resolve(listeningMs);
            else
                reject(new Error(`tiller serve ended before serving: ${output.trim().split("\n").slice(-2).join(" ")}`));
        });
    }).finally(() => fs.rmSync(dataDir, { recursive: true, force: true }));
}

const format = (values: readonly number[]) => `median ${median(values).toFixed(0)} ms (${values.map((value) => value.toFixed(0)).join(", ")})`;

export async function benchStartup(threads: number): Promise<string[]> {
    if (!fs.existsSync(storiesPath))
        return [`skipped: ${storiesPath} is absent (set TILLER_STORIES)`];
    const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 10);
    const llamaCompletion = process.env.LLAMA_COMPLETION ?? "/tmp/llama.cpp/build/bin/llama-completion";
    const haveLlama = fs.existsSync(llamaCompletion);
    const cli = path.join(root, "bin", "tiller.js");
    const probe = path.join(root, "dist", "bench", "startupRpcProbe.js");
    const tillerArgs = [cli, "generate", "-m", storiesPath, "-p", prompt, "-n", String(tokens), "--threads", String(threads)];
    const llamaArgs = ["-m", storiesPath, "-p", prompt, "-n", String(tokens), "-t", String(threads), "--temp", "0", "-no-cnv", "--simple-io"];
    const nodeLlamaEnv = { ...process.env, TILLER_DIRECT_START: "0" };
    const directEnv = { ...process.env, TILLER_DIRECT_START: "" };

    const direct: ProcessTiming[] = [];
    const viaNodeLlama: ProcessTiming[] = [];
    const llama: ProcessTiming[] = [];
    const rpc: { importedMs: number; firstLoadMs: number; reloadMs: number; totalMs: number }[] = [];
    const serve: number[] = [];
    const loadBefore = os.loadavg()[0]!;
    for (let round = -1; round < runs; round++) {
        const results = {
            direct: await timeProcess(process.execPath, tillerArgs, directEnv),
            viaNodeLlama: await timeProcess(process.execPath, tillerArgs, nodeLlamaEnv),
            llama: haveLlama ? await timeProcess(llamaCompletion, llamaArgs) : undefined,
            rpc: await timeProcess(process.execPath, [probe, storiesPath, String(threads)], directEnv),
            serveMs: await timeServeStart(cli, threads, directEnv)
        };
        if (round < 0)
            continue; // warm-up
        direct.push(results.direct);
        viaNodeLlama.push(results.viaNodeLlama);
        if (results.llama != null)
            llama.push(results.llama);
        serve.push(results.serveMs);
        rpc.push({ ...(JSON.parse(results.rpc.stdout) as { importedMs: number; firstLoadMs: number; reloadMs: number }), totalMs: results.rpc.totalMs });
    }
    const loadAfter = os.loadavg()[0]!;
    if (direct.some((run) => run.stdout !== direct[0]!.stdout) || viaNodeLlama.some((run) => run.stdout !== direct[0]!.stdout))
        throw new Error("the runs printed different continuations: the two loading paths must give the same tokens");

    const ttft = (timings: ProcessTiming[]) => timings.map((timing) => timing.firstOutputMs ?? timing.totalMs);
    const total = (timings: ProcessTiming[]) => timings.map((timing) => timing.totalMs);
    const lines = [
        `\`generate -n ${tokens}\` on ${path.basename(storiesPath)}, threads ${threads}, ${runs} interleaved rounds after one warm-up; ` +
            `1-min load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after (figures on a busy machine are not comparable)`,
        `tiller (as installed)        first token ${format(ttft(direct))}`,
        `                             total       ${format(total(direct))}`,
        `tiller, node-llama-cpp load  first token ${format(ttft(viaNodeLlama))}`,
        `  (TILLER_DIRECT_START=0)    total       ${format(total(viaNodeLlama))}`
    ];
    if (haveLlama) {
        const gap = median(total(direct)) - median(total(llama));
        lines.push(`llama.cpp llama-completion   total       ${format(total(llama))}`,
            `tiller − llama.cpp (totals)  ${gap.toFixed(0)} ms (target ≤ 500: ${gap <= 500 ? "met" : `MISSED by ${(gap - 500).toFixed(0)} ms`})`);
    } else {
        lines.push(`llama.cpp comparison skipped: ${llamaCompletion} is absent (build llama.cpp's llama-completion, or set LLAMA_COMPLETION)`);
    }
    lines.push(
        `RPC, fresh engine process    modules loaded ${format(rpc.map((run) => run.importedMs))}`,
        `  model.load (cold backend)  ${format(rpc.map((run) => run.firstLoadMs))}`,
        `  model.load again (warm)    ${format(rpc.map((run) => run.reloadMs))}`,
        `  process total              ${format(rpc.map((run) => run.totalMs))}`,
        `tiller serve --no-model      start → serving ${format(serve)}`
    );
    return lines;
}
