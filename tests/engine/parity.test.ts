import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../../engine/runtime/generate.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const absent = missing(sharedFiles.stories260K) || missing(sharedFiles.parityGreedy);

describe.skipIf(absent)("parity with llama.cpp on stories260K", () => {
    let model: TillerModel;
    let context: TillerContext;

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 256 });
    });
    afterAll(async () => {
        await model?.dispose();
    });

    it("reproduces llama.cpp's greedy continuations under a control vector", async () => {
        const directions = new Map<number, Float32Array>();
        for (let n = 1; n <= 4; n++)
            directions.set(n, Float32Array.from({ length: 64 }, (_, i) => 0.5 * Math.sin(0.37 * (i + 1) + 1.3 * n)));
        const vector: SteeringVector = { name: "sine", nEmbd: 64, directions };
        const rows = fs.readFileSync(sharedFiles.parityGreedy, "utf8").trim().split("\n").slice(1);
        expect(rows.length).toBeGreaterThan(5);
        for (const row of rows) {
            const [scale, layers, continuation] = row.split("\t") as [string, string, string];
            const [first, last] = layers.split("-").map(Number) as [number, number];
            const run = generate(context, "Once upon a time", {
                maxTokens: 60,
                patches: [{ id: "sine", vector, strength: Number(scale), layers: { first, last } }]
            });
            const result = await run.result;
            // llama-completion ends its printout with a blank line ("\n\n") after the generated text
            const expected = continuation.replace(/\\n/g, "\n").replace(/\n\n$/, "");
            expect({ scale, layers, text: result.text }).toEqual({ scale, layers, text: expected });
        }
    });
});
