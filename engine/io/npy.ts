// NumPy `.npy` arrays (format version 1.0, as `np.save` writes them), so that numpy and pandas
// read Tiller's arrays directly (DESIGN.md §5).
//
// Layout of a file:
//     magic      6 bytes  "\x93NUMPY"
//     version    2 bytes  1, 0
//     header_len uint16 little-endian: length of the header text, newline and padding included
//     header     ASCII Python dict literal, e.g.
//                {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//                padded with spaces and ended by "\n" so that 10 + header_len is a multiple of 64
//                (current numpy's alignment; older readers only need 16)
//     data       the elements in C order (last index fastest), in the dtype's byte order
//
// Only plain little-endian numeric dtypes are written and read: `<f4`, `<f8`, `<i4`, `|u1`. A
// header longer than 65535 bytes (never for the shapes Tiller writes) switches to version 2.0,
// whose header_len is a uint32, as numpy does. The reader also accepts versions 2.0 and 3.0.
import { randomBytes } from "node:crypto";
// called through the module object, so fault-injection tests can make a write fail (ENOSPC, EIO)
import fsp from "node:fs/promises";
import { TillerError } from "../protocol/TillerError.js";

export type NpyDtype = "<f4" | "<f8" | "<i4" | "|u1";
export type NpyData = Float32Array | Float64Array | Int32Array | Uint8Array;

