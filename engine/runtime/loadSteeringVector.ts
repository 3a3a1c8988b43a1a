// Reads a llama.cpp control-vector GGUF into the runtime's SteeringVector, checked against a model.
// Every failure is a TillerError whose message names the file.
import path from "node:path";
import { ControlVectorError, readControlVectorFile, validateControlVectorForModel } from "../gguf/ControlVectorFile.js";
import { GgufError } from "../gguf/GgufError.js";
import { TillerError, type TillerErrorCode } from "../protocol/TillerError.js";
import type { SteeringVector } from "./SteeringVector.js";
import { assertVectorFitsModel } from "./SteeringVector.js";
import type { ModelShape } from "./TillerModel.js";

/** What a vector is checked against: the shape of the model it will steer. */
export interface SteeringVectorTarget {
    shape: Pick<ModelShape, "nLayer" | "nEmbd" | "architecture">;
}

/**
 * Loads `filePath` (name: the file's base name without extension). With `model`, checks the
 * width, the layers (1..nLayer-1, llama.cpp numbering) and the architecture hint, and throws
 * VECTOR_MISMATCH when they do not fit. Bad files give NOT_GGUF, TRUNCATED_FILE,
 * UNSUPPORTED_GGUF or FILE_NOT_FOUND.
 */
export async function loadSteeringVector(filePath: string, model?: SteeringVectorTarget): Promise<SteeringVector> {
    const fileName = path.basename(filePath);
    let vector: SteeringVector;
    try {
        const cv = await readControlVectorFile(filePath);
        if (model != null)
            validateControlVectorForModel(cv, model.shape, fileName);
        vector = { name: path.parse(filePath).name, nEmbd: cv.nEmbd, directions: cv.directions };
    } catch (error) {
        throw ggufErrorToTillerError(error, filePath, "control-vector");
    }
    if (model != null)
        assertVectorFitsModel(vector, model.shape);
    return vector;
}

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
