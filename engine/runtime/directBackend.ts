// The direct start: on Linux, when the backend will be the CPU, Tiller's addon loads node-llama-cpp's
// prebuilt CPU libraries itself, without importing node-llama-cpp's JavaScript (~0.4 s) and without
// getLlama()'s crash test in a child process at every start (~0.5 s).
//
// The crash test is kept, once: the first start on a set of files runs engine/native/
// checkLlamaLibraries.mjs in a child process, which opens the libraries exactly as this process
// is about to; the verdict is cached (backendVerdictCache.ts) and later starts skip the child.
// Anything unusual (another platform, a local build, a failed or crashed test, libraries already
// loaded) returns a reason instead, and the caller uses node-llama-cpp's getLlama() as before.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TillerError } from "../protocol/TillerError.js";
import type { AddonBinding, LlamaLibraryFiles, TillerNativeAddon } from "../native/AddonTypes.js";
import { loadNativeAddon, nativeAddonPath, requireNativeAddon } from "../native/loadNativeAddon.js";
import { fingerprintFiles, readVerdict, writeVerdict, type BinaryFingerprint, type BinaryVerdict } from "./backendVerdictCache.js";
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

/** Finds checkLlamaLibraries.mjs from source (engine/runtime) or compiled (dist/engine/runtime) code. */
function checkScriptPath(): string | undefined {
    const here = path.dirname(fileURLToPath(import.meta.url));
    return [
        path.resolve(here, "..", "native", "checkLlamaLibraries.mjs"),
        path.resolve(here, "..", "..", "..", "engine", "native", "checkLlamaLibraries.mjs")
    ].find((candidate) => fs.existsSync(candidate));
}

export interface ChildOutcome {
    passed: boolean;
    /** the child's error, exit status or signal */
    detail?: string;
    /** a timeout says nothing about the binary: not worth remembering */
    cacheable: boolean;
}

/** Runs the crash test: a separate process opens the libraries; a crash there is only a failed test. */
export function testInChild(script: string, addonPath: string, files: LlamaLibraryFiles): Promise<ChildOutcome> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [script, JSON.stringify({ addonPath, files })], {
            stdio: ["ignore", "pipe", "pipe"],
            env: process.env
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

/** What the direct start would load and test here, with the fingerprint its verdict is stored under. */
export interface DirectStartPlan {
    addon: TillerNativeAddon;
    addonPath: string;
    script: string;
    binsDir: string;
    files: LlamaLibraryFiles;
    fingerprint: BinaryFingerprint;
}

/** The plan, or why the direct start does not apply (then node-llama-cpp loads the backend). */
export function planDirectStart(logLevel: LlamaLogLevelName): DirectStartPlan | { reason: string } {
    if (process.env.TILLER_DIRECT_START === "0")
        return { reason: "TILLER_DIRECT_START=0" };
    // a packaged app cannot run its binary as plain Node (the runAsNode fuse is off), so the crash
    // test could not run in a child: Electron keeps node-llama-cpp's loading (its utilityProcess test)
    if (process.versions.electron != null)
        return { reason: "running in Electron" };
    const binary = findPrebuiltCpuBinary();
    if ("reason" in binary)
        return binary;
    const script = checkScriptPath();
    if (script == null)
        return { reason: "engine/native/checkLlamaLibraries.mjs is missing" };
    let addon: TillerNativeAddon;
    let addonPath: string;
    try {
        addon = requireNativeAddon();
        addonPath = nativeAddonPath();
    } catch (error) {
        return { reason: (error as Error).message };
    }
    const files: LlamaLibraryFiles = {
        llama: binary.llama,
        ggml: binary.ggml,
        ggmlBase: binary.ggmlBase,
        backendsDir: binary.binsDir,
        logLevel: ggmlLogLevels[logLevel]
    };
    const fingerprint = fingerprintFiles([...binary.files, addonPath, script], binary.nodeLlamaCppVersion);
    return { addon, addonPath, script, binsDir: binary.binsDir, files, fingerprint };
}

/**
 * Opens the CPU backend directly, or returns why not (then use node-llama-cpp). Throws only for a
 * failure after the libraries were loaded into this process, where falling back is no longer clean.
 */
export async function openDirectCpuBackend(logLevel: LlamaLogLevelName): Promise<DirectBackend | { reason: string }> {
    const plan = planDirectStart(logLevel);
    if ("reason" in plan)
        return plan;
    const { addon, files, fingerprint } = plan;
    const loadedAlready = addon.llamaLoadedPath();
    if (loadedAlready != null)
        return { reason: `llama.cpp is already loaded in this process (${loadedAlready})` };

    let verdict: BinaryVerdict | undefined = readVerdict(fingerprint);
    const cached = verdict != null;
    if (verdict == null) {
        const outcome = await testInChild(plan.script, plan.addonPath, files);
        verdict = { fingerprint, verdict: outcome.passed ? "passed" : "failed", detail: outcome.detail, testedAt: new Date().toISOString() };
        if (outcome.cacheable)
            writeVerdict(verdict);
    }
    if (verdict.verdict !== "passed")
        return { reason: `the prebuilt binary in ${plan.binsDir} failed its test${cached ? " (cached verdict)" : ""}: ${verdict.detail ?? "no detail"}` };

    try {
        await addon.openLlamaLibraries(files);
    } catch (error) {
        throw new TillerError("NATIVE_ADDON", `loading llama.cpp from ${plan.binsDir} failed after its test passed: ${(error as Error).message}; ` +
            "TILLER_DIRECT_START=0 leaves the loading to node-llama-cpp", { cause: error });
    }
    const { binding } = loadNativeAddon();
    return { addon, binding, binsDir: plan.binsDir, verdict: cached ? "cached" : "tested" };
}
