// Unit tests of engine/gguf: the GGUF reader and writer, float16 conversion, control vectors
// and the random model generator (without llama.cpp; tests/engine/randomModel.test.ts loads them).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
    ControlVectorError,
    encodeControlVector,
    parseControlVector,
    readControlVectorFile,
    validateControlVectorForModel,
    writeControlVectorFile
} from "../../engine/gguf/ControlVectorFile.js";
import type { ControlVector } from "../../engine/gguf/ControlVectorFile.js";
import { float16BitsToFloat32, float32ToFloat16Bits } from "../../engine/gguf/Float16.js";
import { GgufError } from "../../engine/gguf/GgufError.js";
import type { GgufErrorCode } from "../../engine/gguf/GgufError.js";
import { readGguf, readGgufFile } from "../../engine/gguf/GgufReader.js";
import type { GgufValue } from "../../engine/gguf/GgufValue.js";
import { writeGguf } from "../../engine/gguf/GgufWriter.js";
import type { GgufTensorInput, GgufValueInput } from "../../engine/gguf/GgufWriter.js";
import { buildRandomModelTokenizer, encodeRandomModel } from "../../engine/gguf/RandomModelFile.js";

const SHARED = path.resolve(import.meta.dirname, "../../../shared");
const SINE_PATH = path.join(SHARED, "llamacpp-parity/synthetic_sine.gguf");
const STORIES_PATH = path.join(SHARED, "models/stories260K.gguf");
const TINY_RANDOM_PATH = path.join(SHARED, "models/llama-2-tiny-random.gguf");

