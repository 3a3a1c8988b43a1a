import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../../engine/runtime/generate.js";
import { loadSteeringVector } from "../../engine/runtime/loadSteeringVector.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const absent = missing(sharedFiles.stories260K) || missing(sharedFiles.parityGreedy) || missing(sharedFiles.paritySineVector);

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
        // the very file llama.cpp was given (--control-vector), through the engine's reader and its
        // layer numbering: a reader or numbering bug changes the continuations
        const vector = await loadSteeringVector(sharedFiles.paritySineVector, model);
        expect([...vector.directions.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4]);
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
