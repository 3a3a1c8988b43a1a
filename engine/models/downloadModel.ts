// Downloads a model by node-llama-cpp URI (`hf:user/repo:quant`, `hf:user/repo/file.gguf`) or URL
// through node-llama-cpp's createModelDownloader (ipull underneath), then checks what arrived: the
// size the server announced, the GGUF header, and the sha256 when one is expected. A file that fails
// a check is renamed to `<file>.corrupt` (so neither a scan nor a resumed download picks it up) and
// the error says why.
//
// Resuming: ipull writes into `<file>.ipull` and appends its progress (which 5 MiB chunks are
// complete) after the data. A cancelled download keeps that file (`keepPartial`, the default) and
// the next download of the same URI into the same folder continues from the completed chunks.
import { link, lstat, rename, rm, stat, unlink } from "node:fs/promises";
import path from "node:path";
import type { ModelDownloader } from "node-llama-cpp";
import { TillerError } from "../protocol/TillerError.js";
import { sha256OfFile } from "../io/sha256File.js";
import { checkModelFile } from "../runtime/checkModelFile.js";
import { projectModelsDir } from "./projectModelsDir.js";

export interface DownloadProgress {
    /** bytes on disk so far (a resumed download starts at what was kept) */
    downloaded: number;
    /** bytes in all, as the server announced them (0 while unknown) */
    total: number;
}

export interface DownloadModelOptions {
    /** the folder to save into; default the project's models/ folder (`$TILLER_MODELS_DIR`) */
    directory?: string;
    /** the file name to save as; default the name in the URI or the server's */
    fileName?: string;
    /** expected lower-case hex SHA-256 of the (first) file; checked after the download when given */
    sha256?: string;
    /** expected size in bytes of all files together; checked when given */
    expectedSizeBytes?: number;
    /** called as bytes arrive */
    onProgress?: (progress: DownloadProgress) => void;
    /** aborting cancels the download with an ABORTED error */
    signal?: AbortSignal;
    /** keep a cancelled download's partial file so the next call resumes it (default true) */
    keepPartial?: boolean;
    /** skip the transfer when the file is already there with the announced size (default true); the checks still run */
    skipExisting?: boolean;
    /** extra HTTP headers (e.g. authorization) */
    headers?: Record<string, string>;
}

export interface DownloadedModel {
    /** the file to load (the first part of a split model) */
    path: string;
    /** every file written (several for a split model) */
    files: string[];
    sizeBytes: number;
    /** the SHA-256 of `path`, when one was expected (and matched); null otherwise */
    sha256: string | null;
}

/**
 * Downloads `uri` and verifies it. Errors: INVALID_ARGUMENT (bad URI or sha256), FILE_NOT_FOUND
 * (the server has no such file), ABORTED, TRUNCATED_FILE (short file, damaged GGUF, sha256
 * mismatch), NOT_GGUF / UNSUPPORTED_GGUF (not a model llama.cpp reads), INTERNAL (network, disk).
 */
export async function downloadModel(uri: string, options: DownloadModelOptions = {}): Promise<DownloadedModel> {
    if (!/^(hf:|https?:\/\/)\S+$/.test(uri))
        throw new TillerError("INVALID_ARGUMENT", `"${uri}" is not a model URI: use hf:<user>/<repo>[:<quant>], hf:<user>/<repo>/<file>.gguf or an http(s) URL`);
    const expectedSha = options.sha256?.toLowerCase();
    if (expectedSha != null && !/^[0-9a-f]{64}$/.test(expectedSha))
        throw new TillerError("INVALID_ARGUMENT", `"${options.sha256}" is not a SHA-256 (64 hex digits)`);
    if (options.expectedSizeBytes != null && !(Number.isSafeInteger(options.expectedSizeBytes) && options.expectedSizeBytes >= 0))
        throw new TillerError("INVALID_ARGUMENT", `expectedSizeBytes must be a whole number ≥ 0, got ${options.expectedSizeBytes}`);
    const { signal, onProgress } = options;
    const keepPartial = options.keepPartial ?? true;
    const directory = path.resolve(options.directory ?? projectModelsDir());
    throwIfAborted(signal, uri);

    let downloader: ModelDownloader;
    const { createModelDownloader } = await import("node-llama-cpp"); // imported when needed: ~0.5 s
    try {
        downloader = await untilAborted(createModelDownloader({
            modelUri: uri,
            dirPath: directory,
            ...(options.fileName != null ? { fileName: options.fileName } : {}),
            ...(options.headers != null ? { headers: options.headers } : {}),
            showCliProgress: false,
            skipExisting: options.skipExisting ?? true,
            deleteTempFileOnCancel: !keepPartial,
            ...(onProgress != null ? { onProgress: (status: { downloadedSize: number; totalSize: number }) => onProgress({ downloaded: status.downloadedSize, total: status.totalSize }) } : {})
        }), signal);
    } catch (error) {
        throw downloadError(error, uri, signal);
    }

    try {
        await untilAborted(downloader.download(), signal);
    } catch (error) {
        if (signal?.aborted) {
            await downloader.cancel({ deleteTempFile: !keepPartial }).catch(() => undefined);
            const kept = keepPartial ? `; the partial file was kept and the same command resumes it` : "";
            throw new TillerError("ABORTED", `the download of ${uri} was cancelled at ${downloader.downloadedSize} of ${downloader.totalSize} bytes${kept}`, { cause: error });
        }
        throw downloadError(error, uri, signal);
    }
    if (signal?.aborted) {
        // ipull may finish quietly when closed; a cancelled download is never a result
        await downloader.cancel({ deleteTempFile: !keepPartial }).catch(() => undefined);
        throw new TillerError("ABORTED", `the download of ${uri} was cancelled`);
    }

    const files = downloader.filesInfo.map((file) => ({ path: file.filePath, announced: file.totalSize }));
    return verifyDownload(uri, downloader.entrypointFilePath, files, expectedSha, options.expectedSizeBytes);
}