const tmp = mkdtempSync(path.join(os.tmpdir(), "tiller-gguf-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Run `fn` and return the GgufError it throws (failing the test if it throws anything else). */
function ggufError(fn: () => unknown): GgufError {
    try {
        fn();
    } catch (e) {
        expect(e).toBeInstanceOf(GgufError);
        return e as GgufError;
    }
    throw new Error("expected a GgufError, but nothing was thrown");
}

function expectGgufCode(fn: () => unknown, code: GgufErrorCode): GgufError {
    const e = ggufError(fn);
    expect(e.code, e.message).toBe(code);
    return e;
}

function cvError(fn: () => unknown): ControlVectorError {
    try {
        fn();
    } catch (e) {
        expect(e).toBeInstanceOf(ControlVectorError);
        return e as ControlVectorError;
    }
    throw new Error("expected a ControlVectorError, but nothing was thrown");
}

/** Bits of float32 values, to compare floats exactly (NaN payloads and -0 included). */
function bits(a: Float32Array): Uint32Array {
    return new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function f32FromBits(...b: number[]): Float32Array {
    return new Float32Array(new Uint32Array(b).buffer);
}

// A metadata set with every type, nested arrays and edge values.
const ALL_TYPES: Array<[string, GgufValue]> = [
    ["t.uint8", { type: "uint8", value: 255 }],
    ["t.int8", { type: "int8", value: -128 }],
    ["t.uint16", { type: "uint16", value: 65535 }],
    ["t.int16", { type: "int16", value: -32768 }],
    ["t.uint32", { type: "uint32", value: 0xffffffff }],
    ["t.int32", { type: "int32", value: -0x80000000 }],
    ["t.float32", { type: "float32", value: Math.fround(Math.PI) }],
    ["t.float64", { type: "float64", value: Math.E }],
    ["t.uint64", { type: "uint64", value: (1n << 64n) - 1n }],
    ["t.int64", { type: "int64", value: -(1n << 63n) }],
    ["t.bool.true", { type: "bool", value: true }],
    ["t.bool.false", { type: "bool", value: false }],
    ["t.string", { type: "string", value: "héllo ▁wörld 🦙" }],
    ["t.string.empty", { type: "string", value: "" }],
    ["t.string.bom", { type: "string", value: "\ufeff" }],
    ["t.arr.str", { type: "array", itemType: "string", value: ["a", "", "\ufeff", "▁b"] }],
    ["t.arr.f32", { type: "array", itemType: "float32", value: [0, -1.5, Math.fround(0.1)] }],
    ["t.arr.i32", { type: "array", itemType: "int32", value: [-1, 0, 2147483647] }],
    ["t.arr.u8", { type: "array", itemType: "uint8", value: [0, 1, 255] }],
    ["t.arr.f64", { type: "array", itemType: "float64", value: [0.1, -0] }],
    ["t.arr.u64", { type: "array", itemType: "uint64", value: [0n, 1n << 63n] }],
    ["t.arr.i64", { type: "array", itemType: "int64", value: [-5n, 5n] }],
    ["t.arr.bool", { type: "array", itemType: "bool", value: [true, false, true] }],
    ["t.arr.empty", { type: "array", itemType: "int32", value: [] }],
    [
        "t.arr.nested",
        {
            type: "array",
            itemType: "array",
            value: [
                { type: "array", itemType: "string", value: ["x", "y"] },
                { type: "array", itemType: "uint16", value: [7] },
                { type: "array", itemType: "array", value: [{ type: "array", itemType: "bool", value: [] }] }
            ]
        }
    ]
];

/** A small valid file: one string key and one F32 tensor of 4 values. */
function smallFile(): Uint8Array {
    return writeGguf({
        metadata: [["general.architecture", "test"]],
        tensors: [{ name: "w", dims: [4], type: "f32", data: new Float32Array([1, 2, 3, 4]) }]
    });
}

// ---------------------------------------------------------------------------------------------

describe("GGUF reader and writer", () => {
    it("round-trips every metadata type, nested arrays included", () => {
        const file = readGguf(writeGguf({ metadata: ALL_TYPES }));
        expect(file.version).toBe(3);
        expect([...file.metadata]).toEqual(ALL_TYPES);
        expect(file.tensors).toEqual([]);
        expect(file.alignment).toBe(32);
    });

    it("writes bare strings and booleans as string and bool", () => {
        const file = readGguf(writeGguf({ metadata: { a: "x", b: true } }));
        expect(file.get("a")).toEqual({ type: "string", value: "x" });
        expect(file.get("b")).toEqual({ type: "bool", value: true });
        expect(file.getString("a")).toBe("x");
        expect(() => file.getNumber("a")).toThrow(GgufError);
        expect(file.getNumber("missing")).toBeUndefined();
        expectGgufCode(() => file.requireNumber("missing"), "NOT_FOUND");
    });

    it("round-trips F32 tensors bit for bit and decodes F16 tensors", () => {
        const special = f32FromBits(0x7fc12345, 0x80000000, 0x7f800000, 0xff800000, 0x00000001, 0x3f800000);
        const matrix = new Float32Array(6 * 5).map((_, i) => Math.sin(i) * 3);
        const half = new Float32Array([0, -0, 1, 65504, 70000, 1e-8, 0.1, -2.5]);
        const tensors: GgufTensorInput[] = [
            { name: "special", dims: [6], type: "f32", data: special },
            { name: "matrix", dims: [6, 5], type: "f32", data: matrix },
            { name: "half", dims: [8], type: "f16", data: half }
        ];
        const file = readGguf(writeGguf({ metadata: { k: "v" }, tensors }));
        expect(file.tensors.map((t) => [t.name, t.dims, t.typeName, t.nElements, t.byteLength])).toEqual([
            ["special", [6], "F32", 6, 24],
            ["matrix", [6, 5], "F32", 30, 120],
            ["half", [8], "F16", 8, 16]
        ]);
        expect(bits(file.tensorFloat32("special"))).toEqual(bits(special));
        expect(bits(file.tensorFloat32("matrix"))).toEqual(bits(matrix));
        const expectedHalf = Array.from(half, (x) => float16BitsToFloat32(float32ToFloat16Bits(x)));
        expect(Array.from(file.tensorFloat32("half"))).toEqual(expectedHalf);
        expect(Array.from(file.tensorFloat32("half")).slice(0, 5)).toEqual([0, -0, 1, 65504, Infinity]);
        // Copies: changing one does not change the file.
        file.tensorFloat32("matrix").fill(0);
        expect(bits(file.tensorFloat32("matrix"))).toEqual(bits(matrix));
    });

    it.each([32, 64, 1])("aligns and pads tensor data to %i bytes", (alignment) => {
        const tensors: GgufTensorInput[] = [3, 5, 8, 1].map((n, i) => ({
            name: `t${i}`,
            dims: [n],
            type: i % 2 === 0 ? "f32" : "f16",
            data: new Float32Array(n).fill(i + 1)
        }));
        const bytes = writeGguf({ metadata: { a: "b" }, tensors, alignment });
        const file = readGguf(bytes);
        expect(file.alignment).toBe(alignment);
        expect(file.get("general.alignment")).toEqual(alignment === 32 ? undefined : { type: "uint32", value: alignment });
        expect(file.dataOffset % alignment).toBe(0);
        for (const t of file.tensors) {
            expect(t.offset % alignment).toBe(0);
            expect(Array.from(file.tensorFloat32(t.name))).toEqual(new Array(t.nElements).fill(Number(t.name.slice(1)) + 1));
        }
        // Like llama.cpp, the last tensor is padded too: the file ends on the alignment.
        expect(bytes.length % alignment).toBe(0);
    });

    it("rejects bad alignments", () => {
        expectGgufCode(() => writeGguf({ alignment: 24 }), "INVALID_ARGUMENT");
        expectGgufCode(() => writeGguf({ metadata: { "general.alignment": { type: "int32", value: 32 } } }), "INVALID_ARGUMENT");
        // A file whose general.alignment has the wrong type or is not a power of 2.
        // (The writer refuses to write these, so write another key and rename it.)
        const wrongType = writeGguf({ metadata: [["general.alignmenX", { type: "uint64", value: 32n }]] });
        wrongType[Buffer.from(wrongType).indexOf("alignmenX") + 8] = "t".charCodeAt(0);
        expectGgufCode(() => readGguf(wrongType), "MALFORMED");
        const notPow2 = writeGguf({ metadata: [["general.alignment", { type: "uint32", value: 64 }]] });
        new DataView(notPow2.buffer).setUint32(notPow2.length - 4, 48, true);
        expect(ggufError(() => readGguf(notPow2)).message).toMatch(/not a power of 2/);
    });

    it("reads raw tensors of other types and refuses to decode them as floats", () => {
        const q = new Uint8Array(18).fill(7); // one Q4_0 block of 32 values
        const file = readGguf(writeGguf({ tensors: [{ name: "q", dims: [32], type: "raw", ggmlType: 2, bytes: q }] }));
        expect(file.tensor("q")?.typeName).toBe("Q4_0");
        expect(file.tensorBytes("q")).toEqual(q);
        expectGgufCode(() => file.tensorFloat32("q"), "UNSUPPORTED_TYPE");
        expectGgufCode(() => file.tensorFloat32("nope"), "NOT_FOUND");
    });

    it("rejects values the writer cannot encode", () => {
        const bad: Array<Record<string, GgufValueInput>> = [
            { k: { type: "uint8", value: 256 } },
            { k: { type: "int32", value: 1.5 } },
            { k: { type: "uint32", value: -1 } },
            { k: { type: "uint64", value: -1n } },
            { k: { type: "array", itemType: "int16", value: [40000] } }
        ];
        for (const metadata of bad) expectGgufCode(() => writeGguf({ metadata }), "INVALID_ARGUMENT");
        const t = (over: Partial<GgufTensorInput>): GgufTensorInput =>
            ({ name: "t", dims: [2], type: "f32", data: new Float32Array(2), ...over }) as GgufTensorInput;
        expectGgufCode(() => writeGguf({ tensors: [t({ dims: [3] })] }), "INVALID_ARGUMENT");
        expectGgufCode(() => writeGguf({ tensors: [t({ dims: [1, 1, 1, 1, 2] })] }), "INVALID_ARGUMENT");
        expectGgufCode(() => writeGguf({ tensors: [t({ name: "x".repeat(64) })] }), "INVALID_ARGUMENT");
        expectGgufCode(() => writeGguf({ tensors: [t({}), t({})] }), "INVALID_ARGUMENT");
        expectGgufCode(() => writeGguf({ tensors: [{ name: "q", dims: [32], type: "raw", ggmlType: 2, bytes: new Uint8Array(17) }] }), "INVALID_ARGUMENT");
    });

    it("reads the header only, and from a file", async () => {
        const p = path.join(tmp, "small.gguf");
        const { writeFile } = await import("node:fs/promises");
        await writeFile(p, smallFile());
        const full = await readGgufFile(p);
        expect(Array.from(full.tensorFloat32("w"))).toEqual([1, 2, 3, 4]);
        const header = await readGgufFile(p, { tensorData: false });
        expect(header.hasTensorData).toBe(false);
        expect(header.architecture).toBe("test");
        expect(header.tensors.map((t) => t.name)).toEqual(["w"]);
        expect(() => header.tensorBytes("w")).toThrow(/metadata only/);
        const missing = path.join(tmp, "missing.gguf");
        await expect(readGgufFile(missing)).rejects.toMatchObject({ code: "IO" });
        await expect(readGgufFile(missing, { tensorData: false })).rejects.toMatchObject({ code: "IO" });
    });

    it("reads a header that is larger than the first chunk when reading the header only", async () => {
        const tokens = Array.from({ length: 120_000 }, (_, i) => `token-${i}`);
        const bytes = writeGguf({
            metadata: [["tok", { type: "array", itemType: "string", value: tokens }]],
            tensors: [{ name: "w", dims: [2], type: "f32", data: new Float32Array([5, 6]) }]
        });
        expect(bytes.length).toBeGreaterThan(2 << 20);
        const p = path.join(tmp, "big-header.gguf");
        const { writeFile } = await import("node:fs/promises");
        await writeFile(p, bytes);
        const header = await readGgufFile(p, { tensorData: false });
        expect(header.get("tok")).toEqual({ type: "array", itemType: "string", value: tokens });
        expect(header.tensor("w")?.dims).toEqual([2]);
    });
});

describe("GGUF errors", () => {
    it("says a non-GGUF file is not GGUF, naming the file and the magic bytes", () => {
        const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]);
        const e = expectGgufCode(() => readGguf(zip, { fileName: "model.zip" }), "NOT_GGUF");
        expect(e.message).toBe(`"model.zip" is not a GGUF file (magic bytes 50 4b 03 04 "PK..", expected 47 47 55 46 "GGUF")`);
        const ggjt = new TextEncoder().encode("ggjt and more");
        expect(expectGgufCode(() => readGguf(ggjt), "NOT_GGUF").message).toMatch(/old GGML file/);
    });

    it("refuses GGUF v1 with advice to re-convert, and unknown or big-endian versions", () => {
        const v1 = smallFile();
        new DataView(v1.buffer).setUint32(4, 1, true);
        const e = expectGgufCode(() => readGguf(v1, { fileName: "old.gguf" }), "UNSUPPORTED_VERSION");
        expect(e.message).toMatch(/^"old\.gguf" is GGUF version 1, which is too old/);
        expect(e.message).toMatch(/re-convert .* current llama\.cpp/);
        const v9 = smallFile();
        new DataView(v9.buffer).setUint32(4, 9, true);
        expect(expectGgufCode(() => readGguf(v9), "UNSUPPORTED_VERSION").message).toMatch(/version 9/);
        const bigEndian = smallFile();
        new DataView(bigEndian.buffer).setUint32(4, 3, false);
        expect(expectGgufCode(() => readGguf(bigEndian), "UNSUPPORTED_VERSION").message).toMatch(/big-endian/);
    });

    it("reads GGUF v2", () => {
        const v2 = smallFile();
        new DataView(v2.buffer).setUint32(4, 2, true);
        expect(readGguf(v2).version).toBe(2);
    });

    it("says TRUNCATED, with bytes needed and present, wherever the file is cut", () => {
        const bytes = writeGguf({
            metadata: ALL_TYPES,
            tensors: [
                { name: "a", dims: [3], type: "f32", data: new Float32Array(3) },
                { name: "b", dims: [2, 2], type: "f16", data: new Float32Array(4) }
            ]
        });
        const file = readGguf(bytes);
        const last = file.tensors.at(-1)!;
        const dataEnd = file.dataOffset + last.offset + last.byteLength;
        for (let cut = 0; cut < dataEnd; cut++) {
            const e = expectGgufCode(() => readGguf(bytes.subarray(0, cut), { fileName: "cut.gguf" }), "TRUNCATED");
            expect(e.message).toMatch(new RegExp(`^"cut\\.gguf" is truncated: .* needs (at least )?\\d+ bytes.* the file has ${cut}$`));
        }
        // Only the padding after the last tensor may be missing.
        expect(readGguf(bytes.subarray(0, dataEnd)).tensors).toHaveLength(2);
        // The message says where the file ends.
        expect(ggufError(() => readGguf(bytes.subarray(0, 10))).message).toMatch(/ends in the header/);
        expect(ggufError(() => readGguf(bytes.subarray(0, 40))).message).toMatch(/ends in the metadata/);
        expect(ggufError(() => readGguf(bytes.subarray(0, dataEnd - 1))).message).toMatch(
            new RegExp(`tensor data needs ${dataEnd} bytes`)
        );
    });

    it("never trusts absurd lengths and counts", () => {
        // Header: magic(4) version(4) n_tensors(8) n_kv(8), then the first key's length at 24.
        const patch = (offset: number, value: bigint): Uint8Array => {
            const b = smallFile();
            new DataView(b.buffer).setBigUint64(offset, value, true);
            return b;
        };
        const keyLen = 24;
        expect(expectGgufCode(() => readGguf(patch(keyLen, 1n << 62n)), "MALFORMED").message).toMatch(/no file can hold/);
        expectGgufCode(() => readGguf(patch(keyLen, 1n << 40n)), "TRUNCATED");
        expectGgufCode(() => readGguf(patch(16, 1n << 50n)), "MALFORMED"); // metadata count
        expectGgufCode(() => readGguf(patch(16, 1000n)), "TRUNCATED");
        expectGgufCode(() => readGguf(patch(8, 1n << 50n)), "MALFORMED"); // tensor count
        expectGgufCode(() => readGguf(patch(8, 100_000n)), "TRUNCATED");

        // An array with a huge count of uint8 items, and one of strings.
        const arr = (itemType: "uint8" | "string") =>
            writeGguf({ metadata: [["a", itemType === "uint8" ? { type: "array", itemType, value: [1] } : { type: "array", itemType, value: ["x"] }]] });
        // key "a": 24 + 8 + 1, then value type (4), item type (4), then the count.
        for (const itemType of ["uint8", "string"] as const) {
            const b = arr(itemType);
            new DataView(b.buffer).setBigUint64(24 + 9 + 8, 1n << 40n, true);
            expectGgufCode(() => readGguf(b), "TRUNCATED");
            // Too many to fit in any file: 2^60 items, or 2^52 strings of at least 8 bytes each.
            new DataView(b.buffer).setBigUint64(24 + 9 + 8, itemType === "uint8" ? 1n << 60n : 1n << 52n, true);
            expectGgufCode(() => readGguf(b), "MALFORMED");
        }

        // A tensor with an absurd shape.
        const t = smallFile();
        // Find tensor "w"'s n_dims = 1 followed by dims[0] = 4.
        const view = new DataView(t.buffer);
        let dimOffset = -1;
        for (let i = 24; i < t.length - 8; i++) {
            if (view.getUint32(i, true) === 1 && view.getBigUint64(i + 4, true) === 4n) dimOffset = i + 4;
        }
        expect(dimOffset).toBeGreaterThan(0);
        view.setBigUint64(dimOffset, 1n << 52n, true);
        expectGgufCode(() => readGguf(t), "TRUNCATED");
        view.setBigUint64(dimOffset, 1n << 60n, true);
        expectGgufCode(() => readGguf(t), "MALFORMED");
    });

    it("says MALFORMED for broken structure", () => {
        // Unknown value type code: the type of the first KV sits after its key.
        const b1 = smallFile();
        const keyLength = Number(new DataView(b1.buffer).getBigUint64(24, true));
        new DataView(b1.buffer).setUint32(32 + keyLength, 99, true);
        expect(expectGgufCode(() => readGguf(b1), "MALFORMED").message).toMatch(/unknown type code 99/);

        // Duplicate key: rename the second key to the first.
        const b2 = writeGguf({ metadata: { aa: "x", ab: "y" } });
        const idx = Buffer.from(b2).indexOf("ab");
        b2[idx + 1] = "a".charCodeAt(0);
        expect(expectGgufCode(() => readGguf(b2), "MALFORMED").message).toMatch(/"aa" appears twice/);

        // Unknown ggml type and a misaligned offset: the fields after the dims of tensor "w".
        const b3 = smallFile();
        const v3 = new DataView(b3.buffer);
        const nameAt = Buffer.from(b3).lastIndexOf("w");
        const typeAt = nameAt + 1 + 4 + 8;
        expect(v3.getUint32(typeAt, true)).toBe(0);
        v3.setUint32(typeAt, 4, true); // removed type Q4_2
        expect(expectGgufCode(() => readGguf(b3), "MALFORMED").message).toMatch(/unknown ggml type 4/);
        v3.setUint32(typeAt, 0, true);
        v3.setBigUint64(typeAt + 4, 4n, true);
        expect(expectGgufCode(() => readGguf(b3), "MALFORMED").message).toMatch(/not a multiple of the alignment/);
    });
});

describe("float16 conversion", () => {
    it("round-trips every float16 value exactly", () => {
        for (let h = 0; h < 0x10000; h++) {
            const x = float16BitsToFloat32(h);
            if (Number.isNaN(x)) {
                expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(x)))).toBe(true);
                continue;
            }
            if (float32ToFloat16Bits(x) !== h) expect(float32ToFloat16Bits(x)).toBe(h);
        }
    });

    it("rounds to nearest, ties to even, between every pair of neighbours", () => {
        const up = (x: number) => f32FromBits(new Uint32Array(new Float32Array([x]).buffer)[0]! + 1)[0]!;
        const down = (x: number) => f32FromBits(new Uint32Array(new Float32Array([x]).buffer)[0]! - 1)[0]!;
        for (let h = 0; h < 0x7bff; h++) {
            const a = float16BitsToFloat32(h);
            const b = float16BitsToFloat32(h + 1);
            const mid = (a + b) / 2; // exact in float32
            const even = h % 2 === 0 ? h : h + 1;
            if (float32ToFloat16Bits(mid) !== even) expect([h, float32ToFloat16Bits(mid)]).toEqual([h, even]);
            if (float32ToFloat16Bits(down(mid)) !== h) expect([h, float32ToFloat16Bits(down(mid))]).toEqual([h, h]);
            if (float32ToFloat16Bits(up(mid)) !== h + 1) expect([h, float32ToFloat16Bits(up(mid))]).toEqual([h, h + 1]);
        }
    });

    it("handles overflow, underflow, zeros, infinities and NaN", () => {
        expect(float32ToFloat16Bits(65504)).toBe(0x7bff);
        expect(float32ToFloat16Bits(65519.99)).toBe(0x7bff);
        expect(float32ToFloat16Bits(65520)).toBe(0x7c00); // the tie rounds to even: Inf
        expect(float32ToFloat16Bits(1e10)).toBe(0x7c00);
        expect(float32ToFloat16Bits(-1e10)).toBe(0xfc00);
        expect(float32ToFloat16Bits(Infinity)).toBe(0x7c00);
        expect(float32ToFloat16Bits(-Infinity)).toBe(0xfc00);
        expect(float32ToFloat16Bits(0)).toBe(0);
        expect(float32ToFloat16Bits(-0)).toBe(0x8000);
        expect(float32ToFloat16Bits(2 ** -24)).toBe(1); // smallest subnormal
        expect(float32ToFloat16Bits(2 ** -25)).toBe(0); // tie with 0: even
        expect(float32ToFloat16Bits(2 ** -25 * 1.001)).toBe(1);
        expect(float32ToFloat16Bits(-(2 ** -26))).toBe(0x8000);
        expect(float32ToFloat16Bits(1e-30)).toBe(0);
        expect(float32ToFloat16Bits(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the normals
        const nan = float32ToFloat16Bits(NaN);
        expect(nan & 0x7c00).toBe(0x7c00);
        expect(nan & 0x3ff).not.toBe(0);
        expect(float16BitsToFloat32(0x3c00)).toBe(1);
        expect(float16BitsToFloat32(0xc000)).toBe(-2);
        expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
    });
});

