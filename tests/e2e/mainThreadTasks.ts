// Which of a run's long main-thread tasks were the page's own work, from a Chromium trace: each
// task's wall time (`dur`) and the time its thread actually ran (`tdur`). On a loaded machine most
// "long tasks" PerformanceObserver reports are the renderer waiting for a core (wall 300 ms, CPU
// 10 ms); a task the page itself made long has CPU time near its wall time.
import type { CDPSession } from "@playwright/test";

interface TraceEvent {
    name: string;
    cat: string;
    ph: string;
    pid: number;
    tid: number;
    ts: number;
    dur?: number;
    tdur?: number;
    args?: { name?: string };
}

export interface MainThreadTasks {
    /** tasks over 50 ms of wall time between the page's marks */
    long: number;
    /** of those, tasks whose thread ran ≥ 50 ms: the page's own long work */
    longBusy: number;
    /** of those, tasks whose thread ran less than half their wall time: waiting for a core */
    longStarved: number;
    /** the most CPU one task took (ms) */
    longestTaskCpuMs: number;
}

/** Starts recording; `stop()` returns the renderer main thread's tasks between performance marks `startMark` and `endMark`. */
export async function traceMainThreadTasks(cdp: CDPSession, startMark: string, endMark: string): Promise<{ stop(): Promise<MainThreadTasks> }> {
    const events: TraceEvent[] = [];
    cdp.on("Tracing.dataCollected", (data: { value: unknown[] }) => {
        for (const event of data.value as TraceEvent[]) {
            if (event.name === "RunTask" || event.name === "thread_name" || event.name === startMark || event.name === endMark)
                events.push(event);
        }
    });
    await cdp.send("Tracing.start", {
        transferMode: "ReportEvents",
        traceConfig: { includedCategories: ["disabled-by-default-devtools.timeline", "blink.user_timing", "__metadata"], excludedCategories: ["*"] }
    });
    return {
        async stop() {
            const complete = new Promise<void>((resolve) => cdp.once("Tracing.tracingComplete", () => resolve()));
            await cdp.send("Tracing.end");
            await complete;
            return summarise(events, startMark, endMark);
        }
    };
}

function summarise(events: readonly TraceEvent[], startMark: string, endMark: string): MainThreadTasks {
    const start = events.find((event) => event.name === startMark)?.ts;
    const end = events.find((event) => event.name === endMark)?.ts;
    if (start == null || end == null)
        throw new Error(`the trace has no "${startMark}"/"${endMark}" marks`);
    const mainThreads = new Set(events.filter((event) => event.name === "thread_name" && event.args?.name === "CrRendererMain")
        .map((event) => `${event.pid}:${event.tid}`));
    const tasks = events.filter((event) => event.name === "RunTask" && event.ph === "X" && mainThreads.has(`${event.pid}:${event.tid}`) &&
        event.ts >= start && event.ts <= end);
    // the page's renderer: the main thread with the most tasks in the window
    const perThread = new Map<string, number>();
    for (const task of tasks)
        perThread.set(`${task.pid}:${task.tid}`, (perThread.get(`${task.pid}:${task.tid}`) ?? 0) + 1);
    const page = [...perThread].sort((a, b) => b[1] - a[1])[0]?.[0];
    const mine = tasks.filter((task) => `${task.pid}:${task.tid}` === page);
    const long = mine.filter((task) => (task.dur ?? 0) > 50_000);
    return {
        long: long.length,
        longBusy: long.filter((task) => (task.tdur ?? 0) >= 50_000).length,
        longStarved: long.filter((task) => (task.tdur ?? 0) < (task.dur ?? 0) / 2).length,
        longestTaskCpuMs: Math.round(Math.max(0, ...mine.map((task) => task.tdur ?? 0)) / 1000)
    };
}
