// SHA-256 of a file, streamed (model files are gigabytes): identifies the exact model a vector was
// read from (`tiller.model_sha256`) and a session's model (DESIGN.md §5).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { TillerError } from "../protocol/TillerError.js";

/**
 * Lower-case hex SHA-256 of the file at `path`, read as a stream in 1 MiB chunks. Throws
 * FILE_NOT_FOUND when the file does not exist, INTERNAL for other read errors.
 */
export async function sha256OfFile(path: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const hash = createHash("sha256");
    try {
        const stream = createReadStream(path, { highWaterMark: 1 << 20, ...(options.signal ? { signal: options.signal } : {}) });
        for await (const chunk of stream)
            hash.update(chunk as Buffer);
    } catch (cause) {
        const errno = (cause as NodeJS.ErrnoException).code;
        if (errno === "ENOENT")
            throw new TillerError("FILE_NOT_FOUND", `file "${path}" does not exist`, { cause });
        if (errno === "ABORT_ERR")
            throw new TillerError("ABORTED", `hashing "${path}" was aborted`, { cause });
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new TillerError("INTERNAL", `cannot read "${path}": ${reason}`, { cause });
    }
    return hash.digest("hex");
}
