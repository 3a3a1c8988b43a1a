// Decode priority (engine/runtime/decodePriority.ts, engine/native/src/background_thread.h): with
// "background" the context decodes on a thread of its own whose nice value is the process's + 10
// (capped at 19), and ggml's worker threads, created from it, inherit that value; with "normal"
// nothing in the process is lowered. Read from the kernel (/proc/self/task/*/stat) while a real
// generation on stories260K runs; the tokens are the same either way.
//
// Two threads in one test: with one thread ggml makes no worker threads, and whether the workers
// inherit the lowered priority is half of what is tested.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../../engine/runtime/generate.js";
import { defaultDecodeThreads, parseDecodePriority, type DecodePriority } from "../../engine/runtime/decodePriority.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { EngineService } from "../../engine/service/EngineService.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const prompt = "Once upon a time";

interface TaskState {
    tid: number;
    name: string;
    nice: number;
    /** user + system CPU time in clock ticks */
    cpuTicks: number;
}

/** Every thread of this process as the kernel sees it now (/proc/self/task/<tid>/stat, proc(5)). */
function readTasks(): TaskState[] {
    const tasks: TaskState[] = [];
    for (const entry of fs.readdirSync("/proc/self/task")) {
        let stat: string;
        try {
            stat = fs.readFileSync(path.join("/proc/self/task", entry, "stat"), "utf8");
        } catch {
            continue; // the thread ended between the listing and the read
        }
        // "tid (comm) state ppid ...": comm may contain spaces and parentheses; it ends at the last ")"
        const close = stat.lastIndexOf(")");
        const fields = stat.slice(close + 2).split(" "); // fields[0] is field 3 (state)
        tasks.push({
            tid: Number(entry),
            name: stat.slice(stat.indexOf("(") + 1, close),
            nice: Number(fields[19 - 3]),
            cpuTicks: Number(fields[14 - 3]) + Number(fields[15 - 3])
        });
    }
    return tasks;
}

const baseNice = os.getPriority(0);
const backgroundNice = Math.min(19, baseNice + 10);

