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

    it("separates test-split happy from sad pairs well above chance, the layer chosen on the validation split", () => {
        expect(built.validationPairs).toBeGreaterThanOrEqual(5);
        expect(built.testPairs).toBeGreaterThanOrEqual(5);
        expect(built.bestLayerChosenBy).toBe("validation");
        expect(built.groups).toBe(15); // the dataset's cue-word groups (happy/sad, smiled/cried, …), not one per pair
        const best = built.diagnostics.find((entry) => entry.layer === built.bestLayer)!;
        expect(best.heldOutAuroc).toBeGreaterThan(0.8);
        expect(best.pairedAccuracy).toBeGreaterThan(0.8);
        expect(built.diagnostics.map((entry) => entry.layer)).toEqual([1, 2, 3, 4]);
        for (const entry of built.diagnostics)
            expect(entry.activationNorm).toBeGreaterThan(0);
    });

    it("the three methods give three different directions on this real model (|cos| < 0.995 at every layer); a nearly orthogonal pca-diff is warned about", async () => {
        const dataset = loadBuiltinDataset("sentiment");
        const byMethod = new Map<string, DatasetVector>();
        for (const method of ["mean", "pca-diff", "pca-center"] as const)
            byMethod.set(method, await buildVectorFromDataset(context, dataset, { method, readAt: "mean", heldOutFraction: 0 }));
        const cos = (a: Float32Array, b: Float32Array) => {
            let ab = 0, aa = 0, bb = 0;
            for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
            return ab / Math.sqrt(aa * bb);
        };
        const methods = [...byMethod.keys()];
        for (const layer of [1, 2, 3, 4]) {
            for (let i = 0; i < methods.length; i++)
                for (let j = i + 1; j < methods.length; j++) {
                    const a = byMethod.get(methods[i]!)!.vector.directions.get(layer)!, b = byMethod.get(methods[j]!)!.vector.directions.get(layer)!;
                    expect(Math.abs(cos(a, b)), `${methods[i]} vs ${methods[j]} at layer ${layer}`).toBeLessThan(0.995);
                }
        }
        // mean and pca-center separate the pairs; the centred pca-diff follows how pairs differ from one
        // another (here nearly orthogonal to the shift, |cos| ≈ 0.05), and the build says so
        for (const method of ["mean", "pca-center"])
            expect(Math.max(...byMethod.get(method)!.diagnostics.map((entry) => entry.trainAuroc))).toBeGreaterThan(0.8);
        const pcaDiff = byMethod.get("pca-diff")!;
        for (const entry of pcaDiff.diagnostics.filter((e) => e.cosineToMean < 0.3))
            expect(pcaDiff.warnings.some((warning) => warning.startsWith(`layer ${entry.layer}: the pca-diff direction is nearly orthogonal`))).toBe(true);
        expect(pcaDiff.warnings.length).toBeGreaterThan(0);
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
