// Calibrated read-outs: the calibration round-trips through the library's llama.cpp control-vector
// files (a tiller.* key, so the file stays what llama.cpp reads), a damaged or absent key is no
// calibration, derived vectors drop it (it would be false of them), and the projection reader
// reports σ units next to the raw projection.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readControlVectorFile } from "../../engine/gguf/ControlVectorFile.js";
import { ProjectionReader } from "../../engine/runtime/ProjectionReader.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import { CALIBRATION_KEY, decodeCalibration, encodeCalibration } from "../../engine/runtime/vectorCalibration.js";
import { VectorLibrary } from "../../engine/vectors/library/VectorLibrary.js";

const calibrated: SteeringVector = {
    name: "calibrated", nEmbd: 2,
    directions: new Map([[1, Float32Array.of(0, 2)], [2, Float32Array.of(1, 0)]]),
    calibration: new Map([[1, { midpoint: -3.5, sigma: 2 }], [2, { midpoint: 10, sigma: 0.5 }]])
};

describe("vector calibration", () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), "tiller-calibration-"));
    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    it("encodes and decodes per layer; anything malformed reads as no calibration", () => {
        const text = encodeCalibration(calibrated.calibration!);
        expect(decodeCalibration({ [CALIBRATION_KEY]: text })).toEqual(calibrated.calibration);
        expect(decodeCalibration(undefined)).toBeUndefined();
        expect(decodeCalibration({ [CALIBRATION_KEY]: "{not json" })).toBeUndefined();
        expect(decodeCalibration({ [CALIBRATION_KEY]: JSON.stringify({ version: 1, layers: { 1: { midpoint: 0, sigma: 0 } } }) })).toBeUndefined();
        for (const malformed of [{ version: 2, layers: {} }, { version: 1 }, { version: 1, layers: [] }, { version: 1, layers: { x: { midpoint: 0, sigma: 1 } } },
            { version: 1, layers: { 1: { midpoint: "0", sigma: 1 } } }, { version: 1, layers: { 1: { midpoint: 0, sigma: -1 } } }, { version: 1, layers: { 1: null } }, null, 7])
            expect(decodeCalibration({ [CALIBRATION_KEY]: JSON.stringify(malformed) })).toBeUndefined();
        expect(decodeCalibration({ [CALIBRATION_KEY]: JSON.stringify({ version: 1, layers: { 3: { midpoint: -1.5, sigma: 2, extra: true } } }) }))
            .toEqual(new Map([[3, { midpoint: -1.5, sigma: 2 }]]));
    });

    it("travels with a vector through the library's file, and a derived vector has none", async () => {
        const library = new VectorLibrary(folder);
        const entry = await library.add(calibrated);
        const file = await readControlVectorFile(path.join(folder, `${entry.id}.gguf`));
        expect(file.metadata?.[CALIBRATION_KEY]).toBe(encodeCalibration(calibrated.calibration!));
        expect((await library.get(entry.id)).vector.calibration).toEqual(calibrated.calibration);
        const negated = await library.negate(entry.id);
        expect((await library.get(negated.id)).vector.calibration).toBeUndefined();
    });

    it("the projection reader gives σ units where the vector is calibrated", () => {
        const reader = new ProjectionReader([{ vector: calibrated }, { name: "bare", vector: { ...calibrated, calibration: undefined } }], { nLayer: 3, nEmbd: 2 });
        const captured = new Map([[1, { rows: 1, data: Float32Array.of(0, 0.5) }], [2, { rows: 1, data: Float32Array.of(11, 0) }]]);
        const read = reader.read(captured, 0);
        expect(read.find((p) => p.probe === "calibrated" && p.layer === 1)).toMatchObject({ dot: 0.5, sigma: 2 }); // (0.5 + 3.5) / 2
        expect(read.find((p) => p.probe === "calibrated" && p.layer === 2)).toMatchObject({ dot: 11, sigma: 2 }); // (11 − 10) / 0.5
        expect(read.find((p) => p.probe === "bare")!.sigma).toBeUndefined();
    });
});
