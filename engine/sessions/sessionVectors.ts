// The vectors a session saved (vectors/<content hash>.gguf), read once per session: a replay, a
// detection on a recorded run and reopening a session all look the same files up many times.
import path from "node:path";
import { readControlVectorFile, type ControlVector } from "../gguf/ControlVectorFile.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import { decodeCalibration } from "../runtime/vectorCalibration.js";

export interface SessionVectors {
    /** the vector saved under `hash`, named `name` (the name it had when recorded) */
    vector(hash: string, name: string): Promise<SteeringVector>;
    /** the name the file was saved with (`tiller.name`); `fallback` when it says none or cannot be read */
    nameOf(hash: string, fallback: string): Promise<string>;
}

export function sessionVectors(folder: string): SessionVectors {
    // promises, not results: lookups of one file made in parallel share one read
    const files = new Map<string, Promise<ControlVector>>();
    const fileOf = (hash: string): Promise<ControlVector> => {
        let file = files.get(hash);
        if (file == null) {
            file = readControlVectorFile(path.join(folder, "vectors", `${hash}.gguf`));
            files.set(hash, file);
        }
        return file;
    };
    return {
        vector: async (hash, name) => {
            const file = await fileOf(hash);
            const calibration = decodeCalibration(file.metadata);
            return { name, nEmbd: file.nEmbd, directions: file.directions, ...(calibration != null ? { calibration } : {}) };
        },
        nameOf: async (hash, fallback) => {
            try {
                return (await fileOf(hash)).metadata?.["tiller.name"] ?? fallback;
            } catch {
                return fallback; // a missing or damaged vector file does not stop the session from opening
            }
        }
    };
}
