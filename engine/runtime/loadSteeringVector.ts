// Reads a llama.cpp control-vector GGUF into the runtime's SteeringVector, checked against a model.
// Every failure is a TillerError whose message names the file.
import path from "node:path";
import { readControlVectorFile, validateControlVectorForModel } from "../gguf/ControlVectorFile.js";
import { ggufErrorToTillerError } from "./ggufErrors.js";
import type { SteeringVector } from "./SteeringVector.js";
import { assertVectorFitsModel } from "./SteeringVector.js";
import type { ModelShape } from "./loadedModel.js";

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
