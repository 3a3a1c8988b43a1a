// SHA-256 of a file, streamed (model files are gigabytes): identifies the exact model a vector was
// read from (`tiller.model_sha256`) and a session's model (DESIGN.md §5).
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { TillerError } from "../protocol/TillerError.js";

/**
 * Hashes already computed in this process, by path, with the file's identity when it was read:
 * the same model is hashed for its session, every vector built on it and every replayed run, and
 * streaming gigabytes each time is the cost. A file that changed (size, mtime, inode) is read again.
 */
const known = new Map<string, { stamp: string; sha256: string }>();

function stampOf(path: string): string | null {
    try {
        const stat = statSync(path);
        return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    } catch {
        return null; // the read below reports what is wrong
    }
}

/**
 * Lower-case hex SHA-256 of the file at `path`, read as a stream in 1 MiB chunks (once per file
 * version in a process). Throws FILE_NOT_FOUND when the file does not exist, INTERNAL for other
 * read errors.
 */
export async function sha256OfFile(path: string, options: { signal?: AbortSignal } = {}): Promise<string> {
    const stamp = stampOf(path);
    const cached = known.get(path);
    if (stamp != null && cached?.stamp === stamp)
        return cached.sha256;
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
    const sha256 = hash.digest("hex");
    if (stamp != null)
        known.set(path, { stamp, sha256 });
    return sha256;
}
