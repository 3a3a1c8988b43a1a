/**
 * Control vectors in llama.cpp's GGUF format (as written by `llama-cvector-generator` and by
 * repeng, and read by llama.cpp's `--control-vector`):
 *
 *     general.architecture      string  "controlvector"
 *     controlvector.model_hint  string  architecture of the model, e.g. "llama"
 *     controlvector.layer_count int32 (llama.cpp) or uint32 (repeng)
 *     direction.N               F32 tensor, 1-D, length n_embd, for N ≥ 1
 *
 * `direction.N` is added to the output of 0-based block N (llama.cpp's `l_out-N`); block 0 cannot
 * be steered. Layers may be missing: a missing layer adds zero. llama.cpp ignores `layer_count`
 * when it loads a vector; its generator writes the number of directions, which is the highest
 * index since it writes `direction.1` … `direction.(n_layer-1)`. We write the highest index present.
 */
import { readFile, writeFile } from "node:fs/promises";
import { ControlVectorError } from "./ControlVectorError.js";
import { GgufError } from "./GgufError.js";
import { GgmlType } from "./GgmlType.js";
import { readGguf } from "./GgufReader.js";
import { writeGguf } from "./GgufWriter.js";
import type { GgufTensorInput, GgufValueInput } from "./GgufWriter.js";
import { isGgufIntegerType } from "./GgufValue.js";

// Re-exported so that users of this module need one import.
export { ControlVectorError } from "./ControlVectorError.js";
export type { ControlVectorErrorCode } from "./ControlVectorError.js";

/** A steering vector: one direction per steerable layer. */
export interface ControlVector {
    /** Architecture the vector was made for (`controlvector.model_hint`), e.g. `llama`; may be "". */
    modelHint: string;
    /** Width of every direction (the model's `n_embd`). */
    nEmbd: number;
    /** llama.cpp layer index N (≥ 1, the output of block N) → direction of length `nEmbd`. */
    directions: Map<number, Float32Array>;
    /** Extra string metadata; keys must start with `tiller.`. Round-trips through the file. */
    metadata?: Record<string, string>;
}

/** The shape of the model a vector is meant for. */
export interface ControlVectorTargetModel {
    /** Number of blocks (`<arch>.block_count`). */
    nLayer: number;
    /** Residual width (`<arch>.embedding_length`). */
    nEmbd: number;
    /** `general.architecture`, e.g. `llama`. */
    architecture: string;
}

const ARCH = "controlvector";
const TILLER_PREFIX = "tiller.";
const DIRECTION_NAME = /^direction\.(\d+)$/;
/** Highest layer index a vector may name: far beyond any model's block count; larger is a corrupt file. */
export const MAX_LAYER_INDEX = 4096;

/**
 * Parse a control vector from GGUF bytes. Throws `GgufError` for a broken container and
 * `ControlVectorError` (`MALFORMED`) for a GGUF file that is not a valid control vector.
 */
export function parseControlVector(bytes: Uint8Array, fileName?: string): ControlVector {
    const file = readGguf(bytes, fileName === undefined ? {} : { fileName });
    const what = describe(fileName);
    const malformed = (detail: string) => new ControlVectorError("MALFORMED", `${what} is not a valid control vector: ${detail}`);

    // --- Metadata --------------------------------------------------------------------------
    const arch = file.get("general.architecture");
    if (arch !== undefined && (arch.type !== "string" || arch.value !== ARCH)) {
        const shown = arch.type === "string" ? `"${arch.value}"` : `a ${arch.type}`;
        throw malformed(`its general.architecture is ${shown}, not "${ARCH}" (is it a model file?)`);
    }
    const hint = file.get(`${ARCH}.model_hint`);
    if (hint !== undefined && hint.type !== "string") throw malformed(`${ARCH}.model_hint is ${hint.type}, not a string`);
    const layerCount = file.get(`${ARCH}.layer_count`);
    // llama.cpp writes int32, repeng uint32; accept any integer type, ignore the value.
    if (layerCount !== undefined && !isGgufIntegerType(layerCount.type)) {
        throw malformed(`${ARCH}.layer_count is ${layerCount.type}, not an integer`);
    }
    let metadata: Record<string, string> | undefined;
    for (const [key, value] of file.metadata) {
        if (key.startsWith(TILLER_PREFIX) && value.type === "string") {
            metadata ??= {};
            metadata[key] = value.value;
        }
    }

    // --- Directions --------------------------------------------------------------------------
    const directions = new Map<number, Float32Array>();
    let nEmbd = 0;
    for (const t of file.tensors) {
        const match = DIRECTION_NAME.exec(t.name);
        if (match === null) throw malformed(`tensor "${t.name}" is not named direction.N`);
        const layer = Number(match[1]);
        if (!Number.isSafeInteger(layer) || layer > MAX_LAYER_INDEX) {
            throw malformed(`tensor "${t.name}" names layer ${match[1]}, beyond any model (at most ${MAX_LAYER_INDEX})`);
        }
        if (layer === 0) throw malformed(`it has direction.0, but block 0 cannot be steered (layers start at 1)`);
        if (t.type !== GgmlType.F32) throw malformed(`tensor "${t.name}" is ${t.typeName}, not F32`);
        if (t.dims.length !== 1) throw malformed(`tensor "${t.name}" has ${t.dims.length} dimensions, not 1`);
        if (directions.size === 0) {
            nEmbd = t.nElements;
        } else if (t.nElements !== nEmbd) {
            throw malformed(`tensor "${t.name}" has length ${t.nElements} but the others have ${nEmbd}`);
        }
        // "direction.1" and "direction.01" name the same layer: llama.cpp adds both, and so do we.
        const values = file.tensorFloat32(t.name);
        const earlier = directions.get(layer);
        if (earlier !== undefined) {
            for (let i = 0; i < values.length; i++) earlier[i] = earlier[i]! + values[i]!;
        } else {
            directions.set(layer, values);
        }
    }

    // Sort by layer so iteration order never depends on the file's order.
    const sorted = new Map([...directions].sort(([a], [b]) => a - b));
    const cv: ControlVector = { modelHint: hint?.value ?? "", nEmbd, directions: sorted };
    if (metadata !== undefined) cv.metadata = metadata;
    return cv;
}

