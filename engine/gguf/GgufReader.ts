/**
 * GGUF reader (versions 2 and 3, little-endian).
 *
 * Layout, as llama.cpp's `gguf.cpp` reads it:
 *
 *     magic "GGUF" | version u32 | n_tensors u64 | n_kv u64
 *     n_kv × (key: string, type: u32, value)           string = u64 length + UTF-8 bytes
 *                                                       array  = item type u32 + count u64 + items
 *     n_tensors × (name: string, n_dims u32, dims u64[n_dims] (ne0 first), ggml type u32,
 *                  offset u64 relative to the data section, a multiple of the alignment)
 *     padding to `general.alignment` (uint32, default 32)
 *     data section
 *
 * Every length and count is checked against the bytes that remain before anything is allocated,
 * so a corrupt file fails with a `GgufError` instead of asking for gigabytes.
 */
// through the module object, so a test can hand the reader a file that lies about its size
import fsp, { type FileHandle } from "node:fs/promises";
import { describeSource, GgufError } from "./GgufError.js";
import { GgufFile } from "./GgufFile.js";
import type { GgufTensorInfo } from "./GgufFile.js";
import { ggmlTypeInfo } from "./GgmlType.js";
import { ggufScalarSize, ggufTypeFromCode, lazyGgufArray } from "./GgufValue.js";
import type { GgufArray, GgufValue, GgufValueType } from "./GgufValue.js";

/** Default data alignment when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Longest tensor name llama.cpp accepts, in bytes (`GGML_MAX_NAME` - 1). */
export const GGUF_MAX_TENSOR_NAME_BYTES = 63;

/** Most dimensions a tensor may have (`GGML_MAX_DIMS`). */
export const GGUF_MAX_DIMS = 4;

const MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"
const utf8 = new TextEncoder();

export interface ReadGgufOptions {
    /** File name or path used in error messages. Default: none (messages say "GGUF data"). */
    fileName?: string;
}

/**
 * Parse a whole GGUF file held in memory. The returned file keeps a reference to `bytes` (no
 * copy) for tensor data access. Throws `GgufError`.
 */
export function readGguf(bytes: Uint8Array, options: ReadGgufOptions = {}): GgufFile {
    const result = parse(bytes, bytes.length, options.fileName, true);
    if (result instanceof NeedMoreBytes) {
        // Cannot happen: with the whole file present, reads past the end are truncation errors.
        throw new GgufError("MALFORMED", `${describeSource(options.fileName)}: internal reader error`);
    }
    return result;
}

export interface ReadGgufFileOptions {
    /**
     * Read the tensor data too (the whole file into memory). Default `true`. With `false` only the
     * header, metadata and tensor infos are read, which is what you want for a multi-GB model;
     * tensor data accessors then throw `NOT_FOUND`.
     */
    tensorData?: boolean;
}

/** Read and parse a GGUF file from disk. Throws `GgufError` (code `IO` when the file cannot be read). */
export async function readGgufFile(path: string, options: ReadGgufFileOptions = {}): Promise<GgufFile> {
    if (options.tensorData ?? true) {
        let bytes: Uint8Array;
        try {
            bytes = await fsp.readFile(path);
        } catch (cause) {
            throw ioError(path, cause);
        }
        return readGguf(bytes, { fileName: path });
    }
    return readHeaderOnly(path);
}

// ---------------------------------------------------------------------------------------------
// Header-only reading: read a prefix, grow it while the parser asks for more.

async function readHeaderOnly(path: string): Promise<GgufFile> {
    let handle;
    try {
        handle = await fsp.open(path, "r");
    } catch (cause) {
        throw ioError(path, cause);
    }
    try {
        let fileSize = (await handle.stat()).size;
        let want = Math.min(fileSize, 1 << 20);
        for (;;) {
            const prefix = new Uint8Array(want);
            const bytesRead = await readFully(handle, prefix);
            // Fewer bytes than the size claimed (a file cut while we read it, a special file):
            // what was read is all there is, so the parser reports truncation instead of asking again.
            if (bytesRead < want) fileSize = bytesRead;
            const result = parse(prefix.subarray(0, bytesRead), fileSize, path, false);
            if (!(result instanceof NeedMoreBytes)) return result;
            want = Math.min(fileSize, Math.max(result.end, want * 2));
        }
    } catch (cause) {
        if (cause instanceof GgufError) throw cause;
        throw ioError(path, cause);
    } finally {
        await handle.close();
    }
}

