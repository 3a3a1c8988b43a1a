// The GGUF reader's defences, each against the file that used to get through: huge metadata arrays
// (decoded lazily, so a control vector does not pay for them), a file shorter than its size claims
// (used to loop for ever), overlapping tensor data, two spellings of one direction.N, absurd layers.
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_LAYER_INDEX, parseControlVector } from "../../engine/gguf/ControlVectorFile.js";
import { readGguf, readGgufFile } from "../../engine/gguf/GgufReader.js";
import { ggufArrayLength } from "../../engine/gguf/GgufValue.js";
import { writeGguf, type GgufTensorInput } from "../../engine/gguf/GgufWriter.js";

v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

const direction = (layer: string, values: number[]): GgufTensorInput => ({ name: `direction.${layer}`, dims: [values.length], type: "f32", data: Float32Array.from(values) });
const controlVector = (tensors: GgufTensorInput[], extra: [string, never][] = []) =>
    writeGguf({ metadata: [["general.architecture", "controlvector"], ["controlvector.model_hint", "llama"], ...extra], tensors });

describe("GGUF reader hardening", () => {
    let dir: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-gguf-hard-"));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("reads a vector carrying an 8 M-item metadata array without decoding it (heap grows by far less than the 62 MiB it used to)", () => {
        const items = 8 * 1024 * 1024;
        const bytes = controlVector([direction("1", [1, 2, 3, 4])], [["tiller.blob", { type: "array", itemType: "uint8", value: new Array<number>(items).fill(7) } as never]]);
        collectGarbage();
        const before = process.memoryUsage().heapUsed;
        const vector = parseControlVector(bytes);
        const file = readGguf(bytes);
        collectGarbage();
        const growth = process.memoryUsage().heapUsed - before;
        expect(vector.directions.get(1)).toEqual(Float32Array.from([1, 2, 3, 4]));
        expect(growth).toBeLessThan(8 * 1024 * 1024);
        // still there, and decoded when asked for
        const blob = file.get("tiller.blob")!;
        expect(blob.type).toBe("array");
        if (blob.type === "array") {
            expect(ggufArrayLength(blob)).toBe(items);
            expect(blob.value.length).toBe(items);
            expect(blob.value[items - 1]).toBe(7);
        }
    });

    it("a long array of strings is checked (a cut one fails) but only decoded on access", () => {
        const tokens = Array.from({ length: 5000 }, (_, i) => `tok${i}`);
        const bytes = writeGguf({ metadata: [["general.architecture", "llama"], ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: tokens }]] });
        const file = readGguf(bytes);
        const read = file.get("tokenizer.ggml.tokens")!;
        expect(read.type === "array" && ggufArrayLength(read)).toBe(5000);
        expect(read.value).toEqual(tokens);
        expect(() => readGguf(bytes.subarray(0, bytes.length - 3))).toThrow(/truncated/);
    });

    it("fails, instead of looping for ever, when a file is shorter than its size claims", async () => {
        const bytes = controlVector([direction("1", [1, 2])]);
        const file = path.join(dir, "short.gguf");
        fs.writeFileSync(file, bytes.subarray(0, 40)); // ends inside the metadata
        const realOpen = fsp.open.bind(fsp);
        const spy = vi.spyOn(fsp, "open").mockImplementation((async (...args: Parameters<typeof fsp.open>) => {
            const handle = await realOpen(...args);
            const realStat = handle.stat.bind(handle);
            // the size a file had when it was listed, before it was cut (or a special file's claim)
            handle.stat = (async () => ({ ...(await realStat()), size: bytes.length })) as typeof handle.stat;
            return handle;
        }) as typeof fsp.open);
        try {
            const outcome = await Promise.race([
                readGgufFile(file, { tensorData: false }).then(() => "read", (error: Error) => error.message),
                new Promise<string>((resolve) => setTimeout(() => resolve("still reading after 5 s"), 5_000))
            ]);
            expect(outcome).toMatch(/truncated/);
        } finally {
            spy.mockRestore();
        }
    });

    it("rejects tensors whose data overlap, as llama.cpp does", () => {
        const bytes = controlVector([direction("1", Array.from({ length: 16 }, (_, i) => i)), direction("2", Array.from({ length: 16 }, (_, i) => -i))]);
        const name = Buffer.from("direction.2");
        const at = Buffer.from(bytes).indexOf(name) + name.length + 4 + 8 + 4; // n_dims, dims[0], type, then the offset
        const view = new DataView(bytes.buffer, bytes.byteOffset);
        expect(view.getBigUint64(at, true)).toBe(64n);
        view.setBigUint64(at, 32n, true); // direction.2 now starts inside direction.1
        expect(() => readGguf(bytes)).toThrow(/"direction\.1".*"direction\.2".*overlap/);
    });

    it("adds direction.1 and direction.01 together, as llama.cpp does, instead of keeping one", () => {
        const vector = parseControlVector(controlVector([direction("1", [1, 2, 3]), direction("01", [10, 20, 30]), direction("2", [5, 5, 5])]));
        expect([...vector.directions.keys()]).toEqual([1, 2]);
        expect(vector.directions.get(1)).toEqual(Float32Array.from([11, 22, 33]));
    });

    it("refuses absurd layer indices (the .npy export would have sized its output by them)", () => {
        expect(() => parseControlVector(controlVector([direction("999999999", [1, 2])]))).toThrow(/layer 999999999, beyond any model/);
        expect(() => parseControlVector(controlVector([direction(String(MAX_LAYER_INDEX + 1), [1, 2])]))).toThrow(/beyond any model/);
        expect(parseControlVector(controlVector([direction(String(MAX_LAYER_INDEX), [1, 2])])).directions.has(MAX_LAYER_INDEX)).toBe(true);
    });
});
