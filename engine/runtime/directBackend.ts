// The direct start: on Linux, when the backend will be the CPU, Tiller's addon loads node-llama-cpp's
// prebuilt CPU libraries itself, without importing node-llama-cpp's JavaScript (~0.4 s) and without
// getLlama()'s crash test in a child process at every start (~0.5 s).
//
// The crash test is kept, once: the first start on a set of files runs engine/native/
// checkLlamaLibraries.cjs in a child process, which opens the libraries exactly as this process
// is about to; the verdict is cached (backendVerdictCache.ts) and later starts skip the child.
// Anything unusual (another platform, a local build, a failed or crashed test, libraries already
// loaded) returns a reason instead, and the caller uses node-llama-cpp's getLlama() as before.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { AddonBinding, LlamaLibraryFiles, TillerNativeAddon } from "../native/AddonTypes.js";
import { loadNativeAddon, nativeAddonPath, requireNativeAddon } from "../native/loadNativeAddon.js";
import { fingerprintFiles, readVerdict, writeVerdict, type BinaryVerdict } from "./backendVerdictCache.js";
import { findPrebuiltCpuBinary } from "./prebuiltCpuBinary.js";

export type LlamaLogLevelName = "error" | "warn" | "info" | "debug";

/** ggml_log_level values (ggml.h) */
const ggmlLogLevels: Record<LlamaLogLevelName, number> = { debug: 1, info: 2, warn: 3, error: 4 };

export interface DirectBackend {
    addon: TillerNativeAddon;
    binding: AddonBinding;
    /** the folder the libraries and the CPU backend came from */
    binsDir: string;
    /** "cached": a stored verdict let the start skip the crash test; "tested": the test ran now */
    verdict: "cached" | "tested";
}

/** How long the crash test may take before it counts as failed (not cached: it may be a busy machine). */
const testTimeoutMs = 60_000;

/** Finds checkLlamaLibraries.cjs from source (engine/runtime) or compiled (dist/engine/runtime) code. */
function checkScriptPath(): string | undefined {
    const here = path.dirname(fileURLToPath(import.meta.url));
    return [
        path.resolve(here, "..", "native", "checkLlamaLibraries.cjs"),
        path.resolve(here, "..", "..", "..", "engine", "native", "checkLlamaLibraries.cjs")
    ].find((candidate) => fs.existsSync(candidate));
}

interface ChildOutcome {
    passed: boolean;
    /** the child's error, exit status or signal */
    detail?: string;
    /** a timeout says nothing about the binary: not worth remembering */
    cacheable: boolean;
}

/** Runs the crash test: a separate process opens the libraries; a crash there is only a failed test. */
function testInChild(script: string, addonPath: string, files: LlamaLibraryFiles): Promise<ChildOutcome> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [script, JSON.stringify({ addonPath, files })], {
            stdio: ["ignore", "pipe", "pipe"],
            // Electron's binary runs as plain Node with this set; Node ignores it
            env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" }
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString("utf8"); });
        child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString("utf8"); });
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            resolve({ passed: false, detail: `the test did not finish within ${testTimeoutMs / 1000} s`, cacheable: false });
        }, testTimeoutMs);
        child.on("error", (error) => {
            clearTimeout(timer);
            resolve({ passed: false, detail: `the test could not start: ${error.message}`, cacheable: false });
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            if (code === 0 && stdout.trim().startsWith("{"))
                resolve({ passed: true, cacheable: true });
            else
                resolve({
                    passed: false,
                    detail: (signal != null ? `the test process was killed by ${signal}` : `the test process exited with status ${code}`) +
                        (stderr.trim() !== "" ? `: ${stderr.trim().split("\n").slice(-3).join(" ")}` : ""),
                    cacheable: true
                });
        });
    });
}

/**
 * Opens the CPU backend directly, or returns why not (then use node-llama-cpp). Throws only for a
 * failure after the libraries were loaded into this process, where falling back is no longer clean.
 */
export async function openDirectCpuBackend(logLevel: LlamaLogLevelName): Promise<DirectBackend | { reason: string }> {
    if (process.env.TILLER_DIRECT_START === "0")
        return { reason: "TILLER_DIRECT_START=0" };
    const binary = findPrebuiltCpuBinary();
    if ("reason" in binary)
        return binary;
    const script = checkScriptPath();
    if (script == null)
        return { reason: "engine/native/checkLlamaLibraries.cjs is missing" };
    let addon: TillerNativeAddon;
    let addonPath: string;
    try {
        addon = requireNativeAddon();
        addonPath = nativeAddonPath();
    } catch (error) {
        return { reason: (error as Error).message };
    }
    const loadedAlready = addon.llamaLoadedPath();
    if (loadedAlready != null)
        return { reason: `llama.cpp is already loaded in this process (${loadedAlready})` };

    const files: LlamaLibraryFiles = {
        llama: binary.llama,
        ggml: binary.ggml,
        ggmlBase: binary.ggmlBase,
        backendsDir: binary.binsDir,
        logLevel: ggmlLogLevels[logLevel]
    };
    const fingerprint = fingerprintFiles([...binary.files, addonPath, script], binary.nodeLlamaCppVersion);
    let verdict: BinaryVerdict | undefined = readVerdict(fingerprint);
    const cached = verdict != null;
    if (verdict == null) {
        const outcome = await testInChild(script, addonPath, files);
        verdict = { fingerprint, verdict: outcome.passed ? "passed" : "failed", detail: outcome.detail, testedAt: new Date().toISOString() };
        if (outcome.cacheable)
            writeVerdict(verdict);
    }
    if (verdict.verdict !== "passed")
        return { reason: `the prebuilt binary in ${binary.binsDir} failed its test${cached ? " (cached verdict)" : ""}: ${verdict.detail ?? "no detail"}` };

    await addon.openLlamaLibraries(files);
    const { binding } = loadNativeAddon();
    return { addon, binding, binsDir: binary.binsDir, verdict: cached ? "cached" : "tested" };
}