/** Read a control vector file. Throws `GgufError` (incl. code `IO`) or `ControlVectorError`. */
export async function readControlVectorFile(path: string): Promise<ControlVector> {
    let bytes: Uint8Array;
    try {
        bytes = await readFile(path);
    } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new GgufError("IO", `cannot read "${path}": ${reason}`, { cause });
    }
    return parseControlVector(bytes, path);
}

/**
 * Encode a control vector as llama.cpp writes it: metadata, then `direction.N` F32 tensors in
 * ascending N, the floats copied bit for bit. Throws `ControlVectorError` (`MALFORMED`).
 */
export function encodeControlVector(cv: ControlVector): Uint8Array {
    const malformed = (detail: string) => new ControlVectorError("MALFORMED", `cannot write control vector: ${detail}`);
    if (!Number.isSafeInteger(cv.nEmbd) || cv.nEmbd < 1) throw malformed(`nEmbd must be a positive integer, not ${cv.nEmbd}`);

    const layers = [...cv.directions.keys()].sort((a, b) => a - b);
    for (const layer of layers) {
        if (!Number.isSafeInteger(layer) || layer < 1) {
            throw malformed(`layer ${layer} is invalid: layers are integers from 1 (block 0 cannot be steered)`);
        }
        const dir = cv.directions.get(layer)!;
        if (dir.length !== cv.nEmbd) throw malformed(`direction.${layer} has length ${dir.length} but nEmbd is ${cv.nEmbd}`);
    }

    const metadata: Array<[string, GgufValueInput]> = [
        ["general.architecture", ARCH],
        [`${ARCH}.model_hint`, cv.modelHint],
        [`${ARCH}.layer_count`, { type: "int32", value: layers.at(-1) ?? 0 }]
    ];
    for (const [key, value] of Object.entries(cv.metadata ?? {})) {
        if (!key.startsWith(TILLER_PREFIX)) throw malformed(`extra metadata key "${key}" must start with "${TILLER_PREFIX}"`);
        if (typeof value !== "string") throw malformed(`extra metadata "${key}" must be a string`);
        metadata.push([key, value]);
    }

    const tensors: GgufTensorInput[] = layers.map((layer) => ({
        name: `direction.${layer}`,
        dims: [cv.nEmbd],
        type: "f32",
        data: cv.directions.get(layer)!
    }));
    return writeGguf({ metadata, tensors });
}

/** Encode and write a control vector file. Throws `ControlVectorError` or `GgufError` (`IO`). */
export async function writeControlVectorFile(path: string, cv: ControlVector): Promise<void> {
    const bytes = encodeControlVector(cv);
    try {
        await writeFile(path, bytes);
    } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new GgufError("IO", `cannot write "${path}": ${reason}`, { cause });
    }
}

/**
 * Check that a vector fits a model: same architecture (when the vector has a hint), same width,
 * and only layers 1 … nLayer-1. Throws `ControlVectorError`; returns nothing when it fits.
 */
export function validateControlVectorForModel(cv: ControlVector, model: ControlVectorTargetModel, fileName?: string): void {
    const what = describe(fileName);
    if (cv.modelHint !== "" && cv.modelHint !== model.architecture) {
        throw new ControlVectorError(
            "ARCH_MISMATCH",
            `${what} was made for architecture "${cv.modelHint}" but the model is "${model.architecture}"`
        );
    }
    if (cv.nEmbd !== model.nEmbd) {
        throw new ControlVectorError("WIDTH_MISMATCH", `${what} has width ${cv.nEmbd} but model has n_embd ${model.nEmbd}`);
    }
    for (const [layer, dir] of cv.directions) {
        if (dir.length !== model.nEmbd) {
            throw new ControlVectorError(
                "WIDTH_MISMATCH",
                `${what} has direction.${layer} of width ${dir.length} but model has n_embd ${model.nEmbd}`
            );
        }
        if (!Number.isInteger(layer) || layer < 1 || layer >= model.nLayer) {
            const range = model.nLayer > 1 ? `layers 1 to ${model.nLayer - 1}` : "no layers";
            throw new ControlVectorError(
                "LAYER_OUT_OF_RANGE",
                `${what} has direction.${layer} but the model has ${model.nLayer} blocks, so it can be steered at ${range}` +
                    (layer === 0 ? " (block 0 cannot be steered)" : "")
            );
        }
    }
}

function describe(fileName: string | undefined): string {
    return fileName === undefined ? "control vector" : `vector "${fileName}"`;
}
