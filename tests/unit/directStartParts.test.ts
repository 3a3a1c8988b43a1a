// The parts of the direct start (engine/runtime/directBackend.ts) one by one: the verdict cache,
// the crash test in a child process (a real crash, a real load failure), the cached answer of
// node-llama-cpp's "auto" GPU detection, and the CLI's per-command module table.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { commandModules } from "../../engine/cli/commandModules.js";
import { nativeAddonPath } from "../../engine/native/loadNativeAddon.js";
import { autoChoiceFingerprint, autoChoiceIsCpuOnly } from "../../engine/runtime/autoGpuChoice.js";
import { fingerprintFiles, readVerdict, tillerCacheDir, writeVerdict, type BinaryVerdict } from "../../engine/runtime/backendVerdictCache.js";
import { testInChild } from "../../engine/runtime/directBackend.js";
import { findPrebuiltCpuBinary } from "../../engine/runtime/prebuiltCpuBinary.js";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-direct-parts-"));
const checkScript = path.resolve(import.meta.dirname, "..", "..", "engine", "native", "checkLlamaLibraries.mjs");
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function someFiles(name: string): string[] {
    const dir = path.join(scratch, name);
    fs.mkdirSync(dir, { recursive: true });
    return ["a.so", "b.so"].map((file) => {
        fs.writeFileSync(path.join(dir, file), file);
        return path.join(dir, file);
    });
}

describe("the verdict cache", () => {
    it("finds a verdict only for exactly the files it was made for", () => {
        const file = path.join(scratch, "verdicts-1.json");
        const files = someFiles("exact");
        const fingerprint = fingerprintFiles(files, "3.21.1");
        expect(readVerdict(fingerprint, file)).toBeUndefined();
        const verdict: BinaryVerdict = { fingerprint, verdict: "passed", testedAt: new Date().toISOString() };
        writeVerdict(verdict, file);
        expect(readVerdict(fingerprint, file)).toEqual(verdict);
        // another node-llama-cpp version, a file grown by a byte: no verdict
        expect(readVerdict(fingerprintFiles(files, "3.21.2"), file)).toBeUndefined();
        fs.appendFileSync(files[1]!, "x");
        expect(readVerdict(fingerprintFiles(files, "3.21.1"), file)).toBeUndefined();
    });

    it("reads a damaged file as empty and replaces it whole on the next write", () => {
        const file = path.join(scratch, "verdicts-2.json");
        const fingerprint = fingerprintFiles(someFiles("damaged"), "3.21.1");
        fs.writeFileSync(file, "[1, 2");
        expect(readVerdict(fingerprint, file)).toBeUndefined();
        writeVerdict({ fingerprint, verdict: "failed", detail: "crashed", testedAt: new Date().toISOString() }, file);
        expect(readVerdict(fingerprint, file)?.verdict).toBe("failed");
        // an entry whose stored fingerprint was edited is not trusted, though its key still matches
        const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { entries: Record<string, BinaryVerdict> };
        for (const entry of Object.values(stored.entries))
            entry.fingerprint.cpu = "another CPU";
        fs.writeFileSync(file, JSON.stringify(stored));
        expect(readVerdict(fingerprint, file)).toBeUndefined();
    });

    it("lives in TILLER_CACHE_DIR, else XDG_CACHE_HOME/tiller, else ~/.cache/tiller", () => {
        expect(tillerCacheDir({ TILLER_CACHE_DIR: "/x/y" })).toBe("/x/y");
        expect(tillerCacheDir({ XDG_CACHE_HOME: "/c" })).toBe(path.join("/c", "tiller"));
        expect(tillerCacheDir({})).toBe(path.join(os.homedir(), ".cache", "tiller"));
    });
});

describe.skipIf(process.platform !== "linux")("the crash test in a child process", () => {
    const binary = findPrebuiltCpuBinary();

    it("passes for node-llama-cpp's prebuilt CPU binary", async () => {
        if ("reason" in binary)
            throw new Error(binary.reason);
        const outcome = await testInChild(checkScript, nativeAddonPath(),
            { llama: binary.llama, ggml: binary.ggml, ggmlBase: binary.ggmlBase, backendsDir: binary.binsDir, logLevel: 4 });
        expect(outcome).toEqual({ passed: true, cacheable: true });
    });

    it("fails, with the loader's reason, for a file that is not a library", async () => {
        if ("reason" in binary)
            throw new Error(binary.reason);
        const notALibrary = path.join(scratch, "libllama.v0.so");
        fs.writeFileSync(notALibrary, "not an ELF file");
        const outcome = await testInChild(checkScript, nativeAddonPath(),
            { llama: notALibrary, ggml: binary.ggml, ggmlBase: binary.ggmlBase, backendsDir: binary.binsDir, logLevel: 4 });
        expect(outcome.passed).toBe(false);
        expect(outcome.cacheable).toBe(true);
        expect(outcome.detail).toMatch(/exited with status 1: cannot load .*libllama\.v0\.so/);
    });

    it("fails when the child dies of a signal, as an illegal instruction would kill it", async () => {
        const crashing = path.join(scratch, "crash.cjs");
        fs.writeFileSync(crashing, "process.kill(process.pid, 'SIGILL');\n");
        const outcome = await testInChild(crashing, nativeAddonPath(), { llama: "x", ggml: "x", ggmlBase: "x", backendsDir: "x", logLevel: 4 });
        expect(outcome).toMatchObject({ passed: false, cacheable: true });
        expect(outcome.detail).toMatch(/killed by SIGILL/);
    });
});

describe("the cached answer of node-llama-cpp's auto detection", () => {
    const saved = { cache: process.env.TILLER_CACHE_DIR, libraryPath: process.env.LD_LIBRARY_PATH };
    afterEach(() => {
        for (const [key, value] of [["TILLER_CACHE_DIR", saved.cache], ["LD_LIBRARY_PATH", saved.libraryPath]] as const) {
            if (value == null)
                delete process.env[key];
            else
                process.env[key] = value;
        }
    });

    it("detects once, then answers from the cache until what the detection reads changes", async () => {
        process.env.TILLER_CACHE_DIR = path.join(scratch, "auto");
        const first = await autoChoiceIsCpuOnly();
        expect(first.detected).toBe(true);
        expect(await autoChoiceIsCpuOnly()).toEqual({ cpuOnly: first.cpuOnly, detected: false });

        // a library folder added to the search path (as a driver install would) runs it again
        const libraries = path.join(scratch, "libs");
        fs.mkdirSync(libraries, { recursive: true });
        const before = autoChoiceFingerprint();
        process.env.LD_LIBRARY_PATH = libraries;
        expect(autoChoiceFingerprint()).not.toBe(before);
        expect((await autoChoiceIsCpuOnly()).detected).toBe(true);
        // and so does a damaged store
        fs.writeFileSync(path.join(process.env.TILLER_CACHE_DIR, "auto-gpu-choice.json"), "{");
        expect((await autoChoiceIsCpuOnly()).detected).toBe(true);
    });
});

describe("the CLI's command table", () => {
    it("each module registers exactly the top-level commands the table names for it", async () => {
        const all = new Set<string>();
        for (const entry of commandModules) {
            const program = new Command("tiller");
            (await entry.load())(program);
            const names = program.commands.map((command) => command.name()).sort();
            expect(names).toEqual([...entry.names].sort());
            for (const name of names)
                all.add(name);
        }
        expect(all.size).toBe(commandModules.reduce((sum, entry) => sum + entry.names.length, 0));
    });
});
