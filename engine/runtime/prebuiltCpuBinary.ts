// The prebuilt CPU build of llama.cpp that node-llama-cpp's getLlama({ gpu: false, build: "never" })
// would load on Linux, found the way node-llama-cpp 3.21.1 finds it (a local build or a binary in
// node-llama-cpp's own bins/ folder would take precedence there, so when one exists this returns a
// reason and the caller lets node-llama-cpp choose).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { nodeLlamaCppPackage } from "../native/loadNativeAddon.js";

export interface PrebuiltCpuBinary {
    /** the folder holding llama-addon.node, the libraries and the ggml-cpu variants */
    binsDir: string;
    llama: string;
    ggml: string;
    ggmlBase: string;
    /** every file whose contents decide what runs (libraries, CPU variants, build metadata) */
    files: string[];
    /** the llama.cpp release the binary was built from (its _nlcBuildMetadata.json) */
    llamaCppRelease: string;
    nodeLlamaCppVersion: string;
}

/** node-llama-cpp's prebuilt package for a CPU-only Linux build of this architecture. */
const cpuPackageByArch: Partial<Record<string, string>> = {
    x64: "linux-x64",
    arm64: "linux-arm64"
};

interface BuildMetadata {
    buildOptions?: { platform?: string; arch?: string; gpu?: unknown; llamaCpp?: { release?: string } };
}

/** Finds the binary, or says why the direct start does not apply here. */
export function findPrebuiltCpuBinary(): PrebuiltCpuBinary | { reason: string } {
    if (process.platform !== "linux")
        return { reason: `the direct start is for Linux (this is ${process.platform})` };
    const folderName = cpuPackageByArch[process.arch];
    if (folderName == null)
        return { reason: `no prebuilt CPU package is known for ${process.arch}` };
    const nodeLlamaCpp = nodeLlamaCppPackage();
    // node-llama-cpp prefers these two over the prebuilt package: leave the choice to it
    const localBuilds = path.join(nodeLlamaCpp.dir, "llama", "localBuilds");
    if (fs.existsSync(localBuilds))
        return { reason: `node-llama-cpp has local builds (${localBuilds})` };
    const bundledBins = path.join(nodeLlamaCpp.dir, "bins", folderName);
    if (fs.existsSync(path.join(bundledBins, "llama-addon.node")))
        return { reason: `node-llama-cpp ships its own binary in ${bundledBins}` };

    const packageName = `@node-llama-cpp/${folderName}`;
    let packageDir: string;
    try {
        const entry = createRequire(path.join(nodeLlamaCpp.dir, "package.json")).resolve(packageName);
        packageDir = path.resolve(path.dirname(entry), "..");
    } catch {
        return { reason: `${packageName} is not installed` };
    }
    const packageVersion = readJson<{ version?: string }>(path.join(packageDir, "package.json"))?.version;
    if (packageVersion !== nodeLlamaCpp.version)
        return { reason: `${packageName} ${packageVersion ?? "(no version)"} does not match node-llama-cpp ${nodeLlamaCpp.version}` };

    const binsDir = path.join(packageDir, "bins", folderName);
    const metadataPath = path.join(binsDir, "_nlcBuildMetadata.json");
    const options = readJson<BuildMetadata>(metadataPath)?.buildOptions;
    if (options == null || !fs.existsSync(path.join(binsDir, "llama-addon.node")))
        return { reason: `${binsDir} has no complete prebuilt binary` };
    if (options.gpu !== false || options.platform !== "linux" || options.arch !== process.arch)
        return { reason: `${metadataPath} does not describe a CPU build for linux-${process.arch}` };

    const names = fs.readdirSync(binsDir).sort();
    const only = (pattern: RegExp): string | undefined => {
        const matches = names.filter((name) => pattern.test(name));
        return matches.length === 1 ? path.join(binsDir, matches[0]!) : undefined;
    };
    // libllama.v0.4.0.so, libggml.v0.4.0.so, libggml-base.so (libllama-common.so is another library)
    const llama = only(/^libllama(\.[^-]*)?\.so$/);
    const ggml = only(/^libggml(\.[^-]*)?\.so$/);
    const ggmlBase = only(/^libggml-base\.so$/);
    if (llama == null || ggml == null || ggmlBase == null)
        return { reason: `cannot tell libllama, libggml and libggml-base apart in ${binsDir}` };
    const files = names.filter((name) => name.endsWith(".so") || name.endsWith(".node") || name === "_nlcBuildMetadata.json")
        .map((name) => path.join(binsDir, name));
    return { binsDir, llama, ggml, ggmlBase, files, llamaCppRelease: options.llamaCpp?.release ?? "unknown", nodeLlamaCppVersion: nodeLlamaCpp.version };
}

function readJson<T>(file: string): T | undefined {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as T;
    } catch {
        return undefined;
    }
}
