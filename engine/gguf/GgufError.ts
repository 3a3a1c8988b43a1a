/**
 * The one error class of the GGUF reader and writer.
 *
 * Every failure carries a `code` from a closed set, so callers (and the UI, across processes) can
 * branch on it, and a message written for a person: it names the file when the path is known and
 * says what to do where there is something to do.
 */

/** Why a GGUF file could not be read or written. */
export type GgufErrorCode =
    /** The bytes do not start with the magic `GGUF`. */
    | "NOT_GGUF"
    /** GGUF v1 (too old), a version newer than 3, or a big-endian file. */
    | "UNSUPPORTED_VERSION"
    /** The file ends before its header, metadata or tensor data does. */
    | "TRUNCATED"
    /** Anything else that breaks the format: bad type codes, duplicate keys, misaligned offsets… */
    | "MALFORMED"
    /** The file is fine but a tensor's ggml type cannot be decoded by the requested accessor. */
    | "UNSUPPORTED_TYPE"
    /** A requested metadata key or tensor is absent. */
    | "NOT_FOUND"
    /** A caller passed a value the writer (or a generator) cannot encode. */
    | "INVALID_ARGUMENT"
    /** The file could not be read from or written to disk. */
    | "IO";

export class GgufError extends Error {
    override readonly name = "GgufError";

    constructor(
        readonly code: GgufErrorCode,
        message: string,
        options?: { cause?: unknown }
    ) {
        super(message, options);
    }
}

/** `"model.gguf" ` when a file name is known, otherwise the given fallback (e.g. `"the data "`). */
export function describeSource(fileName: string | undefined, fallback = "GGUF data"): string {
    return fileName === undefined ? fallback : `"${fileName}"`;
}