/** Reads from offset 0 until `buffer` is full or the file ends; returns the bytes read. */
async function readFully(handle: FileHandle, buffer: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
    }
    return filled;
}

function ioError(path: string, cause: unknown): GgufError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new GgufError("IO", `cannot read "${path}": ${reason}`, { cause });
}

/** Internal signal: the parser needs bytes up to `end`, which exist in the file but not in the prefix. */
class NeedMoreBytes {
    constructor(readonly end: number) {}
}

// ---------------------------------------------------------------------------------------------
// The parser.

/** A position in the bytes plus bounds checks that know where we are, for messages. */
class Cursor {
    pos = 0;
    /** What is being read, for truncation messages: "header", `metadata key "x"`, … */
    where = "header";
    readonly #view: DataView;
    // ignoreBOM: a token may be exactly U+FEFF, which the default decoder would drop.
    readonly #decoder = new TextDecoder("utf-8", { ignoreBOM: true });

    constructor(
        readonly bytes: Uint8Array,
        readonly fileSize: number,
        readonly fileName: string | undefined
    ) {
        this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }

    /** Ensure `n` more bytes exist from the current position. */
    need(n: number): void {
        const end = this.pos + n;
        if (end <= this.bytes.length) return;
        if (end <= this.fileSize) throw new NeedMoreBytes(end);
        throw new GgufError(
            "TRUNCATED",
            `${describeSource(this.fileName)} is truncated: it ends in the ${this.where}, ` +
                `which needs at least ${end} bytes, but the file has ${this.fileSize}`
        );
    }

    malformed(what: string): GgufError {
        return new GgufError("MALFORMED", `${describeSource(this.fileName)} is not a valid GGUF file: ${what}`);
    }

    u8(): number {
        this.need(1);
        return this.#view.getUint8(this.pos++);
    }
    i8(): number {
        this.need(1);
        return this.#view.getInt8(this.pos++);
    }
    u16(): number {
        this.need(2);
        const v = this.#view.getUint16(this.pos, true);
        this.pos += 2;
        return v;
    }
    i16(): number {
        this.need(2);
        const v = this.#view.getInt16(this.pos, true);
        this.pos += 2;
        return v;
    }
    u32(): number {
        this.need(4);
        const v = this.#view.getUint32(this.pos, true);
        this.pos += 4;
        return v;
    }
    i32(): number {
        this.need(4);
        const v = this.#view.getInt32(this.pos, true);
        this.pos += 4;
        return v;
    }
    f32(): number {
        this.need(4);
        const v = this.#view.getFloat32(this.pos, true);
        this.pos += 4;
        return v;
    }
    f64(): number {
        this.need(8);
        const v = this.#view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
    }
    u64(): bigint {
        this.need(8);
        const v = this.#view.getBigUint64(this.pos, true);
        this.pos += 8;
        return v;
    }
    i64(): bigint {
        this.need(8);
        const v = this.#view.getBigInt64(this.pos, true);
        this.pos += 8;
        return v;
    }

    /** A u64 count or size that must be usable as a JS number; `what` names it for messages. */
    size(what: string): number {
        const at = this.pos;
        const v = this.u64();
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
            throw this.malformed(`${what} at byte ${at} is ${v}, which no file can hold (corrupt file)`);
        }
        return Number(v);
    }

    /** Check that `count` items of at least `minBytes` each can still fit, before allocating. */
    fits(count: number, minBytes: number): void {
        if (count * minBytes > Number.MAX_SAFE_INTEGER) {
            throw this.malformed(`count ${count} in the ${this.where} is absurd (corrupt file)`);
        }
        this.need(count * minBytes);
    }

    string(what: string): string {
        const length = this.size(`length of ${what}`);
        this.need(length);
        const s = this.#decoder.decode(this.bytes.subarray(this.pos, this.pos + length));
        this.pos += length;
        return s;
    }
}

