// Unit tests of engine/io/npy.ts: the header byte for byte as numpy's np.save writes it, exact
// round trips of every dtype, and clear errors.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeNpy, encodeNpy, writeNpyFile } from "../../engine/io/npy.js";
import { TillerError } from "../../engine/protocol/TillerError.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "tiller-npy-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ascii = (bytes: Uint8Array) => String.fromCharCode(...bytes);

function tillerErrorOf(fn: () => unknown): TillerError {
    try {
        fn();
    } catch (e) {
        expect(e).toBeInstanceOf(TillerError);
        return e as TillerError;
    }
    throw new Error("expected a TillerError");
}

describe("encodeNpy", () => {
    it("writes the header numpy writes for np.arange(6, dtype='<f4').reshape(2, 3)", () => {
        // The bytes of np.save (numpy 2.4): magic, version 1.0, header_len 0x76 = 118, so that
        // 10 + 118 = 128 is a multiple of 64; the dict, 57 spaces, "\n"; then 6 × 4 data bytes.
        const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        const header = dict + " ".repeat(118 - dict.length - 1) + "\n";
        const expected = new Uint8Array(128 + 24);
        expected.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76, 0x00]);
        for (let i = 0; i < header.length; i++) expected[10 + i] = header.charCodeAt(i);
        expected.set(new Uint8Array(Float32Array.from([0, 1, 2, 3, 4, 5]).buffer), 128);

        const bytes = encodeNpy(Float32Array.from([0, 1, 2, 3, 4, 5]), [2, 3]);
        expect(bytes.length).toBe(152);
        expect(ascii(bytes.subarray(0, 6))).toBe("\x93NUMPY");
        expect([...bytes.subarray(6, 10)]).toEqual([1, 0, 118, 0]);
        expect(ascii(bytes.subarray(10, 128))).toBe(header);
        expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
    });

    it("writes a 1-D shape as (n,), a scalar as (), and pads every header to a multiple of 64", () => {
        const oneD = encodeNpy(new Float64Array(5), [5]);
        expect(ascii(oneD.subarray(10, 10 + oneD[8]!))).toMatch(/^\{'descr': '<f8', 'fortran_order': False, 'shape': \(5,\), \} +\n$/);
        expect(oneD.length).toBe(128 + 40); // numpy: 168 bytes for np.arange(5.0)
        const scalar = encodeNpy(Int32Array.from([7]), []);
        expect(ascii(scalar.subarray(10, 10 + scalar[8]!))).toContain("'shape': (), }");
        for (const shape of [[0], [1, 2, 3, 4], [123456789, 0], [3]]) {
            const count = shape.reduce((a, b) => a * b, 1);
            const bytes = encodeNpy(new Uint8Array(count), shape);
            const headerLength = bytes[8]! | (bytes[9]! << 8);
            expect((10 + headerLength) % 64).toBe(0);
            expect(bytes[10 + headerLength - 1]).toBe(0x0a);
        }
        expect(ascii(encodeNpy(new Uint8Array(3), [3]).subarray(10, 30))).toBe("{'descr': '|u1', 'fo");
    });

    it("rejects a shape that does not match the data, and invalid dimensions", () => {
        const mismatch = tillerErrorOf(() => encodeNpy(new Float32Array(5), [2, 3]));
        expect(mismatch.code).toBe("INVALID_ARGUMENT");
        expect(mismatch.message).toBe("npy: shape (2, 3) holds 6 elements but the data has 5");
        expect(tillerErrorOf(() => encodeNpy(new Float32Array(0), [-1, 0])).message).toMatch(/invalid dimension -1/);
        expect(tillerErrorOf(() => encodeNpy(new Float32Array(2), [1.5, 2])).code).toBe("INVALID_ARGUMENT");
    });
});

