// Decode priority (engine/runtime/decodePriority.ts, engine/native/src/background_thread.h): with
// "background" the context decodes on a thread of its own whose nice value is the process's + 10
// (capped at 19), and ggml's worker threads, created from it, inherit that value; with "normal"
// nothing in the process is lowered. Read from the kernel (/proc/self/task/*/stat) while a real
// generation on stories260K runs; the tokens are the same either way.
//
// Two threads per context, not one: with one thread ggml makes no worker threads, and whether the
// workers inherit the lowered priority is half of what is tested.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../../engine/runtime/generate.js";
import { parseDecodePriority, type DecodePriority } from "../../engine/runtime/decodePriority.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { EngineService } from "../../engine/service/EngineService.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const THREADS = 2;
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

    /** 160 tokens, the process's threads sampled at every 16th token while the generation runs */
    async function runAndSample(context: TillerContext, sampling: { temperature: number; seed: number }) {
        const samples: TaskState[][] = [];
        const run = generate(context, prompt, { maxTokens: 160, sampling });
        for await (const token of run) {
            if (token.index % 16 === 0)
                samples.push(readTasks());
        }
        const result = await run.result;
        return { ids: result.tokens.map((token) => token.id), samples, after: readTasks() };
    }

    async function generationAt(priority: DecodePriority, sampling: { temperature: number; seed: number }) {
        const context = await model.createContext({ threads: THREADS, contextSize: 256, decodePriority: priority });
        try {
            return { context, ...(await runAndSample(context, sampling)) };
        } finally {
            await context.dispose();
        }
    }

    it("background: the decode thread and ggml's workers run at nice + 10, nothing else is lowered; the tokens match normal priority", { timeout: 60_000 }, async () => {
        expect(baseNice, "the test needs room to lower the priority (run it at a nice value below 19)").toBeLessThan(19);
        for (const sampling of [{ temperature: 0, seed: 1 }, { temperature: 0.8, seed: 7 }]) {
            const background = await generationAt("background", sampling);
            const normal = await generationAt("normal", sampling);

            expect(background.context.decodePriority).toBe("background");
            const decodeTid = background.context.decodeThreadId;
            expect(decodeTid).toBeTypeOf("number");
            expect(background.samples.length).toBeGreaterThanOrEqual(5);
            for (const tasks of background.samples) {
                const decodeThreads = tasks.filter((task) => task.name === "tiller-decode");
                // the decode thread itself and THREADS - 1 ggml workers (they inherit its name and nice value)
                expect(decodeThreads.map((task) => task.tid)).toContain(decodeTid);
                expect(decodeThreads).toHaveLength(THREADS);
                for (const task of decodeThreads)
                    expect(task.nice, `thread ${task.tid} (${task.name})`).toBe(backgroundNice);
                // the JS thread, libuv's pool and everything else keep the process's priority
                for (const task of tasks.filter((entry) => entry.name !== "tiller-decode"))
                    expect(task.nice, `thread ${task.tid} (${task.name})`).toBe(baseNice);
            }
            // the decodes ran there: the lowered threads used CPU time during the generation
            const decodeTicks = (tasks: TaskState[]) => tasks.filter((task) => task.name === "tiller-decode").reduce((sum, task) => sum + task.cpuTicks, 0);
            expect(decodeTicks(background.samples.at(-1)!)).toBeGreaterThan(0);
            // disposing the context ends its threads
            expect(readTasks().filter((task) => task.name === "tiller-decode")).toEqual([]);

            expect(normal.context.decodePriority).toBe("normal");
            expect(normal.context.decodeThreadId).toBeNull();
            for (const tasks of normal.samples) {
                expect(tasks.filter((task) => task.name === "tiller-decode")).toEqual([]);
                for (const task of tasks)
                    expect(task.nice, `thread ${task.tid} (${task.name})`).toBe(baseNice);
            }

            expect(background.ids.length).toBeGreaterThan(20);
            expect(background.ids).toEqual(normal.ids);
        }
    });

    it("the engine service decodes in the background by default, and at normal priority when told", { timeout: 60_000 }, async () => {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-decode-priority-"));
        try {
            for (const [options, expected] of [[{}, "background"], [{ decodePriority: "normal" as const }, "normal"]] as const) {
                const service = new EngineService({ dataDir, threads: THREADS, ...options });
                try {
                    await service.loadModel({ path: sharedFiles.stories260K, contextSize: 256 }, { requestId: "load", signal: new AbortController().signal });
                    const lowered = readTasks().filter((task) => task.name === "tiller-decode");
                    if (expected === "background") {
                        expect(lowered).toHaveLength(THREADS);
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