function parse(
    bytes: Uint8Array,
    fileSize: number,
    fileName: string | undefined,
    withData: boolean
): GgufFile | NeedMoreBytes {
    const c = new Cursor(bytes, fileSize, fileName);
    try {
        return parseWith(c, withData ? bytes : undefined);
    } catch (e) {
        if (e instanceof NeedMoreBytes) return e;
        throw e;
    }
}

function parseWith(c: Cursor, data: Uint8Array | undefined): GgufFile {
    // --- Magic ---------------------------------------------------------------------------
    checkMagic(c);
    c.pos = 4;

    // --- Version -------------------------------------------------------------------------
    const version = c.u32();
    checkVersion(version, c.fileName);

    // --- Counts --------------------------------------------------------------------------
    const nTensors = c.size("tensor count");
    const nKv = c.size("metadata count");

    // --- Metadata ------------------------------------------------------------------------
    c.where = "metadata";
    // Each KV takes at least 8 (key length) + 4 (type) + 1 (smallest value) bytes.
    c.fits(nKv, 13);
    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < nKv; i++) {
        c.where = `metadata (entry ${i})`;
        const key = c.string(`metadata key ${i}`);
        if (key.length === 0) throw c.malformed(`metadata key ${i} is empty`);
        if (metadata.has(key)) throw c.malformed(`metadata key "${key}" appears twice`);
        c.where = `metadata (key "${key}")`;
        const typeCode = c.u32();
        const type = ggufTypeFromCode(typeCode);
        if (type === undefined) throw c.malformed(`metadata key "${key}" has unknown type code ${typeCode}`);
        metadata.set(key, readValue(c, type, key, 0));
    }

    // --- Alignment -----------------------------------------------------------------------
    let alignment = GGUF_DEFAULT_ALIGNMENT;
    const alignValue = metadata.get("general.alignment");
    if (alignValue !== undefined) {
        if (alignValue.type !== "uint32") {
            throw c.malformed(`"general.alignment" must be uint32 but is ${alignValue.type}`);
        }
        alignment = alignValue.value;
        if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
            throw c.malformed(`"general.alignment" is ${alignment}, which is not a power of 2`);
        }
    }

    // --- Tensor infos --------------------------------------------------------------------
    c.where = "tensor infos";
    // Each info takes at least 8 (name length) + 4 (n_dims) + 4 (type) + 8 (offset) bytes.
    c.fits(nTensors, 24);
    const tensors: GgufTensorInfo[] = [];
    const names = new Set<string>();
    for (let i = 0; i < nTensors; i++) {
        c.where = `tensor infos (tensor ${i})`;
        const name = c.string(`the name of tensor ${i}`);
        if (utf8.encode(name).length > GGUF_MAX_TENSOR_NAME_BYTES) {
            throw c.malformed(`tensor name "${name}" is longer than ${GGUF_MAX_TENSOR_NAME_BYTES} bytes`);
        }
        if (names.has(name)) throw c.malformed(`tensor "${name}" appears twice`);
        names.add(name);
        c.where = `tensor infos (tensor "${name}")`;

        const nDims = c.u32();
        if (nDims > GGUF_MAX_DIMS) throw c.malformed(`tensor "${name}" has ${nDims} dimensions (at most ${GGUF_MAX_DIMS})`);
        const dims: number[] = [];
        let nElements = 1;
        for (let d = 0; d < nDims; d++) {
            const n = c.size(`dimension ${d} of tensor "${name}"`);
            dims.push(n);
            nElements *= n;
            if (nElements > Number.MAX_SAFE_INTEGER) {
                throw c.malformed(`tensor "${name}" has an absurd number of elements (corrupt file)`);
            }
        }

        const typeId = c.u32();
        const info = ggmlTypeInfo(typeId);
        if (info === undefined) throw c.malformed(`tensor "${name}" has unknown ggml type ${typeId}`);
        const rowLength = dims[0] ?? 1;
        if (rowLength % info.blockSize !== 0) {
            throw c.malformed(
                `tensor "${name}" of type ${info.name} has rows of ${rowLength} elements, ` +
                    `not a multiple of the block size ${info.blockSize}`
            );
        }
        const byteLength = (nElements / info.blockSize) * info.typeSize;

        const offset = c.size(`data offset of tensor "${name}"`);
        if (offset % alignment !== 0) {
            throw c.malformed(`tensor "${name}" has data offset ${offset}, not a multiple of the alignment ${alignment}`);
        }
        tensors.push({ name, dims, type: typeId, typeName: info.name, offset, nElements, byteLength });
    }

    // --- Data section --------------------------------------------------------------------
    // Tensors may not share bytes (llama.cpp rejects such files too): a write to one would change another.
    const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < byOffset.length; i++) {
        const before = byOffset[i - 1]!;
        const after = byOffset[i]!;
        if (after.offset < before.offset + before.byteLength) {
            throw c.malformed(
                `the data of tensors "${before.name}" (bytes ${before.offset}-${before.offset + before.byteLength} of the data section) ` +
                    `and "${after.name}" (from byte ${after.offset}) overlap`
            );
        }
    }
    const dataOffset = nTensors > 0 ? Math.ceil(c.pos / alignment) * alignment : c.pos;
    let dataEnd = dataOffset;
    let lastTensor: string | undefined;
    for (const t of tensors) {
        const end = dataOffset + t.offset + t.byteLength;
        if (end > dataEnd) {
            dataEnd = end;
            lastTensor = t.name;
        }
    }
    if (dataEnd > c.fileSize) {
        throw new GgufError(
            "TRUNCATED",
            `${describeSource(c.fileName)} is truncated: tensor "${lastTensor ?? "?"}" runs past its end; ` +
                `its tensor data needs ${dataEnd} bytes but the file has ${c.fileSize}`
        );
    }

    return new GgufFile({
        fileName: c.fileName,
        version,
        metadata,
        tensors,
        alignment,
        dataOffset,
        fileSize: c.fileSize,
        bytes: data
    });
}