// ---------------------------------------------------------------------------------------------

function sampleVector(): ControlVector {
    const width = 16;
    const directions = new Map<number, Float32Array>();
    // Inserted out of order and sparse (layers 2, 3, 6 missing); includes -0, NaN with payload,
    // a subnormal and infinities.
    for (const layer of [7, 1, 4, 5]) {
        const d = new Float32Array(width).map((_, i) => Math.sin(layer * 31 + i) * 10 ** ((i % 7) - 3));
        directions.set(layer, d);
    }
    directions.get(1)!.set(f32FromBits(0x80000000, 0x7fc0beef, 0x00000003, 0x7f800000, 0xff800000), 0);
    return { modelHint: "llama", nEmbd: width, directions, metadata: { "tiller.name": "happy", "tiller.note": "α ≥ 0" } };
}

describe("control vector files", () => {
    it("round-trips exactly, sparse layers included", async () => {
        const cv = sampleVector();
        const parsed = parseControlVector(encodeControlVector(cv), "happy.gguf");
        expect(parsed.modelHint).toBe("llama");
        expect(parsed.nEmbd).toBe(16);
        expect(parsed.metadata).toEqual(cv.metadata);
        expect([...parsed.directions.keys()]).toEqual([1, 4, 5, 7]);
        for (const [layer, d] of cv.directions) expect(bits(parsed.directions.get(layer)!)).toEqual(bits(d));

        const p = path.join(tmp, "happy.gguf");
        await writeControlVectorFile(p, cv);
        const fromFile = await readControlVectorFile(p);
        for (const [layer, d] of cv.directions) expect(bits(fromFile.directions.get(layer)!)).toEqual(bits(d));
    });

    it("writes llama.cpp's layout: int32 layer_count = highest layer, directions ascending", () => {
        const file = readGguf(encodeControlVector(sampleVector()));
        expect(file.get("general.architecture")).toEqual({ type: "string", value: "controlvector" });
        expect(file.get("controlvector.model_hint")).toEqual({ type: "string", value: "llama" });
        expect(file.get("controlvector.layer_count")).toEqual({ type: "int32", value: 7 });
        expect(file.tensors.map((t) => [t.name, t.typeName, t.dims])).toEqual([
            ["direction.1", "F32", [16]],
            ["direction.4", "F32", [16]],
            ["direction.5", "F32", [16]],
            ["direction.7", "F32", [16]]
        ]);
    });

    it("reads layer_count as int32 (llama.cpp) and uint32 (repeng)", () => {
        for (const layerCount of [{ type: "int32", value: 2 }, { type: "uint32", value: 2 }] as const) {
            const bytes = writeGguf({
                metadata: [
                    ["general.architecture", "controlvector"],
                    ["controlvector.model_hint", "mistral"],
                    ["controlvector.layer_count", layerCount]
                ],
                tensors: [
                    { name: "direction.2", dims: [3], type: "f32", data: new Float32Array([1, 2, 3]) },
                    { name: "direction.1", dims: [3], type: "f32", data: new Float32Array([4, 5, 6]) }
                ]
            });
            const cv = parseControlVector(bytes);
            expect(cv.modelHint).toBe("mistral");
            expect([...cv.directions].map(([l, d]) => [l, Array.from(d)])).toEqual([
                [1, [4, 5, 6]],
                [2, [1, 2, 3]]
            ]);
        }
    });

    it("rejects GGUF files that are not valid control vectors", () => {
        const make = (metadata: Record<string, GgufValueInput>, tensors: GgufTensorInput[]) =>
            writeGguf({ metadata: { "general.architecture": "controlvector", ...metadata }, tensors });
        const dir = (name: string, n = 4, type: "f32" | "f16" = "f32", dims = [n]): GgufTensorInput => ({
            name,
            dims,
            type,
            data: new Float32Array(dims.reduce((a, b) => a * b, 1))
        });
        const cases: Array<[Uint8Array, RegExp]> = [
            [make({ "general.architecture": "llama" }, [dir("direction.1")]), /general\.architecture is "llama".*model file/],
            [make({}, [dir("direction.0")]), /direction\.0.*block 0/],
            [make({}, [dir("direction.1", 4, "f16")]), /F16, not F32/],
            [make({}, [dir("direction.1", 4, "f32", [2, 2])]), /2 dimensions/],
            [make({}, [dir("direction.1", 4), dir("direction.2", 5)]), /length 5 but the others have 4/],
            [make({}, [dir("token_embd.weight")]), /not named direction\.N/],
            [make({ "controlvector.layer_count": "3" }, [dir("direction.1")]), /layer_count is string/],
            [make({ "controlvector.model_hint": { type: "int32", value: 1 } }, [dir("direction.1")]), /model_hint is int32/]
        ];
        for (const [bytes, message] of cases) {
            const e = cvError(() => parseControlVector(bytes, "bad.gguf"));
            expect(e.code).toBe("MALFORMED");
            expect(e.message).toMatch(/^vector "bad\.gguf" is not a valid control vector: /);
            expect(e.message).toMatch(message);
        }
        // A broken container is a GgufError.
        expectGgufCode(() => parseControlVector(new Uint8Array(8), "zeros.gguf"), "NOT_GGUF");
    });

    it("refuses to write invalid vectors", () => {
        const base = sampleVector();
        expect(cvError(() => encodeControlVector({ ...base, nEmbd: 8 })).message).toMatch(/length 16 but nEmbd is 8/);
        expect(cvError(() => encodeControlVector({ ...base, directions: new Map([[0, new Float32Array(16)]]) })).message).toMatch(/block 0/);
        expect(cvError(() => encodeControlVector({ ...base, metadata: { name: "x" } })).message).toMatch(/must start with "tiller\."/);
    });

    it("validates a vector against a model", () => {
        const cv: ControlVector = { modelHint: "llama", nEmbd: 128, directions: new Map([[1, new Float32Array(128)]]) };
        const model = { nLayer: 5, nEmbd: 64, architecture: "llama" };
        const width = cvError(() => validateControlVectorForModel(cv, model, "x.gguf"));
        expect(width.code).toBe("WIDTH_MISMATCH");
        expect(width.message).toBe(`vector "x.gguf" has width 128 but model has n_embd 64`);

        const fits: ControlVector = { modelHint: "llama", nEmbd: 64, directions: new Map([[1, new Float32Array(64)], [4, new Float32Array(64)]]) };
        expect(() => validateControlVectorForModel(fits, model, "ok.gguf")).not.toThrow();

        const tooHigh = { ...fits, directions: new Map([[5, new Float32Array(64)]]) };
        const range = cvError(() => validateControlVectorForModel(tooHigh, model, "x.gguf"));
        expect(range.code).toBe("LAYER_OUT_OF_RANGE");
        expect(range.message).toBe(`vector "x.gguf" has direction.5 but the model has 5 blocks, so it can be steered at layers 1 to 4`);
        const zero = { ...fits, directions: new Map([[0, new Float32Array(64)]]) };
        expect(cvError(() => validateControlVectorForModel(zero, model)).message).toMatch(/block 0 cannot be steered/);

        const arch = cvError(() => validateControlVectorForModel({ ...fits, modelHint: "qwen2" }, model, "x.gguf"));
        expect(arch.code).toBe("ARCH_MISMATCH");
        expect(arch.message).toBe(`vector "x.gguf" was made for architecture "qwen2" but the model is "llama"`);
        // No hint: nothing to compare.
        expect(() => validateControlVectorForModel({ ...fits, modelHint: "" }, model)).not.toThrow();

        const ragged = { ...fits, directions: new Map([[2, new Float32Array(63)]]) };
        expect(cvError(() => validateControlVectorForModel(ragged, model)).code).toBe("WIDTH_MISMATCH");
    });
});