describe("decodeNpy", () => {
    const cases = [
        { name: "<f4", data: Float32Array.from([0, -1.5, Math.PI, 1e-30, -0, Number.MAX_VALUE / 1e300]), shape: [2, 3] },
        { name: "<f8", data: Float64Array.from([Math.PI, -Math.E, 1e-300, Number.MIN_VALUE, -0]), shape: [5] },
        { name: "<i4", data: Int32Array.from([0, -1, 2 ** 31 - 1, -(2 ** 31), 42, 7, 8, 9]), shape: [2, 2, 2] },
        { name: "|u1", data: Uint8Array.from([0, 1, 127, 128, 255]), shape: [5] }
    ] as const;
    for (const { name, data, shape } of cases) {
        it(`round-trips ${name} exactly`, () => {
            const decoded = decodeNpy(encodeNpy(data, shape));
            expect(decoded.dtype).toBe(name);
            expect(decoded.shape).toEqual(shape);
            expect(decoded.data.constructor).toBe(data.constructor);
            const bytesOf = (a: typeof data | typeof decoded.data) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
            expect(bytesOf(decoded.data).equals(bytesOf(data))).toBe(true);
        });
    }

    it("round-trips zero rows and a data view at an odd offset", () => {
        const empty = decodeNpy(encodeNpy(new Float32Array(0), [0, 4]));
        expect(empty.shape).toEqual([0, 4]);
        expect(empty.data.length).toBe(0);
        // A Float32Array view into a larger buffer, and bytes that start at an odd offset.
        const big = Float32Array.from([9, 1, 2, 3, 9]);
        const encoded = encodeNpy(big.subarray(1, 4), [3]);
        const shifted = new Uint8Array(encoded.length + 1);
        shifted.set(encoded, 1);
        expect([...decodeNpy(shifted.subarray(1)).data]).toEqual([1, 2, 3]);
    });

    it("reports what is wrong with a file it cannot read", () => {
        expect(tillerErrorOf(() => decodeNpy(new TextEncoder().encode("not numpy at all"))).message).toMatch(/magic/);
        const good = encodeNpy(Float32Array.from([1, 2, 3]), [3]);
        expect(tillerErrorOf(() => decodeNpy(good.subarray(0, good.length - 1))).message)
            .toMatch(/needs 12 bytes of data but the file has 11/);
        const bigEndian = encodeNpy(Float32Array.from([1, 2, 3]), [3]);
        bigEndian[10 + 11] = ">".charCodeAt(0); // {'descr': '<f4' → '>f4'
        const error = tillerErrorOf(() => decodeNpy(bigEndian, "x.npy"));
        expect(error.code).toBe("INVALID_ARGUMENT");
        expect(error.message).toMatch(/"x\.npy" .*dtype '>f4' is not supported/);
    });
});

describe("writeNpyFile", () => {
    it("writes a file that decodes to the same array", async () => {
        const file = path.join(tmp, "a.npy");
        await writeNpyFile(file, Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
        const decoded = decodeNpy(readFileSync(file));
        expect(decoded.shape).toEqual([3, 2]);
        expect([...decoded.data]).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it("fails with FILE_NOT_FOUND when the folder does not exist, leaving nothing behind", async () => {
        await expect(writeNpyFile(path.join(tmp, "missing", "a.npy"), new Float32Array(1), [1]))
            .rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    });
});

// Cross-check with numpy itself where python3 has it (it is not a dependency: skipped otherwise).
const hasNumpy = spawnSync("python3", ["-c", "import numpy"], { stdio: "ignore" }).status === 0;

describe.skipIf(!hasNumpy)("numpy interop (python3 with numpy)", () => {
    it("np.save writes the bytes encodeNpy writes, and np.load reads what writeNpyFile writes", async () => {
        const file = path.join(tmp, "from-tiller.npy");
        await writeNpyFile(file, Int32Array.from([1, -2, 3, -4, 5, -6]), [3, 2]);
        const script = [
            "import numpy as np, sys",
            "a = np.load(sys.argv[1]); print(a.dtype.str, a.shape, a.ravel().tolist())",
            "np.save(sys.argv[2], np.arange(6, dtype='<f4').reshape(2, 3))",
            "np.save(sys.argv[3], np.arange(5, dtype='<f8'))",
            "np.save(sys.argv[4], np.zeros((0, 4), dtype='<i4'))",
            "np.save(sys.argv[5], np.arange(3, dtype='u1'))"
        ].join("\n");
        const out = ["f4.npy", "f8.npy", "i4.npy", "u1.npy"].map((f) => path.join(tmp, f));
        const run = spawnSync("python3", ["-c", script, file, ...out], { encoding: "utf8" });
        expect(run.stderr).toBe("");
        expect(run.stdout.trim()).toBe("<i4 (3, 2) [1, -2, 3, -4, 5, -6]");
        const ours = [
            encodeNpy(Float32Array.from([0, 1, 2, 3, 4, 5]), [2, 3]),
            encodeNpy(Float64Array.from([0, 1, 2, 3, 4]), [5]),
            encodeNpy(new Int32Array(0), [0, 4]),
            encodeNpy(Uint8Array.from([0, 1, 2]), [3])
        ];
        for (const [i, f] of out.entries())
            expect(Buffer.from(ours[i]!).equals(readFileSync(f))).toBe(true);
    });
});
