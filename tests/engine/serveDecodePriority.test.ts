// `tiller serve` end to end (the compiled dist/ build: `npm run build:ts` first): its engine process
// decodes at background priority unless `--decode-priority normal` says otherwise (read from the
// engine process's threads in /proc), and neither the server nor its engine loads node-llama-cpp's
// JavaScript while starting and loading a model (tests/support/forbidNodeLlamaCpp.mjs makes that
// load an error in both: the engine, a forked child, inherits NODE_OPTIONS).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { connectRpc, rpcCall, startServe } from "../support/serveProcess.js";
import { repoRoot } from "../support/runTiller.js";
import { sessionIdOf } from "../../engine/runtime/sessionSchedulingGroup.js";

const forbidHook = path.join(repoRoot, "tests", "support", "forbidNodeLlamaCpp.mjs");

/** the engine process's threads named tiller-decode (the background decode thread), with their nice values */
function decodeThreads(pid: number): { tid: number; nice: number }[] {
    const threads: { tid: number; nice: number }[] = [];
    for (const entry of fs.readdirSync(`/proc/${pid}/task`)) {
        const stat = fs.readFileSync(`/proc/${pid}/task/${entry}/stat`, "utf8");
        const close = stat.lastIndexOf(")");
        if (stat.slice(stat.indexOf("(") + 1, close) === "tiller-decode")
            threads.push({ tid: Number(entry), nice: Number(stat.slice(close + 2).split(" ")[19 - 3]) });
    }
    return threads;
}

/** the session id of process `pid` and its autogroup's nice value (null where autogroups are off) */
function sessionOf(pid: number): { session: number | null; groupNice: number | null } {
    const session = sessionIdOf(pid);
    let groupNice: number | null = null;
    try {
        const match = /nice\s+(-?\d+)/.exec(fs.readFileSync(`/proc/${pid}/autogroup`, "utf8"));
        groupNice = match == null ? null : Number(match[1]);
    } catch {
        // no autogroup file: a kernel without CONFIG_SCHED_AUTOGROUP
    }
    return { session, groupNice };
}

const autogroupsOn = (() => {
    try {
        return fs.readFileSync("/proc/sys/kernel/sched_autogroup_enabled", "utf8").trim() === "1";
    } catch {
        return false;
    }
})();

describe.skipIf(process.platform !== "linux" || missing(sharedFiles.stories260K))("tiller serve --decode-priority", () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-serve-priority-"));
    afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    async function engineThreadsWhenServing(args: string[]) {
        const env = { ...process.env, TILLER_DECODE_PRIORITY: "", NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${forbidHook}` };
        const { child, port, token, output } = await startServe(["--data-dir", dataDir, "-m", sharedFiles.stories260K, ...args], env);
        try {
            const socket = await connectRpc(port, `?token=${token}`);
            const info = await rpcCall(socket, "info", "engine.info", {}) as { pid: number; model: { fileName: string } | null };
            socket.close();
            expect(info.model?.fileName, output()).toBe("stories260K.gguf");
            expect(info.pid).not.toBe(child.pid); // the engine runs in a process of its own
            // the engine process's own nice value: the server's (this test's), which its threads start from
            const engineNice = os.getPriority(info.pid);
            return { threads: decodeThreads(info.pid), engineNice, session: sessionOf(info.pid), serverSession: sessionOf(child.pid!), enginePid: info.pid, output: output() };
        } finally {
            const exited = new Promise((resolve) => child.once("exit", resolve));
            child.kill("SIGTERM");
            await exited;
        }
    }

    it("decodes in the background by default, at normal priority when asked; never loads node-llama-cpp's JavaScript", { timeout: 90_000 }, async () => {
        const byDefault = await engineThreadsWhenServing([]);
        expect(byDefault.engineNice).toBeLessThan(19);
        // --threads 1: the decode thread alone (ggml makes no workers for one thread)
        expect(byDefault.threads, byDefault.output).toHaveLength(1);
        expect(byDefault.threads[0]!.nice).toBe(Math.min(19, byDefault.engineNice + 10));

        // a session of its own, whose share of the CPU against other sessions (a browser) is lowered
        // too (runtime/sessionSchedulingGroup.ts); the server's own session is left as it was
        expect(byDefault.session.session).toBe(byDefault.enginePid);
        if (autogroupsOn) {
            expect(byDefault.session.groupNice).toBe(10);
            expect(byDefault.serverSession.groupNice).toBe(sessionOf(process.pid).groupNice);
        }

        const normal = await engineThreadsWhenServing(["--decode-priority", "normal"]);
        expect(normal.threads, normal.output).toEqual([]);
        expect(normal.session.session).toBe(normal.enginePid);
        if (autogroupsOn)
            expect(normal.session.groupNice).toBe(0);
    });

    it("refuses an unknown priority with the choices", { timeout: 30_000 }, async () => {
        await expect(startServe(["--data-dir", dataDir, "--no-model", "--decode-priority", "low"]))
            .rejects.toThrow(/\[INVALID_ARGUMENT\] the decode priority must be one of normal, background; got "low"/);
    });

    it("refuses an unknown $TILLER_DECODE_PRIORITY before it starts an engine", { timeout: 30_000 }, async () => {
        await expect(startServe(["--data-dir", dataDir, "--no-model"], { ...process.env, TILLER_DECODE_PRIORITY: "idle" }))
            .rejects.toThrow(/\[INVALID_ARGUMENT\] the decode priority must be one of normal, background; got "idle"/);
    });
});
