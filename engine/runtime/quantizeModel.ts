// Quantizing a model file (`tiller quantize`) through libllama's own llama_model_quantize, so the
// result is byte for byte what llama.cpp's `llama-quantize` would write. This module owns the
// policy: the type names, the checks that give bad input a precise error before llama.cpp sees it,
// and writing through a temporary file so a failure never leaves a half-written or clobbered OUT.
import fs from "node:fs/promises";
import path from "node:path";
import { GgmlType } from "../gguf/GgmlType.js";
import type { GgufFile } from "../gguf/GgufFile.js";
import { readGgufFile } from "../gguf/GgufReader.js";
import { TillerError } from "../protocol/TillerError.js";
import type { NativeQuantizeProgress } from "../native/AddonTypes.js";
import { checkModelFile } from "./checkModelFile.js";
import { ggufErrorToTillerError } from "./ggufErrors.js";
import { getTillerBackend } from "./TillerBackend.js";

/**
 * The quantization types offered, by llama-quantize's names (lower case), with llama.cpp's
 * `enum llama_ftype` value. Types that need an importance matrix (IQ1/IQ2, Q2_K_S) are left out:
 * llama.cpp refuses them without one.
 */
export const quantizationTypes = {
    f16: 1,
    bf16: 32,
    q8_0: 7,
    q6_k: 18,
    q5_k_m: 17,
    q5_k_s: 16,
    q5_1: 9,
    q5_0: 8,
    q4_k_m: 15,
    q4_k_s: 14,
    q4_1: 3,
    q4_0: 2,
    iq4_nl: 25,
    iq4_xs: 30,
    q3_k_l: 13,
    q3_k_m: 12,
    q3_k_s: 11,
    q2_k: 10
} as const;

export type QuantizationType = keyof typeof quantizationTypes;

/** `q4_k_m`, `Q4_K_M` and `q4-k-m` all name the same type. */
export function parseQuantizationType(name: string): QuantizationType {
    const key = name.trim().toLowerCase().replace(/-/g, "_");
    if (!Object.hasOwn(quantizationTypes, key))
        throw new TillerError("INVALID_ARGUMENT",
            `unknown quantization type "${name}"; choose one of ${Object.keys(quantizationTypes).join(", ")}`);
    return key as QuantizationType;
}

export interface QuantizeOptions {
    type: QuantizationType;
    /** quantization threads; default: the backend's default (the cores this process may use) */
    threads?: number;
    /** called once per tensor as llama.cpp writes it */
    onProgress?: (progress: NativeQuantizeProgress) => void;
}

export interface QuantizeResult {
    input: string;
    output: string;
    type: QuantizationType;
    inputBytes: number;
    outputBytes: number;
    tensorCount: number;
    /** tensors per ggml type in the written file, e.g. { Q4_K: 12, Q6_K: 2, F32: 9 } (K-quants fall back where a row is not a multiple of 256) */
    tensorTypes: Record<string, number>;
    seconds: number;
}

