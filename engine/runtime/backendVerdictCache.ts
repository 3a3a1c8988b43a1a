// Remembers whether a prebuilt llama.cpp binary passed its crash test on this machine, so the test
// (a child process, ~0.5 s) runs once per set of files instead of at every start.
//
// An entry holds the fingerprint it was made for: the path, size and modification time of every
// file of the binary and of Tiller's addon, node-llama-cpp's version, Node's ABI and the CPU. A
// different fingerprint (a reinstall, an upgrade, another CPU sharing the home folder) finds no
// entry and is tested again; so is a file that cannot be read or parsed.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface BinaryFingerprint {
    nodeLlamaCppVersion: string;
    /** [path, size, mtimeMs] of each file, sorted by path */
    files: [string, number, number][];
    nodeAbi: string;
    arch: string;
    cpu: string;
}

export interface BinaryVerdict {
    fingerprint: BinaryFingerprint;
    /** "passed": load directly; "failed": the child crashed or reported an error, use node-llama-cpp */
    verdict: "passed" | "failed";
    /** why it failed (the child's message or exit status) */
    detail?: string;
    testedAt: string;
}

interface VerdictFile {
    version: 1;
    entries: Record<string, BinaryVerdict>;
}

/** Entries kept at most (oldest dropped): one per installation this user runs Tiller from. */
const maxEntries = 32;

/** `$TILLER_CACHE_DIR`, else `$XDG_CACHE_HOME/tiller`, else `~/.cache/tiller`. */
export function tillerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
    if (env.TILLER_CACHE_DIR != null && env.TILLER_CACHE_DIR !== "")
        return env.TILLER_CACHE_DIR;
    const xdgCache = env.XDG_CACHE_HOME != null && env.XDG_CACHE_HOME !== "" ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
    return path.join(xdgCache, "tiller");
}

export function verdictFilePath(env: NodeJS.ProcessEnv = process.env): string {
    return path.join(tillerCacheDir(env), "backend-verdicts.json");
}

/** The fingerprint of `files` (throws when one cannot be stat'ed: then nothing can be trusted). */
export function fingerprintFiles(files: readonly string[], nodeLlamaCppVersion: string): BinaryFingerprint {
    const stats = [...files].sort().map((file): [string, number, number] => {
        const stat = fs.statSync(file);
        return [file, stat.size, stat.mtimeMs];
    });
    return {
        nodeLlamaCppVersion,
        files: stats,
        nodeAbi: process.versions.modules,
        arch: process.arch,
        cpu: os.cpus()[0]?.model ?? "unknown"
    };
}

function entryKey(fingerprint: BinaryFingerprint): string {
    return crypto.createHash("sha256").update(JSON.stringify(fingerprint)).digest("hex").slice(0, 32);
}

function readVerdictFile(file: string): VerdictFile {
    try {
        const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<VerdictFile>;
        if (parsed.version === 1 && parsed.entries != null && typeof parsed.entries === "object")
            return { version: 1, entries: parsed.entries };
    } catch {
        // missing or unreadable: no verdicts
    }
    return { version: 1, entries: {} };
}

/** The stored verdict for exactly this fingerprint, or undefined (never stored, or stored for other files). */
export function readVerdict(fingerprint: BinaryFingerprint, file = verdictFilePath()): BinaryVerdict | undefined {
    const entry = readVerdictFile(file).entries[entryKey(fingerprint)];
    if (entry == null || (entry.verdict !== "passed" && entry.verdict !== "failed"))
        return undefined;
    // the key is a hash: compare what it was made from, so a damaged or edited entry is not trusted
    return JSON.stringify(entry.fingerprint) === JSON.stringify(fingerprint) ? entry : undefined;
}

/** Stores a verdict (write to a temporary file, then rename: a reader never sees half a file). Failures to write are ignored. */
export function writeVerdict(verdict: BinaryVerdict, file = verdictFilePath()): void {
    try {
        const contents = readVerdictFile(file);
        contents.entries[entryKey(verdict.fingerprint)] = verdict;
        const keys = Object.keys(contents.entries).sort((a, b) =>
            (contents.entries[a]!.testedAt < contents.entries[b]!.testedAt ? -1 : 1));
        for (const key of keys.slice(0, Math.max(0, keys.length - maxEntries)))
            delete contents.entries[key];
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const temporary = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(temporary, `${JSON.stringify(contents, null, 1)}\n`);
        fs.renameSync(temporary, file);
    } catch {
        // a read-only home: the test simply runs again next time
    }
}