function checkMagic(c: Cursor): void {
    const present = c.bytes.subarray(0, 4);
    if (MAGIC.every((b, i) => i >= present.length || present[i] === b)) {
        // Starts like GGUF; a file shorter than the magic is a truncated one.
        c.need(4);
        return;
    }
    const hex = Array.from(present, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const text = Array.from(present, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    const ascii = new TextDecoder().decode(present);
    const hint =
        ascii === "ggjt" || ascii === "ggml" || ascii === "ggmf" || ascii === "tjgg" || ascii === "lmgg"
            ? "; it looks like an old GGML file: convert the original model with a current llama.cpp"
            : "";
    throw new GgufError(
        "NOT_GGUF",
        `${describeSource(c.fileName, "the data")} is not a GGUF file ` +
            `(magic bytes ${hex || "none"} "${text}", expected 47 47 55 46 "GGUF")${hint}`
    );
}

function checkVersion(version: number, fileName: string | undefined): void {
    const source = describeSource(fileName);
    if (version === 2 || version === 3) return;
    if (version === 1) {
        throw new GgufError(
            "UNSUPPORTED_VERSION",
            `${source} is GGUF version 1, which is too old to read; ` +
                `re-convert the model with a current llama.cpp (convert_hf_to_gguf.py)`
        );
    }
    // A big-endian file's version reads as e.g. 0x03000000 here.
    if ((version & 0xffff) === 0 && version !== 0) {
        throw new GgufError(
            "UNSUPPORTED_VERSION",
            `${source} is a big-endian GGUF file (version field ${version}); only little-endian files are supported`
        );
    }
    throw new GgufError(
        "UNSUPPORTED_VERSION",
        `${source} has GGUF version ${version}; this reader supports versions 2 and 3`
    );
}

/** Nested arrays deeper than this are treated as corrupt (real files use at most 2 levels). */
const MAX_ARRAY_DEPTH = 16;

function readValue(c: Cursor, type: GgufValueType, key: string, depth: number): GgufValue {
    switch (type) {
        case "uint8":
            return { type, value: c.u8() };
        case "int8":
            return { type, value: c.i8() };
        case "uint16":
            return { type, value: c.u16() };
        case "int16":
            return { type, value: c.i16() };
        case "uint32":
            return { type, value: c.u32() };
        case "int32":
            return { type, value: c.i32() };
        case "float32":
            return { type, value: c.f32() };
        case "float64":
            return { type, value: c.f64() };
        case "uint64":
            return { type, value: c.u64() };
        case "int64":
            return { type, value: c.i64() };
        case "bool":
            return { type, value: c.u8() !== 0 };
        case "string":
            return { type, value: c.string(`the value of "${key}"`) };
        case "array":
            return readArray(c, key, depth);
    }
}

/**
 * Arrays with more items than this are decoded on first access of `value`: the parser only checks
 * and skips them. A control vector never reads a model's tokenizer arrays, and a crafted file with
 * a huge array costs its bytes, not 8-60 bytes of JS heap per item.
 */
const LAZY_ARRAY_ITEMS = 256;

function readArray(c: Cursor, key: string, depth: number): GgufArray {
    const start = c.pos;
    const { itemType, count } = readArrayHead(c, key, depth);
    if (count <= LAZY_ARRAY_ITEMS || depth > 0) {
        c.pos = start;
        return readArrayNow(c, key, depth);
    }
    skipArrayItems(c, key, depth, itemType, count);
    // Everything up to here was checked, so decoding later cannot fail or need more bytes.
    const bytes = c.bytes;
    const fileName = c.fileName;
    return lazyGgufArray(itemType, count, () => {
        const later = new Cursor(bytes, bytes.length, fileName);
        later.pos = start;
        return readArrayNow(later, key, depth).value;
    });
}

function readArrayHead(c: Cursor, key: string, depth: number): { itemType: GgufValueType; count: number } {
    if (depth >= MAX_ARRAY_DEPTH) throw c.malformed(`metadata key "${key}" nests arrays more than ${MAX_ARRAY_DEPTH} deep`);
    const itemCode = c.u32();
    const itemType = ggufTypeFromCode(itemCode);
    if (itemType === undefined) throw c.malformed(`array "${key}" has unknown item type code ${itemCode}`);
    const count = c.size(`the length of array "${key}"`);
    // Smallest encoding of one item: its fixed size, 8 bytes for a string's length,
    // 12 bytes (type + count) for a nested array.
    c.fits(count, ggufScalarSize(itemType) ?? (itemType === "string" ? 8 : 12));
    return { itemType, count };
}

/** Moves past `count` items with the same checks as decoding them, allocating nothing per item. */
function skipArrayItems(c: Cursor, key: string, depth: number, itemType: GgufValueType, count: number): void {
    const fixed = ggufScalarSize(itemType);
    if (fixed !== undefined) {
        c.need(count * fixed);
        c.pos += count * fixed;
        return;
    }
    for (let i = 0; i < count; i++) {
        if (itemType === "string") {
            const length = c.size(`the length of item ${i} of "${key}"`);
            c.need(length);
            c.pos += length;
        } else {
            const inner = readArrayHead(c, key, depth + 1);
            skipArrayItems(c, key, depth + 1, inner.itemType, inner.count);
        }
    }
}

function readArrayNow(c: Cursor, key: string, depth: number): GgufArray {
    const { itemType, count } = readArrayHead(c, key, depth);
    switch (itemType) {
        case "uint64":
        case "int64": {
            const value: bigint[] = new Array<bigint>(count);
            for (let i = 0; i < count; i++) value[i] = itemType === "uint64" ? c.u64() : c.i64();
            return { type: "array", itemType, value };
        }
        case "bool": {
            const value: boolean[] = new Array<boolean>(count);
            for (let i = 0; i < count; i++) value[i] = c.u8() !== 0;
            return { type: "array", itemType, value };
        }
        case "string": {
            const value: string[] = new Array<string>(count);
            for (let i = 0; i < count; i++) value[i] = c.string(`item ${i} of "${key}"`);
            return { type: "array", itemType, value };
        }
        case "array": {
            const value: GgufArray[] = new Array<GgufArray>(count);
            for (let i = 0; i < count; i++) value[i] = readArrayNow(c, key, depth + 1);
            return { type: "array", itemType, value };
        }
        default: {
            const value: number[] = new Array<number>(count);
            for (let i = 0; i < count; i++) {
                const item = readValue(c, itemType, key, depth);
                value[i] = item.value as number;
            }
            return { type: "array", itemType, value };
        }
    }
}
