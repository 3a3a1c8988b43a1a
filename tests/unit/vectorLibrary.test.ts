// Unit tests of engine/vectors/library: the vector library in a temporary folder (files are
// llama.cpp control vectors with tiller.* keys), derived vectors, cosine matrices, import/export.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { parseControlVector, readControlVectorFile } from "../../engine/gguf/ControlVectorFile.js";
import { writeGguf } from "../../engine/gguf/GgufWriter.js";
import { decodeNpy } from "../../engine/io/npy.js";
import { sha256OfFile } from "../../engine/io/sha256File.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import { VectorLibrary } from "../../engine/vectors/library/VectorLibrary.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { sineVector } from "../support/sineVector.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "tiller-library-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let folder: string;
let library: VectorLibrary;
let counter = 0;
beforeEach(() => {
    folder = path.join(tmp, `lib-${counter++}`, "nested");
    library = new VectorLibrary(folder);
});

const SHA = "ab".repeat(32);

/** A small vector: layer l has values f(l, i). */
function vector(name: string, layers: number[], nEmbd: number, f: (layer: number, i: number) => number): SteeringVector {
    return { name, nEmbd, directions: new Map(layers.map((l) => [l, Float32Array.from({ length: nEmbd }, (_, i) => f(l, i))])) };
}

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function expectSameDirections(actual: ReadonlyMap<number, Float32Array>, expected: ReadonlyMap<number, Float32Array>): void {
    expect([...actual.keys()]).toEqual([...expected.keys()].sort((a, b) => a - b));
    for (const [layer, direction] of expected)
        expect(bytesOf(actual.get(layer)!).equals(bytesOf(direction)), `layer ${layer}`).toBe(true);
}

