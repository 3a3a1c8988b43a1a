// Starting `tiller suspect` (the compiled dist/ build through bin/tiller.js) for tests that query it
// over HTTP: the vitest CLI suite and the Playwright Forensics spec. Free of vitest and Playwright.
import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";

const launcher = path.resolve(import.meta.dirname, "..", "..", "bin", "tiller.js");

export interface SuspectProcess {
    child: ChildProcess;
    /** the completions endpoint it printed */
    endpoint: string;
    /** the API key it printed */
    key: string;
}

/** Starts `tiller suspect ...args`; resolves once it prints its endpoint and key, rejects if it exits first. */
export function startSuspect(args: readonly string[]): Promise<SuspectProcess> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [launcher, "suspect", ...args], { cwd: os.tmpdir(), stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
        child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
            stdout += chunk;
            const endpoint = /Endpoint: (\S+)/.exec(stdout)?.[1];
            const key = /API key: (\S+)/.exec(stdout)?.[1];
            if (endpoint != null && key != null)
                resolve({ child, endpoint, key });
        });
        child.on("exit", (status) => reject(new Error(`tiller suspect exited (${status}): ${stderr}`)));
    });
}