async function verifyDownload(uri: string, entry: string, files: { path: string; announced: number }[],
    expectedSha: string | undefined, expectedSize: number | undefined): Promise<DownloadedModel> {
    const paths = files.map((file) => file.path);
    const fail = async (code: "TRUNCATED_FILE" | "NOT_GGUF" | "UNSUPPORTED_GGUF", reason: string): Promise<never> => {
        const moved = await quarantine(paths);
        const where = moved.length > 0 ? `; moved aside as ${moved.map((file) => `"${file}"`).join(", ")}` : "";
        throw new TillerError(code, `the download of ${uri} is damaged: ${reason}${where}`);
    };

    let sizeBytes = 0;
    for (const file of files) {
        const size = await stat(file.path).then((info) => info.size, () => undefined);
        if (size === undefined)
            return fail("TRUNCATED_FILE", `"${file.path}" is missing after the download`);
        if (file.announced > 0 && size !== file.announced)
            return fail("TRUNCATED_FILE", `"${path.basename(file.path)}" has ${size} bytes but the server announced ${file.announced}`);
        sizeBytes += size;
    }
    if (expectedSize != null && sizeBytes !== expectedSize)
        return fail("TRUNCATED_FILE", `it has ${sizeBytes} bytes, expected ${expectedSize}`);

    for (const file of paths) {
        try {
            await checkModelFile(file);
        } catch (error) {
            if (error instanceof TillerError && (error.code === "NOT_GGUF" || error.code === "TRUNCATED_FILE" || error.code === "UNSUPPORTED_GGUF"))
                return fail(error.code, error.message);
            throw error;
        }
    }

    let sha256: string | null = null;
    if (expectedSha != null) {
        sha256 = await sha256OfFile(entry);
        if (sha256 !== expectedSha)
            return fail("TRUNCATED_FILE", `its sha256 is ${sha256}, expected ${expectedSha}`);
    }
    return { path: entry, files: paths, sizeBytes, sha256 };
}

/**
 * Renames each file that exists to `<file>.corrupt` (or `<file>.corrupt-2`, -3, … when that name is
 * taken: an existing file is never replaced); returns the new names.
 */
async function quarantine(files: readonly string[]): Promise<string[]> {
    const moved: string[] = [];
    for (const file of files) {
        try {
            moved.push(await moveAsideWithoutReplacing(file, `${file}.corrupt`));
        } catch {
            await rm(file, { force: true }).catch(() => undefined); // cannot rename: never leave it under a .gguf name
        }
    }
    return moved;
}

/**
 * A hard link fails with EEXIST instead of replacing (rename replaces silently), so a name that
 * appears between the check and the move is still not overwritten; where links are not supported
 * (FAT, some network shares) the first free name is taken with a rename.
 */
async function moveAsideWithoutReplacing(file: string, wanted: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
        const candidate = attempt === 1 ? wanted : `${wanted}-${attempt}`;
        try {
            await link(file, candidate);
        } catch (error) {
            const code = (error as NodeJS.ErrnoException).code;
            if (code === "EEXIST")
                continue;
            if (code === "ENOENT")
                throw error;
            const target = await freeName(wanted);
            await rename(file, target);
            return target;
        }
        await unlink(file);
        return candidate;
    }
}

async function freeName(wanted: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
        const candidate = attempt === 1 ? wanted : `${wanted}-${attempt}`;
        const taken = await lstat(candidate).then(() => true, () => false);
        if (!taken)
            return candidate;
    }
}

function throwIfAborted(signal: AbortSignal | undefined, uri: string): void {
    if (signal?.aborted)
        throw new TillerError("ABORTED", `the download of ${uri} was cancelled before it started`);
}

/** `promise`, or a rejection as soon as `signal` aborts (the promise's own later failure is ignored). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (signal == null)
        return promise;
    promise.catch(() => undefined);
    return new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(signal.reason ?? new Error("aborted"));
        if (signal.aborted) {
            onAbort();
            return;
        }
        signal.addEventListener("abort", onAbort, { once: true });
        promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
}

function downloadError(error: unknown, uri: string, signal: AbortSignal | undefined): TillerError {
    if (error instanceof TillerError)
        return error;
    if (signal?.aborted)
        return new TillerError("ABORTED", `the download of ${uri} was cancelled`, { cause: error });
    const status = (error as { statusCode?: unknown } | null)?.statusCode;
    const message = error instanceof Error ? error.message : String(error);
    if (status === 404)
        return new TillerError("FILE_NOT_FOUND", `${uri} was not found (HTTP 404)`, { cause: error });
    if (typeof status === "number")
        return new TillerError("INTERNAL", `the download of ${uri} failed: HTTP ${status}`, { cause: error });
    return new TillerError("INTERNAL", `the download of ${uri} failed: ${message}`, { cause: error });
}