describe("files written by llama.cpp", () => {
    it.skipIf(!existsSync(SINE_PATH))(`reads llama.cpp's synthetic_sine.gguf exactly (needs ${SINE_PATH})`, () => {
        const bytes = readFileSync(SINE_PATH);
        const cv = parseControlVector(bytes, "synthetic_sine.gguf");
        expect(cv.modelHint).toBe("llama");
        expect(cv.nEmbd).toBe(64);
        expect([...cv.directions.keys()]).toEqual([1, 2, 3, 4]);
        for (const [n, d] of cv.directions) {
            const expected = Float32Array.from({ length: 64 }, (_, i) => 0.5 * Math.sin(0.37 * (i + 1) + 1.3 * n));
            expect(bits(d)).toEqual(bits(expected));
        }
        expect(readGguf(bytes).get("controlvector.layer_count")).toEqual({ type: "int32", value: 4 });
        // Our encoder writes the same bytes as llama.cpp's cvector-generator.
        expect(Buffer.from(encodeControlVector(cv)).equals(bytes)).toBe(true);
    });

    it.skipIf(!existsSync(STORIES_PATH))(`reads stories260K.gguf and writes it back byte for byte (needs ${STORIES_PATH})`, async () => {
        const file = await readGgufFile(STORIES_PATH);
        expect(file.architecture).toBe("llama");
        expect(file.getNumber("llama.block_count")).toBe(5);
        expect(file.getNumber("llama.embedding_length")).toBe(64);
        expect(file.getNumber("llama.attention.head_count_kv")).toBe(4);
        expect(file.tensors).toHaveLength(48);
        expect(file.tensor("token_embd.weight")?.dims).toEqual([64, 512]);
        const rewritten = writeGguf({
            metadata: file.metadata,
            tensors: file.tensors.map((t) => ({ name: t.name, dims: t.dims, type: "raw", ggmlType: t.type, bytes: file.tensorBytes(t.name) }))
        });
        expect(Buffer.from(rewritten).equals(readFileSync(STORIES_PATH))).toBe(true);
    });

    it.skipIf(!existsSync(TINY_RANDOM_PATH))(`reads llama-2-tiny-random.gguf (F16, 32k tokens) (needs ${TINY_RANDOM_PATH})`, async () => {
        const header = await readGgufFile(TINY_RANDOM_PATH, { tensorData: false });
        const tokens = header.get("tokenizer.ggml.tokens");
        expect(tokens?.type === "array" && tokens.value.length).toBe(32000);
        expect(header.getNumber("general.file_type")).toBe(1);
        const file = await readGgufFile(TINY_RANDOM_PATH);
        const f16 = file.tensors.find((t) => t.typeName === "F16")!;
        expect(file.tensorFloat32(f16.name)).toHaveLength(f16.nElements);
        const rewritten = writeGguf({
            metadata: file.metadata,
            tensors: file.tensors.map((t) => ({ name: t.name, dims: t.dims, type: "raw", ggmlType: t.type, bytes: file.tensorBytes(t.name) }))
        });
        expect(Buffer.from(rewritten).equals(readFileSync(TINY_RANDOM_PATH))).toBe(true);
    });
});

