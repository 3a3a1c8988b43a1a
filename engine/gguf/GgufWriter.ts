/**
 * GGUF v3 writer (little-endian), the inverse of `GgufReader.ts`.
 *
 * Metadata values are typed explicitly (`{type: "uint32", value: 4}`), because llama.cpp checks
 * the on-disk types. Tensors are given as float32 values plus dims (ne0 first) and written as F32
 * or F16 (round to nearest even), or as raw bytes of any ggml type. As llama.cpp's own writer does,
 * every tensor's data starts at a multiple of the alignment and is padded to one, the last
 * included: llama.cpp reads the padded size of the data section when it loads tensor data.
 */
import { writeFile } from "node:fs/promises";
import { GgufError } from "./GgufError.js";
import { encodeFloat16 } from "./Float16.js";
import { GgmlType, ggmlTypeInfo } from "./GgmlType.js";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAX_DIMS, GGUF_MAX_TENSOR_NAME_BYTES } from "./GgufReader.js";
import { GGUF_TYPE_CODES } from "./GgufValue.js";
import type { GgufArray, GgufValue } from "./GgufValue.js";

/** A metadata value: typed, or a bare string / boolean (written as `string` / `bool`). */
export type GgufValueInput = GgufValue | string | boolean;

/** A tensor to write. */
export type GgufTensorInput =
    | {
          name: string;
          /** ggml order: ne0 (contiguous) first, e.g. `[n_embd, n_vocab]` for an embedding matrix. */
          dims: readonly number[];
          /** `f32` copies the values exactly; `f16` rounds them to nearest even. */
          type: "f32" | "f16";
          /** Values in ggml order, `product(dims)` of them. */
          data: Float32Array;
      }
    | {
          name: string;
          dims: readonly number[];
          /** Raw data of any ggml type id (e.g. copied from a file read with `readGguf`). */
          type: "raw";
          ggmlType: number;
          bytes: Uint8Array;
      };

export interface GgufWriteSpec {
    /** Metadata in the order to write. A `general.alignment` entry must be uint32. */
    metadata?: Iterable<readonly [string, GgufValueInput]> | Record<string, GgufValueInput>;
    /** Tensors in the order to write. */
    tensors?: readonly GgufTensorInput[];
    /**
     * Data alignment, a power of 2. Default: `general.alignment` from the metadata if present,
     * otherwise 32. A value other than 32 is added as `general.alignment` when not in the metadata.
     */
    alignment?: number;
}

/** Encode a GGUF v3 file. Throws `GgufError` with code `INVALID_ARGUMENT` for bad input. */
export function writeGguf(spec: GgufWriteSpec): Uint8Array {
    // --- Normalise metadata --------------------------------------------------------------
    const entries: Array<[string, GgufValue]> = [];
    const keys = new Set<string>();
    const source = spec.metadata ?? [];
    const iterable: Iterable<readonly [string, GgufValueInput]> =
        Symbol.iterator in source
            ? (source as Iterable<readonly [string, GgufValueInput]>)
            : Object.entries(source as Record<string, GgufValueInput>);
    for (const [key, input] of iterable) {
        if (key.length === 0) throw invalid("metadata keys must not be empty");
        if (keys.has(key)) throw invalid(`metadata key "${key}" is given twice`);
        keys.add(key);
        const value: GgufValue =
            typeof input === "string"
                ? { type: "string", value: input }
                : typeof input === "boolean"
                  ? { type: "bool", value: input }
                  : input;
        entries.push([key, value]);
    }

    // --- Alignment -----------------------------------------------------------------------
    let alignment = spec.alignment;
    const alignEntry = entries.find(([k]) => k === "general.alignment")?.[1];
    if (alignEntry !== undefined) {
        if (alignEntry.type !== "uint32") throw invalid(`"general.alignment" must be uint32, not ${alignEntry.type}`);
        if (alignment !== undefined && alignment !== alignEntry.value) {
            throw invalid(`alignment ${alignment} differs from "general.alignment" ${alignEntry.value}`);
        }
        alignment = alignEntry.value;
    }
    alignment ??= GGUF_DEFAULT_ALIGNMENT;
    if (!Number.isInteger(alignment) || alignment <= 0 || alignment > 0xffffffff || (alignment & (alignment - 1)) !== 0) {
        throw invalid(`alignment ${alignment} is not a power of 2`);
    }
    if (alignEntry === undefined && alignment !== GGUF_DEFAULT_ALIGNMENT) {
        entries.push(["general.alignment", { type: "uint32", value: alignment }]);
    }

    // --- Prepare tensor data ---------------------------------------------------------------
    const tensors = (spec.tensors ?? []).map((t) => prepareTensor(t));
    const names = new Set<string>();
    for (const t of tensors) {
        if (names.has(t.name)) throw invalid(`tensor "${t.name}" is given twice`);
        names.add(t.name);
    }

    // --- Header, metadata, tensor infos --------------------------------------------------
    const w = new ByteWriter();
    w.bytes(new Uint8Array([0x47, 0x47, 0x55, 0x46])); // "GGUF"
    w.u32(3);
    w.u64(BigInt(tensors.length));
    w.u64(BigInt(entries.length));
    for (const [key, value] of entries) {
        w.string(key);
        w.u32(GGUF_TYPE_CODES[value.type]);
        writeValue(w, value, key);
    }
    let offset = 0;
    for (const t of tensors) {
        w.string(t.name);
        w.u32(t.dims.length);
        for (const d of t.dims) w.u64(BigInt(d));
        w.u32(t.ggmlType);
        w.u64(BigInt(offset));
        offset += padTo(t.bytes.length, alignment);
    }

    // --- Data section: each tensor starts at, and is padded to, a multiple of the alignment --
    // The header is built in its own buffer; the file is then allocated once at its exact size,
    // so a large model is not copied around while growing.
    if (tensors.length > 0) w.pad(alignment);
    const header = w.result();
    const out = new Uint8Array(header.length + offset); // zero-filled: the padding
    out.set(header, 0);
    let at = header.length;
    for (const t of tensors) {
        out.set(t.bytes, at);
        at += padTo(t.bytes.length, alignment);
    }
    return out;
}

