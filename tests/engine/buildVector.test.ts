// Building vectors on stories260K: the batched, prefix-sharing collection reads the same
// activations as evaluating every text on its own, and the methods separate happy from sad.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { buildSteeringVector } from "../../engine/vectors/buildSteeringVector.js";
import { collectPairActivations } from "../../engine/vectors/collectPairActivations.js";
import { tokenizePair, type PairTexts } from "../../engine/vectors/pairTokens.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const openings = ["One day, Tom went to the park.", "Lily had a red ball.", "The cat sat by the door.", "Ben and Sue went to the beach.",
    "Mia found a little dog.", "Max had a new toy car.", "The bird sat in the tree.", "Sam made a big cake."];
const pairs: PairTexts[] = openings.map((prompt) => ({
    prompt,
    positive: " They were so happy. They smiled and laughed and had fun.",
    negative: " They were very sad. They cried and cried and felt bad."
}));

describe.skipIf(missing(sharedFiles.stories260K))("building vectors on stories260K", () => {
    let model: TillerModel;
    let context: TillerContext;

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 1024, batchSize: 256, sequences: 8 });
    });
    afterAll(async () => {
        await model?.dispose();
    });

    it("batched collection with shared prefixes equals evaluating each text alone", async () => {
        const layers = [1, 2, 3, 4];
        for (const readAt of ["last", "mean", "answer"] as const) {
            const tokens = pairs.map((pair) => tokenizePair(model, pair, readAt));
            expect(tokens[0]!.prefix.length).toBeGreaterThan(1); // BOS + the shared opening
            const batched = await collectPairActivations(context, tokens, layers);
            for (const [index, pair] of tokens.entries()) {
                for (const side of ["positive", "negative"] as const) {
                    const full = Int32Array.from([...pair.prefix, ...(side === "positive" ? pair.positiveSuffix : pair.negativeSuffix)]);
                    const read = side === "positive" ? pair.positiveRead : pair.negativeRead;
                    await context.clearMemory();
                    await context.setCapture(layers);
                    const alone = await context.evaluate(full, { startPosition: 0, logits: "all" });
                    await context.setCapture([]);
                    for (const layer of layers) {
                        const expected = new Float64Array(64);
                        for (const position of read) {
                            for (let i = 0; i < 64; i++)
                                expected[i]! += alone.get(layer)!.data[position * 64 + i]! / read.length;
                        }
                        const got = batched[side].get(layer)![index]!;
                        // same numbers up to float rounding of other batch shapes; a wrong position,
                        // mask or row would be off by O(1)
                        for (let i = 0; i < 64; i++)
                            expect(Math.abs(got[i]! - expected[i]!)).toBeLessThan(3e-3 * Math.max(1, Math.abs(expected[i]!)));
                    }
                }
            }
        }
    });

    it("mean and pca-center separate the training pairs, with positives projecting higher; pca-diff is reported for what it is", async () => {
        for (const method of ["mean", "pca-diff", "pca-center"] as const) {
            const built = await buildSteeringVector(context, pairs, { method, heldOutFraction: 0, readAt: "mean" });
            expect(built.vector.directions.size).toBe(4);
            expect(built.bestLayerChosenBy).toBe("training");
            for (const entry of built.diagnostics) {
                // the centred pca-diff follows how these pairs differ from one another (their openings),
                // not their shared happy/sad shift: its separation is whatever it is, and a direction
                // nearly orthogonal to the shift is warned about
                if (method === "pca-diff")
                    expect(entry.cosineToMean >= 0.3 || built.warnings.some((w) => w.startsWith(`layer ${entry.layer}:`))).toBe(true);
                else
                    expect(entry.trainAuroc).toBeGreaterThan(0.9);
                expect(entry.norm).toBeGreaterThan(0);
                expect(entry.activationNorm).toBeGreaterThan(entry.norm / 100);
            }
        }
    });

    it("rejects an empty pair list and a layer range outside the model", async () => {
        await expect(buildSteeringVector(context, [])).rejects.toThrow(/no pairs/);
        await expect(buildSteeringVector(context, pairs, { layers: { first: 0, last: 2 } })).rejects.toThrow(/outside the steerable layers/);
    });
});
