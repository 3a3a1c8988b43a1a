// Spawning the `tiller` CLI in tests: the compiled dist/ build through bin/tiller.js.
import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { expect } from "vitest";

export const repoRoot = path.resolve(import.meta.dirname, "..", "..");
export const launcher = path.join(repoRoot, "bin", "tiller.js");

export interface CliResult {
    status: number | null;
    stdout: string;
    stderr: string;
}

export interface RunOptions {
    /** Node's own flags, before the script (e.g. `--import hook.mjs`) */
    nodeArgs?: readonly string[];
    /** the environment (default: the test's) */
    env?: NodeJS.ProcessEnv;
}

/** Runs `node <script> ...args` (default bin/tiller.js) from the temp folder and collects its output. */
export function runTiller(args: readonly string[], script = launcher, options: RunOptions = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args],
            { cwd: os.tmpdir(), stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout += chunk);
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

/** The run failed with exactly one line on stderr, `tiller: error: ...`, matching `pattern`. */
export function expectOneLineError(result: CliResult, pattern: RegExp): void {
    expect(result.status, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).not.toBe(0);
    expect(result.stderr.endsWith("\n"), result.stderr).toBe(true);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^tiller: error: /);
    expect(lines[0]).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\bat .*:\d+:\d+/); // no stack trace
}
