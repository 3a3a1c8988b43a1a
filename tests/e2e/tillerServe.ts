// A worker fixture that runs the real `tiller serve` (port 0, one thread, a temporary vector
// library) and hands over the URL it prints; the server is stopped after the worker's tests.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test as base } from "@playwright/test";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const URL_PATTERN = /http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9A-Za-z_-]+/;

export interface TillerServer {
    url: string;
    dataDir: string;
    /** what the server printed so far (for failure messages) */
    output(): string;
}

export interface ServeOptions {
    /** "default": what `npm start` does (the toy world when present); default: no model */
    model?: "none" | "default";
    /** extra environment for the server (e.g. the model scan's folders, engine/models/modelRoots.ts) */
    env?: Record<string, string>;
}

export async function startServe(options: ServeOptions = {}): Promise<{ server: TillerServer; child: ChildProcess }> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-e2e-"));
    const modelArgs = options.model === "default" ? [] : ["--no-model"];
    const child = spawn(process.execPath, [path.join(repoRoot, "bin", "tiller.js"), "serve", "--port", "0", "--threads", "1", "--data-dir", dataDir, ...modelArgs], {
        cwd: repoRoot,
        env: { ...process.env, ...options.env, TILLER_DATA_DIR: dataDir },
        stdio: ["ignore", "pipe", "pipe"]
    });
    let output = "";
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`tiller serve printed no URL within 60 s:\n${output}`)), 60_000);
        const onData = (chunk: string): void => {
            output += chunk;
            const match = URL_PATTERN.exec(output);
            if (match != null) {
                clearTimeout(timer);
                resolve(match[0]);
            }
        };
        child.stdout!.on("data", onData);
        child.stderr!.on("data", (chunk: string) => {
            output += chunk;
        });
        child.once("exit", (code) => {
            clearTimeout(timer);
            reject(new Error(`tiller serve exited (code ${code}) before printing its URL:\n${output}`));
        });
    });
    return { server: { url, dataDir, output: () => output }, child };
}

export async function stopServe(child: ChildProcess, dataDir: string): Promise<void> {
    if (child.exitCode == null && child.signalCode == null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
}

export const test = base.extend<object, { tillerServer: TillerServer }>({
    // eslint-disable-next-line no-empty-pattern -- Playwright reads a fixture's dependencies from this pattern; it has none
    tillerServer: [async ({}, use) => {
        const { server, child } = await startServe();
        try {
            await use(server);
        } finally {
            await stopServe(child, server.dataDir);
        }
    }, { scope: "worker", timeout: 90_000 }]
});

export { expect } from "@playwright/test";
