// Cheap checks of a model file before llama.cpp sees it, so bad input gets a precise error
// (not GGUF, GGUF v1, truncated) instead of llama.cpp's generic "failed to load". The header is read
// by the one GGUF reader (engine/gguf/GgufReader.ts), never the weights.
import { GgufError } from "../gguf/GgufError.js";
import { readGgufFile } from "../gguf/GgufReader.js";
import { TillerError } from "../protocol/TillerError.js";
import { ggufErrorToTillerError } from "./ggufErrors.js";

/**
 * Throws NOT_GGUF, UNSUPPORTED_GGUF, TRUNCATED_FILE, FILE_NOT_FOUND or MODEL_LOAD_FAILED with a
 * message naming the file.
 */
export async function checkModelFile(path: string): Promise<void> {
    try {
        await readGgufFile(path, { tensorData: false });
    } catch (error) {
        if (!(error instanceof GgufError))
            throw error;
        if (error.code === "IO" && (error.cause as NodeJS.ErrnoException | undefined)?.code !== "ENOENT")
            throw new TillerError("MODEL_LOAD_FAILED", `cannot open model file "${path}": ${(error.cause as Error | undefined)?.message ?? error.message}`, { cause: error });
        // a header that breaks the format is damaged (a bad copy, a cut download), as llama.cpp would find too
        if (error.code === "MALFORMED")
            throw new TillerError("TRUNCATED_FILE", `"${path}" has a damaged GGUF header: ${error.message}`, { cause: error });
        throw ggufErrorToTillerError(error, path, "model");
    }
}