const sourceTypes = new Set<number>([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);

/**
 * Quantizes `input` to `output`. Throws TillerError: FILE_NOT_FOUND / NOT_GGUF / TRUNCATED_FILE /
 * UNSUPPORTED_GGUF for a bad input, INVALID_ARGUMENT for a control vector, an already quantized
 * input, OUT = IN or a missing output folder, MODEL_LOAD_FAILED with llama.cpp's reason when it
 * refuses the file. OUT is replaced only when the new file is complete.
 */
export async function quantizeModel(input: string, output: string, options: QuantizeOptions): Promise<QuantizeResult> {
    const inputPath = path.resolve(input);
    const outputPath = path.resolve(output);
    const ftype = quantizationTypes[options.type];
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1))
        throw new TillerError("INVALID_ARGUMENT", `threads must be a whole number ≥ 1; got ${options.threads}`);

    await checkModelFile(inputPath);
    const header = await readHeader(inputPath);
    checkQuantizable(header, inputPath);
    await checkOutputPath(inputPath, outputPath);

    const backend = await getTillerBackend();
    const temporary = path.join(path.dirname(outputPath), `.${path.basename(outputPath)}.${process.pid}.partial`);
    let seconds: number;
    // llama_model_quantize cannot be stopped part way, so a throwing progress callback is caught
    // here (an exception thrown into the addon's thread-safe call would escape as uncaught): the
    // quantization runs to its end, later reports are dropped, and the caller gets that error.
    let progressFailure: { error: unknown } | undefined;
    const reportProgress = (progress: NativeQuantizeProgress): void => {
        if (progressFailure !== undefined)
            return;
        try {
            options.onProgress?.(progress);
        } catch (error) {
            progressFailure = { error };
        }
    };
    try {
        ({ seconds } = await backend.addon.quantizeModel(inputPath, temporary,
            { ftype, threads: options.threads ?? backend.defaultThreads }, reportProgress));
        if (progressFailure !== undefined)
            throw progressFailure.error;
        await fs.rename(temporary, outputPath);
    } catch (error) {
        await fs.rm(temporary, { force: true });
        if (error instanceof TillerError || (progressFailure !== undefined && error === progressFailure.error))
            throw error;
        const message = (error as Error).message;
        if (message.startsWith("another quantization"))
            throw new TillerError("BUSY", `${message}; wait for it to finish`, { cause: error });
        throw new TillerError("MODEL_LOAD_FAILED", message, { cause: error });
    }

    const written = await readHeader(outputPath);
    const tensorTypes: Record<string, number> = {};
    for (const tensor of written.tensors)
        tensorTypes[tensor.typeName] = (tensorTypes[tensor.typeName] ?? 0) + 1;
    return {
        input: inputPath,
        output: outputPath,
        type: options.type,
        inputBytes: header.fileSize,
        outputBytes: written.fileSize,
        tensorCount: written.tensors.length,
        tensorTypes,
        seconds
    };
}

async function readHeader(file: string): Promise<GgufFile> {
    try {
        return await readGgufFile(file, { tensorData: false });
    } catch (error) {
        throw ggufErrorToTillerError(error, file, "model");
    }
}

/** Only a model whose weights are still F32/F16/BF16 can be quantized without compounding error. */
function checkQuantizable(header: GgufFile, file: string): void {
    if (header.architecture === "controlvector")
        throw new TillerError("INVALID_ARGUMENT", `"${file}" is a control vector, not a model; only models can be quantized`);
    const quantized = header.tensors.filter((tensor) => !sourceTypes.has(tensor.type));
    if (quantized.length > 0) {
        const names = [...new Set(quantized.map((tensor) => tensor.typeName))].join(", ");
        throw new TillerError("INVALID_ARGUMENT",
            `"${file}" is already quantized (${quantized.length} tensors in ${names}); quantize from the F32, F16 or BF16 original, ` +
            "since quantizing again compounds the error");
    }
}

async function checkOutputPath(inputPath: string, outputPath: string): Promise<void> {
    if (outputPath === inputPath)
        throw new TillerError("INVALID_ARGUMENT", `the output "${outputPath}" is the input file; choose another name so the original stays`);
    const folder = path.dirname(outputPath);
    const stat = await fs.stat(folder).catch(() => undefined);
    if (stat === undefined || !stat.isDirectory())
        throw new TillerError("INVALID_ARGUMENT", `cannot write "${outputPath}": the folder "${folder}" does not exist`);
    const existing = await fs.stat(outputPath).catch(() => undefined);
    if (existing?.isDirectory() === true)
        throw new TillerError("INVALID_ARGUMENT", `cannot write "${outputPath}": it is a folder`);
    try {
        const [inStat, outStat] = await Promise.all([fs.stat(inputPath), fs.stat(outputPath)]);
        if (inStat.ino === outStat.ino && inStat.dev === outStat.dev)
            throw new TillerError("INVALID_ARGUMENT", `the output "${outputPath}" is the input file (a link to it); choose another name`);
    } catch (error) {
        if (error instanceof TillerError)
            throw error;
        // the output does not exist yet: fine
    }
}
