// Child of memory.bench.ts: loads one model in a fresh process and reports how its resident memory
// grew, step by step. A separate process so that nothing else the bench did is counted.
// argv: MODEL_FILE CONTEXT_SIZE THREADS  →  one JSON line on stdout.
import { generate } from "../engine/runtime/generate.js";
import { getTillerBackend } from "../engine/runtime/TillerBackend.js";
import { TillerModel } from "../engine/runtime/TillerModel.js";

/** Resident set size in bytes (includes the touched pages of mmap'd weights). */
const residentBytes = (): number => process.memoryUsage.rss();

const [modelFile, contextText, threadsText] = process.argv.slice(2);
await getTillerBackend();
const baseline = residentBytes();
const model = await TillerModel.load(modelFile!, { gpuLayers: 0 });
const context = await model.createContext({ contextSize: Number(contextText), batchSize: 512, threads: Number(threadsText) });
// touch every weight: generate a few tokens (a steered run would touch the same pages)
for await (const token of generate(context, "memory", { maxTokens: 8, addBos: true }))
    void token;
const loaded = residentBytes();
process.stdout.write(JSON.stringify({ baseline, loaded, growth: loaded - baseline }) + "\n");
await context.dispose();
await model.dispose();
process.exit(0);