/** A decoded array: `data` holds the elements in C order, `data.length` = product of `shape`. */
export interface NpyArray {
    dtype: NpyDtype;
    shape: number[];
    data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const PREFIX_V1 = 10; // magic, version, uint16 header_len
const PREFIX_V2 = 12; // magic, version, uint32 header_len
const ALIGNMENT = 64;
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function dtypeOf(data: NpyData): NpyDtype {
    if (data instanceof Float32Array) return "<f4";
    if (data instanceof Float64Array) return "<f8";
    if (data instanceof Int32Array) return "<i4";
    if (data instanceof Uint8Array) return "|u1";
    throw new TillerError("INVALID_ARGUMENT", "npy: data must be a Float32Array, Float64Array, Int32Array or Uint8Array");
}

const ITEM_SIZE: Record<NpyDtype, number> = { "<f4": 4, "<f8": 8, "<i4": 4, "|u1": 1 };

/** Python's repr of a shape tuple: `()`, `(5,)`, `(2, 3)`. */
function shapeLiteral(shape: readonly number[]): string {
    if (shape.length === 1) return `(${shape[0]},)`;
    return `(${shape.join(", ")})`;
}

function checkShape(shape: readonly number[], length: number): void {
    if (!Array.isArray(shape))
        throw new TillerError("INVALID_ARGUMENT", "npy: shape must be an array of whole numbers");
    for (const dim of shape) {
        if (!Number.isSafeInteger(dim) || dim < 0)
            throw new TillerError("INVALID_ARGUMENT", `npy: shape ${shapeLiteral(shape)} has an invalid dimension ${dim} (dimensions are whole numbers ≥ 0)`);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    if (count !== length)
        throw new TillerError("INVALID_ARGUMENT",
            `npy: shape ${shapeLiteral(shape)} holds ${count} elements but the data has ${length}`);
}

/**
 * Encodes `data` (C order) with `shape` as a `.npy` file's bytes. Throws INVALID_ARGUMENT when the
 * shape's element count differs from `data.length` or a dimension is not a whole number ≥ 0.
 */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
    const dtype = dtypeOf(data);
    checkShape(shape, data.length);

    // --- Header: dict literal, padded with spaces, ended by "\n" ---------------------------------
    const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeLiteral(shape)}, }`;
    let prefix = PREFIX_V1;
    let padded = padHeader(dict, prefix);
    if (padded.length > 0xffff) {
        prefix = PREFIX_V2;
        padded = padHeader(dict, prefix);
    }
    const itemSize = ITEM_SIZE[dtype];
    const out = new Uint8Array(prefix + padded.length + data.length * itemSize);
    const view = new DataView(out.buffer);
    out.set(MAGIC, 0);
    out[6] = prefix === PREFIX_V1 ? 1 : 2;
    out[7] = 0;
    if (prefix === PREFIX_V1) view.setUint16(8, padded.length, true);
    else view.setUint32(8, padded.length, true);
    for (let i = 0; i < padded.length; i++) out[prefix + i] = padded.charCodeAt(i);

    // --- Data: little-endian elements ------------------------------------------------------------
    const offset = prefix + padded.length;
    if (HOST_IS_LITTLE_ENDIAN || itemSize === 1) {
        out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), offset);
    } else {
        for (let i = 0; i < data.length; i++) {
            const at = offset + i * itemSize;
            if (dtype === "<f4") view.setFloat32(at, data[i]!, true);
            else if (dtype === "<f8") view.setFloat64(at, data[i]!, true);
            else view.setInt32(at, data[i]!, true);
        }
    }
    return out;
}

function padHeader(dict: string, prefix: number): string {
    const unpadded = prefix + dict.length + 1; // + "\n"
    const padding = (ALIGNMENT - (unpadded % ALIGNMENT)) % ALIGNMENT;
    return dict + " ".repeat(padding) + "\n";
}

/**
 * Writes `data` with `shape` as a `.npy` file, atomically (a temporary file in the same folder,
 * flushed, then renamed over `path`). Throws INVALID_ARGUMENT as encodeNpy does, INTERNAL when the
 * file cannot be written.
 */
export async function writeNpyFile(path: string, data: NpyData, shape: readonly number[]): Promise<void> {
    await writeFileAtomic(path, encodeNpy(data, shape));
}

/**
 * Writes `bytes` to `path` through a temporary sibling file (flushed to disk) and a rename, so a
 * reader sees the old file or the new one, never a part. Failures are TillerError INTERNAL
 * (FILE_NOT_FOUND when the folder does not exist).
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
    // an unpredictable name, created exclusively: a file or link planted at the name is never written through
    const temp = `${path}.${randomBytes(12).toString("hex")}.tmp`;
    try {
        const handle = await fsp.open(temp, "wx");
        try {
            await handle.writeFile(bytes);
            await handle.sync();
        } finally {
            await handle.close();
        }
        await fsp.rename(temp, path);
    } catch (cause) {
        await fsp.rm(temp, { force: true }).catch(() => undefined);
        const errno = (cause as NodeJS.ErrnoException).code;
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new TillerError(errno === "ENOENT" ? "FILE_NOT_FOUND" : "INTERNAL", `cannot write "${path}": ${reason}`, { cause });
    }
}

/**
 * Decodes a `.npy` file's bytes (versions 1.0-3.0, dtypes `<f4`, `<f8`, `<i4`, `|u1`, C order; a
 * Fortran-order array is accepted only when it has at most one dimension > 1, where both orders
 * agree). The returned data is a copy. Throws INVALID_ARGUMENT naming what is wrong.
 */
export function decodeNpy(bytes: Uint8Array, fileName?: string): NpyArray {
    const what = fileName === undefined ? "npy data" : `"${fileName}"`;
    const bad = (detail: string) => new TillerError("INVALID_ARGUMENT", `${what} is not a readable .npy array: ${detail}`);

    if (bytes.length < PREFIX_V1 || MAGIC.some((b, i) => bytes[i] !== b))
        throw bad("it does not start with the magic \\x93NUMPY");
    const major = bytes[6]!;
    if (major < 1 || major > 3) throw bad(`format version ${major}.${bytes[7]} is not supported (1.0-3.0 are)`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const prefix = major === 1 ? PREFIX_V1 : PREFIX_V2;
    if (bytes.length < prefix) throw bad("it ends inside the header");
    const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
    if (prefix + headerLength > bytes.length) throw bad("it ends inside the header");
    const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(prefix, prefix + headerLength));

    // --- Header dict -----------------------------------------------------------------------------
    const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
    const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
    const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
    if (descr === undefined || fortran === undefined || shapeText === undefined)
        throw bad(`its header ${JSON.stringify(header.trim())} lacks descr, fortran_order or shape`);
    const dtype = normalizeDescr(descr);
    if (dtype === undefined) throw bad(`dtype '${descr}' is not supported (<f4, <f8, <i4 and |u1 are)`);
    const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
    if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw bad(`shape (${shapeText}) is not a tuple of whole numbers`);
    if (fortran === "True" && shape.filter((d) => d > 1).length > 1)
        throw bad("Fortran-order (column-major) arrays are not supported");

    // --- Data ------------------------------------------------------------------------------------
    const count = shape.reduce((a, b) => a * b, 1);
    const itemSize = ITEM_SIZE[dtype];
    const offset = prefix + headerLength;
    const available = bytes.length - offset;
    if (available !== count * itemSize)
        throw bad(`shape ${shapeLiteral(shape)} of ${dtype} needs ${count * itemSize} bytes of data but the file has ${available}`);
    // Copy into a fresh, aligned buffer (not slice(): on a Node Buffer that is a view).
    const raw = new Uint8Array(count * itemSize);
    raw.set(bytes.subarray(offset, offset + count * itemSize));
    let data: NpyData;
    if (dtype === "|u1") {
        data = raw;
    } else if (HOST_IS_LITTLE_ENDIAN) {
        data = dtype === "<f4" ? new Float32Array(raw.buffer) : dtype === "<f8" ? new Float64Array(raw.buffer) : new Int32Array(raw.buffer);
    } else {
        const dv = new DataView(raw.buffer);
        if (dtype === "<f4") data = Float32Array.from({ length: count }, (_, i) => dv.getFloat32(i * 4, true));
        else if (dtype === "<f8") data = Float64Array.from({ length: count }, (_, i) => dv.getFloat64(i * 8, true));
        else data = Int32Array.from({ length: count }, (_, i) => dv.getInt32(i * 4, true));
    }
    return { dtype, shape, data };
}

function normalizeDescr(descr: string): NpyDtype | undefined {
    switch (descr) {
        case "<f4": return "<f4";
        case "<f8": return "<f8";
        case "<i4": return "<i4";
        case "|u1": case "<u1": case "u1": return "|u1";
        default: return undefined;
    }
}