describe("random model files", () => {
    const options = { nLayer: 2, nEmbd: 16, nHead: 4, nHeadKv: 2, nVocab: 400, type: "f16", seed: 7 } as const;

    it("has llama.cpp's metadata and tensor shapes", () => {
        const file = readGguf(encodeRandomModel(options));
        expect(file.architecture).toBe("llama");
        expect(file.getNumber("llama.block_count")).toBe(2);
        expect(file.getNumber("llama.embedding_length")).toBe(16);
        expect(file.getNumber("llama.feed_forward_length")).toBe(64);
        expect(file.getNumber("llama.attention.head_count")).toBe(4);
        expect(file.getNumber("llama.attention.head_count_kv")).toBe(2);
        expect(file.getNumber("llama.rope.dimension_count")).toBe(4);
        expect(file.getNumber("general.file_type")).toBe(1);
        const shape = (name: string) => [file.tensor(name)?.dims, file.tensor(name)?.typeName];
        expect(shape("token_embd.weight")).toEqual([[16, 400], "F16"]);
        expect(shape("output.weight")).toEqual([[16, 400], "F16"]);
        expect(shape("output_norm.weight")).toEqual([[16], "F32"]);
        expect(shape("blk.1.attn_q.weight")).toEqual([[16, 16], "F16"]);
        expect(shape("blk.1.attn_k.weight")).toEqual([[16, 8], "F16"]);
        expect(shape("blk.1.attn_v.weight")).toEqual([[16, 8], "F16"]);
        expect(shape("blk.1.attn_output.weight")).toEqual([[16, 16], "F16"]);
        expect(shape("blk.0.ffn_gate.weight")).toEqual([[16, 64], "F16"]);
        expect(shape("blk.0.ffn_up.weight")).toEqual([[16, 64], "F16"]);
        expect(shape("blk.0.ffn_down.weight")).toEqual([[64, 16], "F16"]);
        expect(shape("blk.0.ffn_norm.weight")).toEqual([[16], "F32"]);
        expect(file.tensors).toHaveLength(3 + 2 * 9);
        expect(Array.from(file.tensorFloat32("blk.0.attn_norm.weight"))).toEqual(new Array(16).fill(1));
        const w = file.tensorFloat32("token_embd.weight");
        const mean = w.reduce((a, b) => a + b, 0) / w.length;
        const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
        expect(Math.abs(mean)).toBeLessThan(0.002);
        expect(std).toBeGreaterThan(0.018);
        expect(std).toBeLessThan(0.022);
    });

    it("is deterministic in its seed", () => {
        const a = encodeRandomModel(options);
        expect(Buffer.from(encodeRandomModel(options)).equals(a)).toBe(true);
        expect(Buffer.from(encodeRandomModel({ ...options, seed: 8 })).equals(a)).toBe(false);
    });

    it("builds a unique SentencePiece vocabulary of any size", () => {
        for (const n of [260, 300, 1000, 5000]) {
            const t = buildRandomModelTokenizer(n);
            expect(t.tokens).toHaveLength(n);
            expect(t.scores).toHaveLength(n);
            expect(t.tokenTypes).toHaveLength(n);
            expect(new Set(t.tokens).size).toBe(n);
        }
        const t = buildRandomModelTokenizer(300);
        expect(t.tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
        expect(t.tokens[258]).toBe("<0xFF>");
        expect(t.tokenTypes.slice(0, 4)).toEqual([2, 3, 3, 6]);
        expect(t.tokens[259]).toBe("\u2581");
    });

    it("validates its options with clear messages", () => {
        const bad: Array<[object, RegExp]> = [
            [{ nVocab: 259 }, /nVocab 259 is too small/],
            [{ nEmbd: 18 }, /nEmbd 18 is not a multiple of nHead 4/],
            [{ nEmbd: 12 }, /head size .* = 3 must be even/],
            [{ nHeadKv: 3 }, /nHeadKv 3 does not divide nHead 4/],
            [{ nLayer: 0 }, /nLayer must be a positive integer/],
            [{ type: "q4" }, /type must be "f32" or "f16"/],
            [{ seed: 1.5 }, /seed must be an integer/]
        ];
        for (const [over, message] of bad) {
            const e = expectGgufCode(() => encodeRandomModel({ ...options, ...over } as typeof options), "INVALID_ARGUMENT");
            expect(e.message).toMatch(message);
        }
    });
});
