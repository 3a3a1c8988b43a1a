// The native temperature scan of a row (engine/probes/rowTemperatureScan.ts) against the
// JavaScript reference (thermodynamics.ts temperatureScan) on the same logits, on stories260K and on
// a random model with a 32k vocabulary, over a grid that crosses T = 1.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeRandomModelFile } from "../../engine/gguf/RandomModelFile.js";
import { rowTemperatureScan } from "../../engine/probes/rowTemperatureScan.js";
import { parseTemperatureGrid, temperatureScan } from "../../engine/probes/thermodynamics.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const grid = [...parseTemperatureGrid("0.05:5:24"), 1].sort((a, b) => a - b);

function expectClose(got: number, want: number, relative: number, absolute: number) {
    expect(Math.abs(got - want)).toBeLessThanOrEqual(Math.max(absolute, relative * Math.abs(want)));
}

async function compareOnModel(modelPath: string, prompt: string) {
    const model = await TillerModel.load(modelPath, { gpuLayers: 0 });
    try {
        const context = await model.createContext({ threads: 1, contextSize: 64 });
        const tokens = model.tokenize(prompt);
        await context.evaluate(tokens, { startPosition: 0, logits: "all" });
        for (let row = 0; row < tokens.length; row++) {
            const token = tokens[(row + 1) % tokens.length]!;
            const want = temperatureScan(context.logits(row), grid, token);
            const got = rowTemperatureScan(context, row, grid, token);
            expect(got.temperatures).toEqual(want.temperatures);
            expect(got.logitGap).toBeCloseTo(want.logitGap!, 5);
            for (let k = 0; k < grid.length; k++) {
                // float exponentials, double sums: ~1e-6 absolute, as generation's read-outs
                expectClose(got.entropy[k]!, want.entropy[k]!, 1e-5, 1e-6);
                expectClose(got.freeEnergy[k]!, want.freeEnergy[k]!, 1e-5, 1e-6);
                expectClose(got.meanEnergy[k]!, want.meanEnergy[k]!, 1e-5, 1e-6);
                expectClose(got.heatCapacity[k]!, want.heatCapacity[k]!, 1e-4, 1e-6);
                expectClose(got.surprisal![k]!, want.surprisal![k]!, 1e-5, 1e-6);
            }
            if (want.heatCapacityPeak == null)
                expect(got.heatCapacityPeak).toBeNull();
            else
                expectClose(got.heatCapacityPeak!.temperature, want.heatCapacityPeak.temperature, 1e-3, 1e-6);
        }
    } finally {
        await model.dispose();
    }
}

describe("native temperature scan of a row", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-row-scan-"));
    const randomPath = path.join(dir, "random-32k.gguf");
    beforeAll(async () => {
        await writeRandomModelFile(randomPath, { nLayer: 2, nEmbd: 64, nHead: 2, nVocab: 32768, type: "f32", seed: 5 });
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it.skipIf(missing(sharedFiles.stories260K))("matches the JavaScript scan on stories260K", async () => {
        await compareOnModel(sharedFiles.stories260K, "Once upon a time there was a little girl");
    });

    it("matches the JavaScript scan at a 32k vocabulary", async () => {
        await compareOnModel(randomPath, "the lab measured every token");
    });
});