describe("VectorLibrary: storage", () => {
    it("adds, lists and gets a vector with its exact floats and metadata", async () => {
        const v = vector("happy", [3, 1, 2], 5, (l, i) => Math.fround(Math.sin(l * 7 + i) / 3) + 1e-7 * i);
        const entry = await library.add(v, {
            modelHint: "llama", sourceDataset: "happy-sad.jsonl", method: "pca-diff", readAt: "last", modelSha256: SHA, notes: "n"
        });
        expect(entry.id).toMatch(/^[0-9a-f]{16}$/);
        expect(entry).toMatchObject({ name: "happy", nEmbd: 5, modelHint: "llama", layers: [1, 2, 3] });
        expect(entry.metadata).toMatchObject({ sourceDataset: "happy-sad.jsonl", method: "pca-diff", readAt: "last", modelSha256: SHA, notes: "n" });
        expect(Number.isNaN(Date.parse(entry.metadata.createdAt))).toBe(false);
        expect(entry.norms[2]).toBeCloseTo(Math.hypot(...v.directions.get(2)!), 12);

        const { entries, problems } = await library.list();
        expect(problems).toEqual([]);
        expect(entries).toEqual([entry]);

        const got = await library.get(entry.id);
        expect(got.entry).toEqual(entry);
        expect(got.vector.name).toBe("happy");
        expect(got.vector.nEmbd).toBe(5);
        expectSameDirections(got.vector.directions, v.directions);

        // The file is a plain llama.cpp control vector with tiller.* keys.
        expect(readdirSync(folder)).toEqual([`${entry.id}.gguf`]);
        const cv = parseControlVector(readFileSync(path.join(folder, `${entry.id}.gguf`)));
        expect(cv.modelHint).toBe("llama");
        expect(cv.metadata).toMatchObject({
            "tiller.name": "happy", "tiller.source_dataset": "happy-sad.jsonl", "tiller.method": "pca-diff",
            "tiller.read_at": "last", "tiller.model_sha256": SHA, "tiller.created_at": entry.metadata.createdAt
        });
    });

    it("renames persistently: a new VectorLibrary on the same folder sees the new name", async () => {
        const entry = await library.add(sineVector("before"), { createdAt: "2025-01-02T03:04:05.000Z" });
        const renamed = await library.rename(entry.id, "after");
        expect(renamed).toMatchObject({ id: entry.id, name: "after", metadata: { createdAt: "2025-01-02T03:04:05.000Z" } });
        const reopened = new VectorLibrary(folder);
        const { entries } = await reopened.list();
        expect(entries.map((e) => [e.id, e.name])).toEqual([[entry.id, "after"]]);
        expectSameDirections((await reopened.get(entry.id)).vector.directions, sineVector().directions);
    });

    it("deletes", async () => {
        const a = await library.add(sineVector("a"));
        const b = await library.add(sineVector("b"));
        await library.delete(a.id);
        expect((await library.list()).entries.map((e) => e.id)).toEqual([b.id]);
        await expect(library.get(a.id)).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
        await expect(library.delete(a.id)).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    });

    it("reports a garbage or foreign .gguf file in problems and still lists the others", async () => {
        const good = await library.add(sineVector("good"));
        writeFileSync(path.join(folder, "garbage.gguf"), "this is not a gguf file");
        writeFileSync(path.join(folder, "bad name!.gguf"), "x");
        writeFileSync(path.join(folder, "notes.txt"), "ignored: not a .gguf file");
        const { entries, problems } = await library.list();
        expect(entries.map((e) => e.id)).toEqual([good.id]);
        expect(problems.map((p) => p.file).sort()).toEqual(["bad name!.gguf", "garbage.gguf"]);
        expect(problems.find((p) => p.file === "garbage.gguf")!.message).toMatch(/not a GGUF/);
        await expect(library.get("garbage")).rejects.toMatchObject({ code: "NOT_GGUF" });
    });

    it.skipIf(missing(sharedFiles.paritySineVector))("lists a plain llama.cpp vector dropped into the folder under its file name", async () => {
        writeFileSync(path.join(folder, "sine.gguf"), readFileSync(sharedFiles.paritySineVector));
        const { entries, problems } = await library.list();
        expect(problems).toEqual([]);
        expect(entries).toHaveLength(1);
        expect(entries[0]).toMatchObject({ id: "sine", name: "sine", nEmbd: 64, modelHint: "llama", layers: [1, 2, 3, 4] });
    });

    it("rejects unknown ids, empty names and malformed vectors", async () => {
        for (const id of ["0123456789abcdef", "../etc/passwd", ""]) {
            const error = await library.get(id).catch((e: unknown) => e);
            expect(error).toMatchObject({ code: "FILE_NOT_FOUND", message: expect.stringContaining(`no vector with id "${id}"`) });
        }
        await expect(library.rename("nope", "x")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
        const entry = await library.add(sineVector());
        await expect(library.rename(entry.id, "  ")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(library.add({ name: "w", nEmbd: 3, directions: new Map([[1, new Float32Array(4)]]) }))
            .rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(library.add({ name: "zero", nEmbd: 3, directions: new Map([[0, new Float32Array(3)]]) }))
            .rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(library.add({ name: "nan", nEmbd: 1, directions: new Map([[1, Float32Array.from([Number.NaN])]]) }))
            .rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(library.add(sineVector(), { modelSha256: "not-a-hash" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    });
});

describe("VectorLibrary: derived vectors", () => {
    const v = vector("v", [1, 2], 3, (l, i) => l * 10 + i + 0.25); // layer 1: 10.25 11.25 12.25
    const w = vector("w", [2, 3], 3, (l, i) => (i === 1 ? l : 0));

    it("negates, scales and normalizes into new entries that record derivedFrom", async () => {
        const source = await library.add(v, { modelHint: "llama", method: "mean", modelSha256: SHA, notes: "only on the source" });

        const negated = await library.negate(source.id);
        expect(negated).toMatchObject({ name: "negate(v)", modelHint: "llama", metadata: { derivedFrom: `negate(${source.id})`, method: "mean", modelSha256: SHA } });
        expect(negated.metadata.notes).toBeUndefined();
        expect([...(await library.get(negated.id)).vector.directions.get(1)!]).toEqual([-10.25, -11.25, -12.25]);

        const scaled = await library.scale(source.id, 0.5, "half");
        expect(scaled).toMatchObject({ name: "half", metadata: { derivedFrom: `scale(${source.id}, 0.5)` } });
        expect([...(await library.get(scaled.id)).vector.directions.get(2)!]).toEqual([10.125, 10.625, 11.125]);

        const unit = await library.normalize(source.id);
        expect(unit.metadata.derivedFrom).toBe(`normalize(${source.id})`);
        for (const layer of unit.layers) expect(unit.norms[layer]).toBeCloseTo(1, 6);
        const n1 = Math.hypot(10.25, 11.25, 12.25);
        expect([...(await library.get(unit.id)).vector.directions.get(1)!]).toEqual([10.25, 11.25, 12.25].map((x) => Math.fround(x / n1)));

        expect((await library.list()).entries).toHaveLength(4);
        // The source is untouched.
        expectSameDirections((await library.get(source.id)).vector.directions, v.directions);
    });

    it("keeps a zero layer zero when normalizing", async () => {
        const z = await library.add(vector("z", [1, 2], 2, (l) => (l === 1 ? 0 : 3)));
        const unit = await library.get((await library.normalize(z.id)).id);
        expect([...unit.vector.directions.get(1)!]).toEqual([0, 0]);
        expect([...unit.vector.directions.get(2)!]).toEqual([Math.fround(Math.SQRT1_2), Math.fround(Math.SQRT1_2)]);
    });

    it("rejects a non-finite scale factor", async () => {
        const source = await library.add(v);
        for (const factor of [Number.NaN, Number.POSITIVE_INFINITY])
            await expect(library.scale(source.id, factor)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(library.scale(source.id, 1e300)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" }); // float32 overflow
        expect((await library.list()).entries).toHaveLength(1);
    });

    it("sums with weights over the union of layers (a missing layer is zero)", async () => {
        const a = await library.add(v, { modelHint: "llama" });
        const b = await library.add(w, { modelHint: "llama" });
        const sum = await library.weightedSum([{ id: a.id, weight: 2 }, { id: b.id, weight: -1 }], "mix");
        expect(sum).toMatchObject({ name: "mix", modelHint: "llama", layers: [1, 2, 3], metadata: { derivedFrom: `weightedSum(2*${a.id}, -1*${b.id})` } });
        const d = (await library.get(sum.id)).vector.directions;
        expect([...d.get(1)!]).toEqual([20.5, 22.5, 24.5]);
        expect([...d.get(2)!]).toEqual([40.5, 40.5, 44.5]);
        expect([...d.get(3)!]).toEqual([0, -3, 0]);
    });

    it("refuses to sum vectors of different widths, unknown ids and bad weights", async () => {
        const a = await library.add(v);
        const wide = await library.add(vector("wide", [1], 4, () => 1));
        const error = await library.weightedSum([{ id: a.id, weight: 1 }, { id: wide.id, weight: 1 }], "bad").catch((e: unknown) => e);
        expect(error).toMatchObject({ code: "VECTOR_MISMATCH", message: expect.stringMatching(/width/) });
        await expect(library.weightedSum([{ id: "missing", weight: 1 }], "x")).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
        await expect(library.weightedSum([{ id: a.id, weight: Number.NaN }], "x")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(library.weightedSum([], "x")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        expect((await library.list()).entries).toHaveLength(2);
    });

    it("computes per-layer cosine matrices", async () => {
        const a = await library.add(vector("a", [1, 2], 4, (l, i) => Math.sin(l + i * 1.7)));
        const negA = await library.negate(a.id);
        const orthogonal = await library.add(vector("o", [1, 3], 4, (l, i) => (l === 1 ? [1, 0, 0, 0][i]! : 1)));
        const onlyFirst = await library.add(vector("e", [1], 4, (_, i) => [0, 2, 0, 0][i]!));
        const zero = await library.add(vector("zero", [2], 4, () => 0));

        // Layer 1: o = e₀ and e = 2·e₁ are orthogonal.
        const { ids, layers, matrices } = await library.cosineMatrix([a.id, negA.id, orthogonal.id, onlyFirst.id, zero.id]);
        expect(ids).toEqual([a.id, negA.id, orthogonal.id, onlyFirst.id, zero.id]);
        expect(layers).toEqual([1, 2, 3]);
        const m1 = matrices.get(1)!;
        expect(m1[0]![0]).toBeCloseTo(1, 12);
        expect(m1[0]![1]).toBeCloseTo(-1, 12);
        expect(m1[1]![0]).toBeCloseTo(-1, 12);
        expect(m1[2]![3]).toBe(0);
        expect(m1[0]![4]).toBeNaN(); // zero lacks layer 1
        const m2 = matrices.get(2)!;
        expect(m2[0]![1]).toBeCloseTo(-1, 12);
        expect(m2[2]![2]).toBeNaN(); // o lacks layer 2
        expect(m2[4]![4]).toBeNaN(); // zero norm
        expect(matrices.get(3)![2]![2]).toBe(1);
        for (const m of matrices.values()) {
            for (let i = 0; i < ids.length; i++) {
                for (let j = 0; j < ids.length; j++)
                    expect(Object.is(m[i]![j], m[j]![i])).toBe(true);
            }
        }
        await expect(library.cosineMatrix([a.id, (await library.add(vector("wide", [1], 5, () => 1))).id]))
            .rejects.toMatchObject({ code: "VECTOR_MISMATCH" });
    });
});

describe("VectorLibrary: import and export", () => {
    it.skipIf(missing(sharedFiles.paritySineVector))("imports llama.cpp's synthetic_sine.gguf and exports it bit-identically", async () => {
        const original = await readControlVectorFile(sharedFiles.paritySineVector);
        const entry = await library.importGguf(sharedFiles.paritySineVector);
        expect(entry).toMatchObject({ name: "synthetic_sine", nEmbd: 64, modelHint: "llama", layers: [1, 2, 3, 4] });
        expectSameDirections((await library.get(entry.id)).vector.directions, original.directions);
        // The documented values: direction.N[i] = 0.5·sin(0.37·(i+1) + 1.3·N), stored as F32.
        expectSameDirections(original.directions, sineVector().directions);

        const out = path.join(tmp, `exported-${counter}.gguf`);
        await library.exportGguf(entry.id, out);
        const exported = await readControlVectorFile(out);
        expect(exported.modelHint).toBe("llama");
        expect(exported.metadata?.["tiller.name"]).toBe("synthetic_sine");
        expectSameDirections(exported.directions, original.directions);

        // Re-importing keeps the name and metadata from the tiller.* keys.
        const again = await library.importGguf(out);
        expect(again.id).not.toBe(entry.id);
        expect(again.name).toBe("synthetic_sine");
        expect(again.metadata.createdAt).toBe(entry.metadata.createdAt);
    });

    it("imports a repeng-style vector (uint32 layer_count, no tiller keys)", async () => {
        const file = path.join(tmp, `repeng-${counter}.gguf`);
        writeFileSync(file, writeGguf({
            metadata: [
                ["general.architecture", "controlvector"],
                ["controlvector.model_hint", "mistral"],
                ["controlvector.layer_count", { type: "uint32", value: 2 }]
            ],
            tensors: [1, 2].map((n) => ({ name: `direction.${n}`, dims: [4], type: "f32" as const, data: Float32Array.from([n, -n, 0.5, 1e-3]) }))
        }));
        const entry = await library.importGguf(file);
        expect(entry).toMatchObject({ name: `repeng-${counter}`, nEmbd: 4, modelHint: "mistral", layers: [1, 2] });
        expect([...(await library.get(entry.id)).vector.directions.get(2)!]).toEqual([2, -2, 0.5, Math.fround(1e-3)]);
    });

    it("names an import from tiller.name, else the file name; reports bad files", async () => {
        const first = await library.add(sineVector("from-key"));
        const out = path.join(tmp, `named-${counter}.gguf`);
        await library.exportGguf(first.id, out);
        expect((await library.importGguf(out)).name).toBe("from-key");
        expect((await library.importGguf(out, { name: "override" })).name).toBe("override");

        await expect(library.importGguf(path.join(tmp, "absent.gguf"))).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
        const junk = path.join(tmp, `junk-${counter}.gguf`);
        writeFileSync(junk, "junk");
        await expect(library.importGguf(junk)).rejects.toMatchObject({ code: "NOT_GGUF" });
    });

    it("exports .npy as [maxLayer + 1, nEmbd] float32 with row k = llama.cpp layer k", async () => {
        const v = vector("npy", [2, 4], 3, (l, i) => l + i / 8);
        const entry = await library.add(v);
        const out = path.join(tmp, `v-${counter}.npy`);
        await library.exportNpy(entry.id, out);
        const array = decodeNpy(readFileSync(out));
        expect(array.dtype).toBe("<f4");
        expect(array.shape).toEqual([5, 3]);
        const row = (k: number) => [...array.data.subarray(k * 3, k * 3 + 3)];
        expect(row(0)).toEqual([0, 0, 0]); // block 0: never steered
        expect(row(1)).toEqual([0, 0, 0]); // layer the vector lacks
        expect(row(2)).toEqual([2, 2.125, 2.25]);
        expect(row(3)).toEqual([0, 0, 0]);
        expect(row(4)).toEqual([4, 4.125, 4.25]);
        await expect(library.exportNpy("nope", out)).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    });

    it("hashes a file with sha256OfFile", async () => {
        const file = path.join(tmp, "abc.txt");
        writeFileSync(file, "abc");
        expect(await sha256OfFile(file)).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        await expect(sha256OfFile(path.join(tmp, "absent"))).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    });
});
