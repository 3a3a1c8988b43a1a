// What a model file's header says, read without its weights: architecture, shape, quantization,
// parameter count, as the protocol's ModelHeaderInfo. Split models (`name-00001-of-00003.gguf`) are
// read part by part and summed.
import { stat } from "node:fs/promises";
import type { GgufFile } from "../gguf/GgufFile.js";
import type { ModelHeaderInfo } from "../protocol/models.js";
import { GgufError } from "../gguf/GgufError.js";
import { LLAMA_FILE_TYPE_NAMES } from "../gguf/llamaFileTypes.js";
import { readGgufFile } from "../gguf/GgufReader.js";
import { ggufArrayLength, type GgufValue } from "../gguf/GgufValue.js";

/** The one summary of a model file (the protocol's shape; `tiller info`, the scan and the fit estimate read it). */
export type ModelHeader = ModelHeaderInfo;

/** The parts of a split model, found from any one part's name. */
export interface SplitName {
    /** the name without `-0000k-of-0000n.gguf` */
    base: string;
    part: number;
    count: number;
}

const splitPattern = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/i;

/** `model-00002-of-00003.gguf` → {base "model", part 2, count 3}; undefined for an unsplit name */
export function parseSplitName(fileName: string): SplitName | undefined {
    const match = splitPattern.exec(fileName);
    if (match == null)
        return undefined;
    const part = Number(match[2]);
    const count = Number(match[3]);
    if (part < 1 || count < 1 || part > count)
        return undefined;
    return { base: match[1]!, part, count };
}

/** The file name of part `part` (1-based) of a split model, as llama.cpp's gguf-split writes it. */
export function splitPartName(base: string, part: number, count: number): string {
    return `${base}-${String(part).padStart(5, "0")}-of-${String(count).padStart(5, "0")}.gguf`;
}

/**
 * Reads the headers of `parts` (one path for an unsplit model; every part, in order, for a split
 * one) with the GGUF reader (engine/gguf/GgufReader.ts) and summarizes the model. Throws a
 * `GgufError` with a readable message when a header cannot be read or a part is shorter than its
 * tensors need (a truncated download or copy).
 */
export async function readModelHeader(parts: readonly string[]): Promise<ModelHeader> {
    if (parts.length === 0)
        throw new GgufError("INVALID_ARGUMENT", "no model file given");
    const headers: GgufFile[] = [];
    for (const part of parts)
        headers.push(await readGgufFile(part, { tensorData: false }));
    return summarizeModelHeader(headers);
}

/** The summary of a model from its parts' headers (the first part holds the metadata). */
export function summarizeModelHeader(parts: readonly GgufFile[]): ModelHeader {
    const header = parts[0];
    if (header == null)
        throw new GgufError("INVALID_ARGUMENT", "no model file given");
    let parameters = 0;
    let tensorBytes = 0;
    let fileSizeBytes = 0;
    const tensorTypes: Record<string, number> = {};
    const weightBytes = new Map<string, number>();
    for (const part of parts) {
        fileSizeBytes += part.fileSize;
        for (const tensor of part.tensors) {
            parameters += tensor.nElements;
            tensorBytes += tensor.byteLength;
            tensorTypes[tensor.typeName] = (tensorTypes[tensor.typeName] ?? 0) + 1;
            if (tensor.dims.length >= 2)
                weightBytes.set(tensor.typeName, (weightBytes.get(tensor.typeName) ?? 0) + tensor.byteLength);
        }
    }
    const architecture = header.architecture ?? "unknown";
    const key = (name: string) => header.get(`${architecture}.${name}`);
    const heads = numbers(key("attention.head_count"));
    const tokens = header.get("tokenizer.ggml.tokens");
    const fileType = scalar(header.get("general.file_type"));
    return {
        architecture,
        name: stringValue(header.get("general.name")),
        ggufVersion: header.version,
        fileSizeBytes,
        layers: scalar(key("block_count")),
        embeddingLength: scalar(key("embedding_length")),
        heads,
        headsKv: numbers(key("attention.head_count_kv")) ?? heads,
        feedForwardLength: numbers(key("feed_forward_length")),
        vocabSize: scalar(key("vocab_size"))
            ?? (tokens?.type === "array" ? ggufArrayLength(tokens) : null)
            ?? header.tensor("token_embd.weight")?.dims[1] ?? null,
        contextLength: scalar(key("context_length")),
        fileType: fileTypeName(fileType, tensorTypes),
        quantization: quantizationName(fileType, weightBytes),
        tensorCount: parts.reduce((sum, part) => sum + part.tensors.length, 0),
        tensorTypes,
        parameters,
        tensorBytes,
        sizeLabel: stringValue(header.get("general.size_label")),
        tokenizer: stringValue(header.get("tokenizer.ggml.model")),
        hasChatTemplate: header.get("tokenizer.chat_template") != null
    };
}

/** The first of a per-layer value (heads vary per layer in some architectures), or the value itself. */
export function firstOf(value: number | number[] | null): number | null {
    return Array.isArray(value) ? value[0] ?? null : value;
}

/** `general.file_type` as llama.cpp (and node-llama-cpp's GgufFileType) names it; what the tensors say when it is absent. */
function fileTypeName(fileType: number | null, tensorTypes: Record<string, number>): string {
    if (fileType != null)
        return LLAMA_FILE_TYPE_NAMES[fileType] ?? `file type ${fileType}`;
    const types = Object.keys(tensorTypes);
    return types.length === 1 ? `ALL_${types[0]!} (no general.file_type)` : "unknown (no general.file_type)";
}

/** `general.file_type` 15 → "Q4_K_M" (llama.cpp's name without MOSTLY_/ALL_). */
export function quantizationName(fileType: number | null, typeBytes: ReadonlyMap<string, number> = new Map()): string | null {
    if (fileType != null) {
        const name = LLAMA_FILE_TYPE_NAMES[fileType];
        return name != null ? name.replace(/^(MOSTLY|ALL)_/, "") : `file type ${fileType}`;
    }
    let dominant: string | null = null;
    let most = -1;
    for (const [type, bytes] of typeBytes) {
        if (bytes > most) {
            most = bytes;
            dominant = type;
        }
    }
    return dominant;
}

/** A file's size in bytes, or undefined when it cannot be stat'ed. */
export async function fileSize(file: string): Promise<number | undefined> {
    try {
        return (await stat(file)).size;
    } catch {
        return undefined;
    }
}

function scalar(value: GgufValue | undefined): number | null {
    if (value == null)
        return null;
    if (typeof value.value === "number")
        return value.value;
    if (typeof value.value === "bigint")
        return Number(value.value);
    return null;
}

/** A number, or a per-layer array of numbers (one number when every layer has the same). */
function numbers(value: GgufValue | undefined): number | number[] | null {
    if (value?.type === "array") {
        const items = value.value.filter((item): item is number | bigint => typeof item === "number" || typeof item === "bigint").map(Number);
        return items.length > 0 && items.every((item) => item === items[0]) ? items[0]! : items;
    }
    return scalar(value);
}

function stringValue(value: GgufValue | undefined): string | null {
    return value?.type === "string" ? value.value : null;
}
