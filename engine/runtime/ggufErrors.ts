// Errors of engine/gguf (GgufError, ControlVectorError) as the engine's TillerErrors: one mapping for
// model files, control vectors and the library, whose messages name the file.
import path from "node:path";
import { ControlVectorError } from "../gguf/ControlVectorFile.js";
import { GgufError } from "../gguf/GgufError.js";
import { TillerError, type TillerErrorCode } from "../protocol/TillerError.js";

const ggufCodes: Record<GgufError["code"], TillerErrorCode> = {
    NOT_GGUF: "NOT_GGUF",
    UNSUPPORTED_VERSION: "UNSUPPORTED_GGUF",
    TRUNCATED: "TRUNCATED_FILE",
    MALFORMED: "UNSUPPORTED_GGUF",
    UNSUPPORTED_TYPE: "UNSUPPORTED_GGUF",
    NOT_FOUND: "UNSUPPORTED_GGUF",
    INVALID_ARGUMENT: "INVALID_ARGUMENT",
    IO: "FILE_NOT_FOUND"
};

/**
 * Turns an error of engine/gguf (GgufError, ControlVectorError) into a TillerError whose message
 * names `filePath`; a TillerError passes through; anything else becomes INTERNAL.
 * `kind` describes the file in messages ("model", "control-vector").
 */
export function ggufErrorToTillerError(error: unknown, filePath: string, kind: string): TillerError {
    if (error instanceof TillerError)
        return error;
    const named = (message: string) => message.includes(filePath) || message.includes(path.basename(filePath))
        ? message
        : `"${filePath}": ${message}`;
    if (error instanceof ControlVectorError) {
        const code: TillerErrorCode = error.code === "MALFORMED" ? "UNSUPPORTED_GGUF" : "VECTOR_MISMATCH";
        return new TillerError(code, named(error.message), { cause: error });
    }
    if (error instanceof GgufError) {
        if (error.code === "IO") {
            const errno = (error.cause as NodeJS.ErrnoException | undefined)?.code;
            if (errno === "ENOENT")
                return new TillerError("FILE_NOT_FOUND", `${kind} file "${filePath}" does not exist`, { cause: error });
            return new TillerError("INTERNAL", named(error.message), { cause: error });
        }
        if (error.code === "NOT_GGUF")
            return new TillerError("NOT_GGUF", `"${filePath}" is not a GGUF ${kind} file (it does not start with the GGUF magic bytes)`, { cause: error });
        return new TillerError(ggufCodes[error.code], named(error.message), { cause: error });
    }
    return new TillerError("INTERNAL", error instanceof Error ? error.message : String(error), { cause: error });
}
