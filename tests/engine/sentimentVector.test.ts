// The built-in happy/sad dataset makes a vector with a real, measurable effect on stories260K.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scoreTokens } from "../../engine/runtime/scoreTokens.js";
import { composeControlVector } from "../../engine/runtime/SteeringPatch.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { buildVectorFromDataset, type DatasetVector } from "../../engine/vectors/buildVectorFromDataset.js";
import { loadBuiltinDataset } from "../../engine/vectors/datasets/builtinDatasets.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const prompts = ["Once upon a time, there was a little boy named Tim.", "One day, Sue went to the park.", "The dog ran to the big tree.",
    "Lily had a new doll.", "Max wanted to play outside.", "The sun was up and Ben went out."];
const positiveWords = [" happy", " glad", " excited", " proud", " joyful"];
const negativeWords = [" sad", " angry", " scared", " upset", " lonely"];

describe.skipIf(missing(sharedFiles.stories260K))("the sentiment vector on stories260K", () => {
    let model: TillerModel;
    let context: TillerContext;
    let built: DatasetVector;

    /** Mean over prompts and words of log p(word | prompt + " He felt very"), the vector at `strength` on blocks 2-3. */
    async function meanWordLogProb(vector: SteeringVector, words: string[], strength: number): Promise<number> {
        let total = 0, count = 0;
        const steering = composeControlVector([{ id: "s", vector, strength, layers: { first: 2, last: 3 } }], 0, model.shape);
        for (const prompt of prompts) {
            const prefix = model.tokenize(`${prompt} He felt very`);
            for (const word of words) {
                // drop the tokenizer's leading-space token: the word continues the text
                const tokens = Int32Array.from([...prefix, ...model.tokenize(word, { addBos: false }).slice(1)]);
                const scored = await scoreTokens(context, tokens, { steering, from: prefix.length });
                total += scored.reduce((sum, token) => sum + token.logprob, 0);
                count++;
            }
        }
        return total / count;
    }

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 2048, batchSize: 512, sequences: 16 });
        built = await buildVectorFromDataset(context, loadBuiltinDataset("sentiment"), { method: "mean", readAt: "mean", seed: 7 });
    });
    afterAll(async () => {
        await model?.dispose();
    });

    it("separates held-out happy from sad pairs well above chance", () => {
        expect(built.heldOutPairs).toBeGreaterThanOrEqual(10);
        const best = built.diagnostics.find((entry) => entry.layer === built.bestLayer)!;
        expect(best.heldOutAuroc).toBeGreaterThan(0.85);
        expect(built.diagnostics.map((entry) => entry.layer)).toEqual([1, 2, 3, 4]);
        for (const entry of built.diagnostics)
            expect(entry.activationNorm).toBeGreaterThan(0);
    });

    it("a positive strength raises the log-probability of happy words and a negative one lowers it", async () => {
        const at = async (strength: number) => meanWordLogProb(built.vector, positiveWords, strength);
        const [down, zero, up] = [await at(-1), await at(0), await at(1)];
        expect(up).toBeGreaterThan(zero);
        expect(down).toBeLessThan(zero);
    });

    it("and moves sad words the other way", async () => {
        const at = async (strength: number) => meanWordLogProb(built.vector, negativeWords, strength);
        expect(await at(1)).toBeLessThan(await at(0));
    });
});