/** Encode a GGUF v3 file and write it to `path`. Throws `GgufError` (code `IO` on a write failure). */
export async function writeGgufFile(path: string, spec: GgufWriteSpec): Promise<void> {
    const bytes = writeGguf(spec);
    try {
        await writeFile(path, bytes);
    } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new GgufError("IO", `cannot write "${path}": ${reason}`, { cause });
    }
}

// ---------------------------------------------------------------------------------------------

function invalid(message: string): GgufError {
    return new GgufError("INVALID_ARGUMENT", `cannot write GGUF: ${message}`);
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function padTo(n: number, alignment: number): number {
    return Math.ceil(n / alignment) * alignment;
}

interface PreparedTensor {
    name: string;
    dims: readonly number[];
    ggmlType: number;
    bytes: Uint8Array;
}

function prepareTensor(t: GgufTensorInput): PreparedTensor {
    const nameBytes = new TextEncoder().encode(t.name).length;
    if (nameBytes === 0 || nameBytes > GGUF_MAX_TENSOR_NAME_BYTES) {
        throw invalid(`tensor name "${t.name}" must be 1 to ${GGUF_MAX_TENSOR_NAME_BYTES} bytes long`);
    }
    if (t.dims.length === 0 || t.dims.length > GGUF_MAX_DIMS) {
        throw invalid(`tensor "${t.name}" must have 1 to ${GGUF_MAX_DIMS} dimensions, not ${t.dims.length}`);
    }
    let nElements = 1;
    for (const d of t.dims) {
        if (!Number.isSafeInteger(d) || d < 1) throw invalid(`tensor "${t.name}" has a bad dimension ${d}`);
        nElements *= d;
    }
    if (!Number.isSafeInteger(nElements)) throw invalid(`tensor "${t.name}" is too large`);

    if (t.type === "raw") {
        const info = ggmlTypeInfo(t.ggmlType);
        if (info === undefined) throw invalid(`tensor "${t.name}" has unknown ggml type ${t.ggmlType}`);
        if (t.dims[0]! % info.blockSize !== 0) {
            throw invalid(`tensor "${t.name}": rows of ${t.dims[0]} are not a multiple of the ${info.name} block size ${info.blockSize}`);
        }
        const expected = (nElements / info.blockSize) * info.typeSize;
        if (t.bytes.length !== expected) {
            throw invalid(`tensor "${t.name}" has ${t.bytes.length} bytes of data, expected ${expected}`);
        }
        return { name: t.name, dims: t.dims, ggmlType: t.ggmlType, bytes: t.bytes };
    }

    if (t.data.length !== nElements) {
        throw invalid(`tensor "${t.name}" has ${t.data.length} values but dims [${t.dims.join(", ")}] need ${nElements}`);
    }
    if (t.type === "f16") {
        return { name: t.name, dims: t.dims, ggmlType: GgmlType.F16, bytes: encodeFloat16(t.data) };
    }
    // F32: copy the bytes as they are (bit-exact, NaN payloads included), little-endian.
    let bytes: Uint8Array;
    if (HOST_IS_LITTLE_ENDIAN) {
        bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice();
    } else {
        bytes = new Uint8Array(nElements * 4);
        const view = new DataView(bytes.buffer);
        for (let i = 0; i < nElements; i++) view.setFloat32(i * 4, t.data[i]!, true);
    }
    return { name: t.name, dims: t.dims, ggmlType: GgmlType.F32, bytes };
}

const INT_RANGES = {
    uint8: [0, 0xff],
    int8: [-0x80, 0x7f],
    uint16: [0, 0xffff],
    int16: [-0x8000, 0x7fff],
    uint32: [0, 0xffffffff],
    int32: [-0x80000000, 0x7fffffff]
} as const;

function checkNumber(type: string, value: unknown, key: string): number {
    if (typeof value !== "number") throw invalid(`"${key}": a ${type} value must be a number, not ${typeof value}`);
    if (type in INT_RANGES) {
        const [lo, hi] = INT_RANGES[type as keyof typeof INT_RANGES];
        if (!Number.isInteger(value) || value < lo || value > hi) {
            throw invalid(`"${key}": ${value} is not a valid ${type}`);
        }
    }
    return value;
}

function checkBigInt(type: "uint64" | "int64", value: unknown, key: string): bigint {
    if (typeof value !== "bigint") throw invalid(`"${key}": a ${type} value must be a bigint, not ${typeof value}`);
    const ok = type === "uint64" ? value >= 0n && value < 1n << 64n : value >= -(1n << 63n) && value < 1n << 63n;
    if (!ok) throw invalid(`"${key}": ${value} is not a valid ${type}`);
    return value;
}

/** Write one value's payload (the type code is written by the caller). */
function writeValue(w: ByteWriter, v: GgufValue, key: string): void {
    switch (v.type) {
        case "array":
            writeArray(w, v, key);
            return;
        case "string":
            if (typeof v.value !== "string") throw invalid(`"${key}": a string value must be a string`);
            w.string(v.value);
            return;
        case "bool":
            if (typeof v.value !== "boolean") throw invalid(`"${key}": a bool value must be a boolean`);
            w.u8(v.value ? 1 : 0);
            return;
        case "uint64":
        case "int64":
            writeBigInt(w, v.type, checkBigInt(v.type, v.value, key));
            return;
        default:
            writeNumber(w, v.type, checkNumber(v.type, v.value, key));
    }
}

function writeNumber(w: ByteWriter, type: string, n: number): void {
    switch (type) {
        case "uint8":
            return w.u8(n);
        case "int8":
            return w.u8(n & 0xff);
        case "uint16":
        case "int16":
            return w.u16(n & 0xffff);
        case "uint32":
            return w.u32(n);
        case "int32":
            return w.u32(n >>> 0);
        case "float32":
            return w.f32(n);
        case "float64":
            return w.f64(n);
    }
}

function writeBigInt(w: ByteWriter, type: "uint64" | "int64", n: bigint): void {
    w.u64(type === "uint64" ? n : BigInt.asUintN(64, n));
}

function writeArray(w: ByteWriter, a: GgufArray, key: string): void {
    if (!Array.isArray(a.value)) throw invalid(`"${key}": an array value must be an array`);
    w.u32(GGUF_TYPE_CODES[a.itemType]);
    w.u64(BigInt(a.value.length));
    switch (a.itemType) {
        case "array":
            for (const inner of a.value) writeArray(w, inner, key);
            return;
        case "string":
            for (const s of a.value) {
                if (typeof s !== "string") throw invalid(`"${key}": string array items must be strings`);
                w.string(s);
            }
            return;
        case "bool":
            for (const b of a.value) {
                if (typeof b !== "boolean") throw invalid(`"${key}": bool array items must be booleans`);
                w.u8(b ? 1 : 0);
            }
            return;
        case "uint64":
        case "int64":
            for (const n of a.value) writeBigInt(w, a.itemType, checkBigInt(a.itemType, n, key));
            return;
        default:
            for (const n of a.value) writeNumber(w, a.itemType, checkNumber(a.itemType, n, key));
    }
}

/** A growable little-endian byte buffer. */
class ByteWriter {
    #buf = new Uint8Array(4096);
    #view = new DataView(this.#buf.buffer);
    #len = 0;
    readonly #encoder = new TextEncoder();

    #ensure(n: number): void {
        if (this.#len + n <= this.#buf.length) return;
        let size = this.#buf.length * 2;
        while (size < this.#len + n) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.#buf.subarray(0, this.#len));
        this.#buf = next;
        this.#view = new DataView(next.buffer);
    }

    u8(n: number): void {
        this.#ensure(1);
        this.#view.setUint8(this.#len, n);
        this.#len += 1;
    }
    u16(n: number): void {
        this.#ensure(2);
        this.#view.setUint16(this.#len, n, true);
        this.#len += 2;
    }
    u32(n: number): void {
        this.#ensure(4);
        this.#view.setUint32(this.#len, n, true);
        this.#len += 4;
    }
    u64(n: bigint): void {
        this.#ensure(8);
        this.#view.setBigUint64(this.#len, n, true);
        this.#len += 8;
    }
    f32(n: number): void {
        this.#ensure(4);
        this.#view.setFloat32(this.#len, n, true);
        this.#len += 4;
    }
    f64(n: number): void {
        this.#ensure(8);
        this.#view.setFloat64(this.#len, n, true);
        this.#len += 8;
    }
    bytes(b: Uint8Array): void {
        this.#ensure(b.length);
        this.#buf.set(b, this.#len);
        this.#len += b.length;
    }
    string(s: string): void {
        const b = this.#encoder.encode(s);
        this.u64(BigInt(b.length));
        this.bytes(b);
    }
    /** Zero bytes up to the next multiple of `alignment`. */
    pad(alignment: number): void {
        const n = padTo(this.#len, alignment) - this.#len;
        this.#ensure(n);
        this.#buf.fill(0, this.#len, this.#len + n);
        this.#len += n;
    }
    result(): Uint8Array {
        return this.#buf.slice(0, this.#len);
    }
}
