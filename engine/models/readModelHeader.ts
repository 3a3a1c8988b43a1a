// What a model file's header says, read without its weights: architecture, shape, quantization,
// parameter count. Split models (`name-00001-of-00003.gguf`) are read part by part and summed.
import { stat } from "node:fs/promises";
import { GgufFileType } from "node-llama-cpp";
import type { GgufFile } from "../gguf/GgufFile.js";
import { GgufError } from "../gguf/GgufError.js";
import { readGgufFile } from "../gguf/GgufReader.js";
import { ggufArrayLength, type GgufValue } from "../gguf/GgufValue.js";

/** A model's header, as `tiller models list` shows it. */
export interface ModelHeader {
    /** `general.architecture`, e.g. "llama", "qwen2" */
    architecture: string;
    /** `general.name`, when present */
    modelName: string | null;
    /** blocks (`<arch>.block_count`) */
    layers: number | null;
    /** residual width (`<arch>.embedding_length`) */
    width: number | null;
    /** attention heads (the first layer's, where they vary per layer) */
    heads: number | null;
    /** key/value heads (grouped-query attention); equals `heads` when absent */
    headsKv: number | null;
    vocab: number | null;
    /** training context length (`<arch>.context_length`) */
    contextLength: number | null;
    /** `general.file_type` as a name, e.g. "Q4_K_M", "F16"; else the dominant weight type; null when unknown */
    quantization: string | null;
    /** total parameters: the elements of every tensor (all parts) */
    parameters: number;
    /** `general.size_label` (e.g. "0.5B"), when present */
    sizeLabel: string | null;
    /** bytes of tensor data (all parts): what loading the weights costs */
    tensorBytes: number;
    hasChatTemplate: boolean;
}

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
 * one) and summarizes the model. Throws with a readable message when a header cannot be read or a
 * part is shorter than its tensors need (a truncated download or copy).
 */
export async function readModelHeader(parts: readonly string[]): Promise<ModelHeader> {
    if (parts.length === 0)
        throw new GgufError("INVALID_ARGUMENT", "no model file given");
    let first: GgufFile | undefined;
    let parameters = 0;
    let tensorBytes = 0;
    const typeBytes = new Map<string, number>();
    for (const part of parts) {
        const header = await readGgufFile(part, { tensorData: false });
        checkExtent(part, header);
        first ??= header;
        for (const tensor of header.tensors) {
            parameters += tensor.nElements;
            tensorBytes += tensor.byteLength;
            if (tensor.dims.length >= 2)
                typeBytes.set(tensor.typeName, (typeBytes.get(tensor.typeName) ?? 0) + tensor.byteLength);
        }
    }
    const header = first!;
    const architecture = header.architecture ?? "unknown";
    const key = (name: string) => header.get(`${architecture}.${name}`);
    const heads = firstNumber(key("attention.head_count"));
    const tokens = header.get("tokenizer.ggml.tokens");
    return {
        architecture,
        modelName: stringValue(header.get("general.name")),
        layers: firstNumber(key("block_count")),
        width: firstNumber(key("embedding_length")),
        heads,
        headsKv: firstNumber(key("attention.head_count_kv")) ?? heads,
        vocab: firstNumber(key("vocab_size"))
            ?? (tokens?.type === "array" ? ggufArrayLength(tokens) : null)
            ?? header.tensor("token_embd.weight")?.dims[1] ?? null,
        contextLength: firstNumber(key("context_length")),
        quantization: quantizationName(firstNumber(header.get("general.file_type")), typeBytes),
        parameters,
        sizeLabel: stringValue(header.get("general.size_label")),
        tensorBytes,
        hasChatTemplate: header.get("tokenizer.chat_template") != null
    };
}

/** A file that ends before its last tensor does is a truncated download or copy. */
function checkExtent(file: string, header: GgufFile): void {
    let end = header.dataOffset;
    for (const tensor of header.tensors)
        end = Math.max(end, header.dataOffset + tensor.offset + tensor.byteLength);
    if (header.tensors.length > 0 && end > header.fileSize)
        throw new GgufError("TRUNCATED", `"${file}" is truncated: its tensors need ${end} bytes but the file has ${header.fileSize}`);
}

/** `general.file_type` 15 → "Q4_K_M" (node-llama-cpp's GgufFileType without MOSTLY_/ALL_). */
export function quantizationName(fileType: number | null, typeBytes: ReadonlyMap<string, number> = new Map()): string | null {
    if (fileType != null) {
        const name = (GgufFileType as Record<number, string | undefined>)[fileType];
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

function firstNumber(value: GgufValue | undefined): number | null {
    if (value == null)
        return null;
    if (typeof value.value === "number")
        return value.value;
    if (typeof value.value === "bigint")
        return Number(value.value);
    if (value.type === "array") {
        const item = (value.value as readonly unknown[]).find((entry): entry is number | bigint => typeof entry === "number" || typeof entry === "bigint");
        return item == null ? null : Number(item);
    }
    return null;
}

function stringValue(value: GgufValue | undefined): string | null {
    return value?.type === "string" ? value.value : null;
}