describe.skipIf(process.platform !== "linux" || missing(sharedFiles.stories260K))("decode priority on stories260K", () => {
    let model: TillerModel;

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
    });
    afterAll(async () => {
        await model?.dispose();
    });

    /** a generation, the process's threads sampled at every `every`-th token while it runs */
    async function generationAt(priority: DecodePriority, options: { threads: number; tokens: number; every: number; sampling: { temperature: number; seed: number } }) {
        const context = await model.createContext({ threads: options.threads, contextSize: 512, decodePriority: priority });
        try {
            const samples: TaskState[][] = [];
            const run = generate(context, prompt, { maxTokens: options.tokens, sampling: options.sampling });
            for await (const token of run) {
                if (token.index % options.every === 0)
                    samples.push(readTasks());
            }
            const result = await run.result;
            return { context, ids: result.tokens.map((token) => token.id), samples };
        } finally {
            await context.dispose();
        }
    }

    const decodeThreadsOf = (tasks: TaskState[]) => tasks.filter((task) => task.name === "tiller-decode");

    /** every sample: `count` lowered threads, the context's decode thread among them, all at backgroundNice; every other thread at baseNice */
    function expectLowered(samples: TaskState[][], decodeTid: number | null, count: number): void {
        expect(decodeTid).toBeTypeOf("number");
        expect(samples.length).toBeGreaterThanOrEqual(5);
        for (const tasks of samples) {
            const lowered = decodeThreadsOf(tasks);
            expect(lowered.map((task) => task.tid)).toContain(decodeTid);
            expect(lowered).toHaveLength(count);
            for (const task of lowered)
                expect(task.nice, `thread ${task.tid} (${task.name})`).toBe(backgroundNice);
            // the JS thread, libuv's pool and everything else keep the process's priority
            for (const task of tasks.filter((entry) => entry.name !== "tiller-decode"))
                expect(task.nice, `thread ${task.tid} (${task.name})`).toBe(baseNice);
        }
    }

    function expectNothingLowered(samples: TaskState[][]): void {
        expect(samples.length).toBeGreaterThanOrEqual(5);
        for (const tasks of samples) {
            expect(decodeThreadsOf(tasks)).toEqual([]);
            for (const task of tasks)
                expect(task.nice, `thread ${task.tid} (${task.name})`).toBe(baseNice);
        }
    }

    // Few tokens: two decode threads at a lowered priority on a busy 2-core machine can crawl
    // (ggml's threads spin at a barrier while a preempted one waits: README "Decode priority").
    it("background, 2 threads: the decode thread and ggml's worker run at nice + 10 during a generation, nothing else is lowered", { timeout: 120_000 }, async () => {
        expect(baseNice, "the test needs room to lower the priority (run it at a nice value below 19)").toBeLessThan(19);
        const options = { threads: 2, tokens: 24, every: 4, sampling: { temperature: 0, seed: 1 } };
        const background = await generationAt("background", options);
        expect(background.context.decodePriority).toBe("background");
        // the decode thread itself and one ggml worker (it inherits the name and the nice value)
        expectLowered(background.samples, background.context.decodeThreadId, 2);
        // disposing the context ends its threads
        expect(decodeThreadsOf(readTasks())).toEqual([]);

        const normal = await generationAt("normal", options);
        expect(normal.context.decodePriority).toBe("normal");
        expect(normal.context.decodeThreadId).toBeNull();
        expectNothingLowered(normal.samples);
        expect(background.ids).toEqual(normal.ids);
    });

    it("background, 1 thread: the decodes run on the lowered thread; the tokens match normal priority, greedy and seeded", { timeout: 120_000 }, async () => {
        let decodeTicks = 0;
        for (const sampling of [{ temperature: 0, seed: 1 }, { temperature: 0.8, seed: 7 }]) {
            const options = { threads: 1, tokens: 320, every: 32, sampling };
            const background = await generationAt("background", options);
            expectLowered(background.samples, background.context.decodeThreadId, 1);
            decodeTicks += decodeThreadsOf(background.samples.at(-1)!).reduce((sum, task) => sum + task.cpuTicks, 0);
            const normal = await generationAt("normal", options);
            expectNothingLowered(normal.samples);
            expect(background.ids.length).toBeGreaterThan(100);
            expect(background.ids).toEqual(normal.ids);
        }
        // the decodes ran there: the lowered thread used CPU time
        expect(decodeTicks).toBeGreaterThan(0);
    });

    it("without a thread count, a background context leaves one core free (at least one thread); a normal one takes every core", { timeout: 30_000 }, async () => {
        const cores = model.backend.defaultThreads;
        const background = await model.createContext({ contextSize: 64, decodePriority: "background" });
        try {
            expect(background.threads).toBe(Math.max(1, cores - 1));
            // the decode thread and its ggml workers: one thread per decode thread
            expect(readTasks().filter((task) => task.name === "tiller-decode")).toHaveLength(background.threads);
        } finally {
            await background.dispose();
        }
        const normal = await model.createContext({ contextSize: 64, decodePriority: "normal" });
        try {
            expect(normal.threads).toBe(cores);
        } finally {
            await normal.dispose();
        }
        expect(defaultDecodeThreads("background", 1)).toBe(1);
        expect(defaultDecodeThreads("background", 8)).toBe(7);
        expect(defaultDecodeThreads("normal", 8)).toBe(8);
    });

    it("the engine service decodes in the background by default, and at normal priority when told", { timeout: 60_000 }, async () => {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-decode-priority-"));
        try {
            for (const [options, expected] of [[{}, "background"], [{ decodePriority: "normal" as const }, "normal"]] as const) {
                const service = new EngineService({ dataDir, threads: 2, ...options });
                try {
                    await service.loadModel({ path: sharedFiles.stories260K, contextSize: 256 }, { requestId: "load", signal: new AbortController().signal });
                    const lowered = readTasks().filter((task) => task.name === "tiller-decode");
                    if (expected === "background") {
                        expect(lowered).toHaveLength(2);
                        for (const task of lowered)
                            expect(task.nice).toBe(backgroundNice);
                    } else {
                        expect(lowered).toEqual([]);
                    }
                } finally {
                    await service.unloadModel();
                }
            }
        } finally {
            fs.rmSync(dataDir, { recursive: true, force: true });
        }
    });
});

describe("decode priority names", () => {
    it("accepts normal and background and names the choices otherwise", () => {
        expect(parseDecodePriority("normal")).toBe("normal");
        expect(parseDecodePriority("background")).toBe("background");
        expect(() => parseDecodePriority("low")).toThrow(/must be one of normal, background; got "low"/);
    });
});
