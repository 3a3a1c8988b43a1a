/**
 * A parsed GGUF file: header, typed metadata, tensor infos, and (when the bytes were read) access
 * to tensor data. Produced by `readGguf` / `readGgufFile` in `GgufReader.ts`.
 */
import { describeSource, GgufError } from "./GgufError.js";
import type { GgufValue } from "./GgufValue.js";
import { bfloat16BitsToFloat32, float16BitsToFloat32 } from "./Float16.js";
import { GgmlType } from "./GgmlType.js";

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One tensor's description from the header. */
export interface GgufTensorInfo {
    readonly name: string;
    /** Dimensions in ggml order: `dims[0]` (ne0) is the contiguous one, e.g. `[n_embd, n_vocab]`. */
    readonly dims: readonly number[];
    /** ggml type id (see `GgmlType.ts`). */
    readonly type: number;
    /** ggml type name, e.g. `F32`, `Q4_K`. */
    readonly typeName: string;
    /** Offset of the data from the start of the data section, as stored (a multiple of the alignment). */
    readonly offset: number;
    /** Product of the dimensions. */
    readonly nElements: number;
    /** Size of the data in bytes. */
    readonly byteLength: number;
}

/** What the reader hands to the constructor. */
export interface GgufFileParts {
    fileName: string | undefined;
    version: number;
    metadata: Map<string, GgufValue>;
    tensors: GgufTensorInfo[];
    alignment: number;
    dataOffset: number;
    fileSize: number;
    /** The whole file, or `undefined` when only the header was read. */
    bytes: Uint8Array | undefined;
}

export class GgufFile {
    /** Path or name used in messages, when known. */
    readonly fileName: string | undefined;
    /** GGUF version: 2 or 3. */
    readonly version: number;
    /** All metadata in file order, with their GGUF types. */
    readonly metadata: ReadonlyMap<string, GgufValue>;
    /** Tensor infos in file order. */
    readonly tensors: readonly GgufTensorInfo[];
    /** Data alignment: `general.alignment`, 32 by default. */
    readonly alignment: number;
    /** Absolute byte offset of the data section. */
    readonly dataOffset: number;
    /** Size of the whole file in bytes. */
    readonly fileSize: number;

    readonly #bytes: Uint8Array | undefined;
    readonly #tensorsByName: Map<string, GgufTensorInfo>;

    constructor(parts: GgufFileParts) {
        this.fileName = parts.fileName;
        this.version = parts.version;
        this.metadata = parts.metadata;
        this.tensors = parts.tensors;
        this.alignment = parts.alignment;
        this.dataOffset = parts.dataOffset;
        this.fileSize = parts.fileSize;
        this.#bytes = parts.bytes;
        this.#tensorsByName = new Map(parts.tensors.map((t) => [t.name, t]));
    }

    /** `general.architecture`, e.g. `llama` or `controlvector`. */
    get architecture(): string | undefined {
        return this.getString("general.architecture");
    }

    /** Whether tensor data can be read (false after `readGgufFile(path, {tensorData: false})`). */
    get hasTensorData(): boolean {
        return this.#bytes !== undefined;
    }

    /** The typed value of a key, or `undefined`. */
    get(key: string): GgufValue | undefined {
        return this.metadata.get(key);
    }

    /** A string value; `undefined` if absent; a `MALFORMED` error if the key has another type. */
    getString(key: string): string | undefined {
        const v = this.metadata.get(key);
        if (v === undefined) return undefined;
        if (v.type !== "string") {
            throw this.#error("MALFORMED", `metadata key "${key}" should be a string but is ${v.type}`);
        }
        return v.value;
    }

    /**
     * A numeric value of any integer or float type as a number; `undefined` if absent. A 64-bit
     * integer beyond ±2^53 and any non-numeric type give a `MALFORMED` error.
     */
    getNumber(key: string): number | undefined {
        const v = this.metadata.get(key);
        if (v === undefined) return undefined;
        if (typeof v.value === "number") return v.value;
        if (typeof v.value === "bigint") {
            const n = Number(v.value);
            if (!Number.isSafeInteger(n)) {
                throw this.#error("MALFORMED", `metadata key "${key}" has value ${v.value}, too large to use`);
            }
            return n;
        }
        throw this.#error("MALFORMED", `metadata key "${key}" should be a number but is ${v.type}`);
    }

    /** Like `getString` but a `NOT_FOUND` error when absent. */
    requireString(key: string): string {
        const v = this.getString(key);
        if (v === undefined) throw this.#error("NOT_FOUND", `metadata key "${key}" is missing`);
        return v;
    }

    /** Like `getNumber` but a `NOT_FOUND` error when absent. */
    requireNumber(key: string): number {
        const v = this.getNumber(key);
        if (v === undefined) throw this.#error("NOT_FOUND", `metadata key "${key}" is missing`);
        return v;
    }

    /** A tensor's info, or `undefined`. */
    tensor(name: string): GgufTensorInfo | undefined {
        return this.#tensorsByName.get(name);
    }

    /** A tensor's raw bytes, as a view into the file's buffer (not a copy: do not modify it). */
    tensorBytes(name: string): Uint8Array {
        const info = this.#requireTensor(name);
        if (this.#bytes === undefined) {
            throw this.#error("NOT_FOUND", `tensor data of "${name}" was not read (the file was opened for metadata only)`);
        }
        const start = this.dataOffset + info.offset;
        return this.#bytes.subarray(start, start + info.byteLength);
    }

    /**
     * A tensor's values as a new Float32Array (a copy, safe to keep and modify). F32 is copied
     * exactly; F16 and BF16 are widened exactly. Other types give an `UNSUPPORTED_TYPE` error.
     */
    tensorFloat32(name: string): Float32Array {
        const info = this.#requireTensor(name);
        const raw = this.tensorBytes(name);
        const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        const out = new Float32Array(info.nElements);
        switch (info.type) {
            case GgmlType.F32:
                if (HOST_IS_LITTLE_ENDIAN) {
                    // Copy the bytes: bit-exact, NaN payloads included.
                    new Uint8Array(out.buffer).set(raw);
                } else {
                    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
                }
                return out;
            case GgmlType.F16:
                for (let i = 0; i < out.length; i++) out[i] = float16BitsToFloat32(view.getUint16(i * 2, true));
                return out;
            case GgmlType.BF16:
                for (let i = 0; i < out.length; i++) out[i] = bfloat16BitsToFloat32(view.getUint16(i * 2, true));
                return out;
            default:
                throw this.#error(
                    "UNSUPPORTED_TYPE",
                    `tensor "${name}" has type ${info.typeName}; only F32, F16 and BF16 can be read as floats`
                );
        }
    }

    #requireTensor(name: string): GgufTensorInfo {
        const info = this.#tensorsByName.get(name);
        if (info === undefined) throw this.#error("NOT_FOUND", `tensor "${name}" is not in the file`);
        return info;
    }

    #error(code: "MALFORMED" | "NOT_FOUND" | "UNSUPPORTED_TYPE", what: string): GgufError {
        return new GgufError(code, `${describeSource(this.fileName)}: ${what}`);
    }
}
