// The direct start (engine/runtime/directBackend.ts) end to end, through the compiled CLI
// (`npm run build:ts` first): `tiller generate` on stories260K loads llama.cpp without
// node-llama-cpp's JavaScript, tests the binary in a child once and then trusts the cached verdict,
// re-tests when the cache is damaged or made for other files, and falls back to node-llama-cpp
// (same tokens) when the verdict is "failed". Each run gets its own cache folder (TILLER_CACHE_DIR).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readVerdict, verdictFilePath, writeVerdict } from "../../engine/runtime/backendVerdictCache.js";
import { planDirectStart } from "../../engine/runtime/directBackend.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { launcher, repoRoot, runTiller, type CliResult } from "../support/runTiller.js";

const forbidHook = path.join(repoRoot, "tests", "support", "forbidNodeLlamaCpp.mjs");
const onLinux = process.platform === "linux";

type Run = CliResult;

const generateArgs = ["generate", "-m", sharedFiles.stories260K, "-p", "Once upon a time", "-n", "8", "--threads", "1", "--json"];

function runGenerate(cacheDir: string, options: { forbidNodeLlamaCpp?: boolean; env?: Record<string, string>; cliArgs?: string[] } = {}): Promise<Run> {
    return runTiller(options.cliArgs ?? generateArgs, launcher, {
        nodeArgs: options.forbidNodeLlamaCpp ? ["--import", forbidHook] : [],
        env: { ...process.env, TILLER_CACHE_DIR: cacheDir, TILLER_DEBUG_STARTUP: "1", TILLER_DIRECT_START: "", TILLER_GPU: "", ...options.env }
    });
}

function tokensOf(run: Run): number[] {
    expect(run.status, run.stderr).toBe(0);
    return (JSON.parse(run.stdout) as { tokens: { id: number }[] }).tokens.map((token) => token.id);
}

describe.skipIf(!onLinux || missing(sharedFiles.stories260K))("the direct start of `tiller generate`", () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-direct-start-"));
    let reference: number[];

    beforeAll(async () => {
        // the tokens node-llama-cpp's own loading gives: every other run must give the same
        const run = await runGenerate(path.join(scratch, "reference"), { env: { TILLER_DIRECT_START: "0" } });
        expect(run.stderr).toMatch(/backend loaded by node-llama-cpp \(direct start skipped: TILLER_DIRECT_START=0\)/);
        reference = tokensOf(run);
        expect(reference).toHaveLength(8);
    });
    afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

    it("tests the binary once, then starts from the cached verdict, never loading node-llama-cpp's JavaScript", async () => {
        const cacheDir = path.join(scratch, "fresh");
        const first = await runGenerate(cacheDir, { forbidNodeLlamaCpp: true });
        expect(first.stderr).toMatch(/backend loaded directly from .*linux-.* \(crash-test verdict tested\)/);
        expect(tokensOf(first)).toEqual(reference);
        expect(fs.existsSync(path.join(cacheDir, "backend-verdicts.json"))).toBe(true);

        const second = await runGenerate(cacheDir, { forbidNodeLlamaCpp: true });
        expect(second.stderr).toMatch(/crash-test verdict cached/);
        expect(tokensOf(second)).toEqual(reference);
    });

    it("the import guard is real: the node-llama-cpp path fails under it", async () => {
        const run = await runGenerate(path.join(scratch, "guard"), { forbidNodeLlamaCpp: true, env: { TILLER_DIRECT_START: "0" } });
        expect(run.status).not.toBe(0);
        expect(run.stderr).toMatch(/node-llama-cpp's JavaScript was loaded: .*node-llama-cpp\/dist\/index\.js/);
    });

    it("re-tests when the cache file is damaged or its entry was made for other files", async () => {
        const cacheDir = path.join(scratch, "damaged");
        expect((await runGenerate(cacheDir)).stderr).toMatch(/verdict tested/);
        const file = path.join(cacheDir, "backend-verdicts.json");

        fs.writeFileSync(file, "{ this is not json");
        const afterGarbage = await runGenerate(cacheDir);
        expect(afterGarbage.stderr).toMatch(/verdict tested/);
        expect(tokensOf(afterGarbage)).toEqual(reference);
        expect(() => JSON.parse(fs.readFileSync(file, "utf8")) as unknown).not.toThrow(); // rewritten whole

        // the entry stays under its key, but says it was made for a library of another size
        const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { entries: Record<string, { fingerprint: { files: [string, number, number][] } }> };
        for (const entry of Object.values(stored.entries))
            entry.fingerprint.files[0]![1] += 1;
        fs.writeFileSync(file, JSON.stringify(stored));
        const afterMismatch = await runGenerate(cacheDir);
        expect(afterMismatch.stderr).toMatch(/verdict tested/);
        expect(tokensOf(afterMismatch)).toEqual(reference);
        expect((await runGenerate(cacheDir)).stderr).toMatch(/verdict cached/);
    });

    it("falls back to node-llama-cpp, with the same tokens, when the binary failed its test", async () => {
        const cacheDir = path.join(scratch, "failed");
        const plan = planDirectStart("error");
        if ("reason" in plan)
            throw new Error(`the direct start does not apply here: ${plan.reason}`);
        const file = verdictFilePath({ TILLER_CACHE_DIR: cacheDir });
        writeVerdict({ fingerprint: plan.fingerprint, verdict: "failed", detail: "the test process was killed by SIGILL", testedAt: new Date().toISOString() }, file);
        expect(readVerdict(plan.fingerprint, file)?.verdict).toBe("failed");

        const run = await runGenerate(cacheDir);
        expect(run.stderr).toMatch(/backend loaded by node-llama-cpp \(direct start skipped: the prebuilt binary in .* failed its test \(cached verdict\): the test process was killed by SIGILL\)/);
        expect(tokensOf(run)).toEqual(reference);
    });

    it("still gives node-llama-cpp's Llama when a command asks for it (`tiller backends` after a direct start)", async () => {
        const run = await runGenerate(path.join(scratch, "fresh"), { cliArgs: ["backends"] });
        expect(run.status, run.stderr).toBe(0);
        expect(run.stderr).toMatch(/backend loaded directly/);
        expect(run.stdout).toMatch(/^loaded:\s+cpu$/m);
        expect(run.stdout).toMatch(/^llama\.cpp:\s+\S+ \(prebuilt\)$/m);
    });
});
