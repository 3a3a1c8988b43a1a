// Conditional patches on stories260K: text and projection triggers engage exactly where the run
// says, steer only from then on, and stay off on a control prompt.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate } from "../../engine/runtime/generate.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { buildVectorFromDataset } from "../../engine/vectors/buildVectorFromDataset.js";
import { loadBuiltinDataset } from "../../engine/vectors/datasets/builtinDatasets.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { sineVector } from "../support/sineVector.js";

describe.skipIf(missing(sharedFiles.stories260K))("conditional patches on stories260K", () => {
    let model: TillerModel;
    let context: TillerContext;
    let happy: SteeringVector;

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 2048, batchSize: 512, sequences: 16 });
        happy = (await buildVectorFromDataset(context, loadBuiltinDataset("sentiment"), { readAt: "mean", method: "pca-center" })).vector;
    });
    afterAll(async () => {
        await model?.dispose();
    });

    it("a text trigger engages right after the text appears, and the tokens before are unsteered", async () => {
        const baseline = await generate(context, "Once upon a time", { maxTokens: 40 }).result;
        const wordEnd = baseline.tokens.findIndex((_, i) => baseline.tokens.slice(0, i + 1).map((token) => token.piece).join("").includes("Lily"));
        expect(wordEnd).toBeGreaterThan(0);
        const run = await generate(context, "Once upon a time", {
            maxTokens: 40,
            patches: [{ id: "t", vector: sineVector(), strength: 1, trigger: { kind: "text", match: "Lily", holdTokens: 5 } }]
        }).result;
        // (a later "Lily" in the steered text re-arms the trigger; the first engagement is checked here)
        expect(run.triggerEvents.slice(0, 2)).toEqual([
            { patchId: "t", kind: "engaged", atToken: wordEnd + 1, triggerToken: wordEnd, value: undefined },
            { patchId: "t", kind: "released", atToken: wordEnd + 6, triggerToken: wordEnd, value: undefined }
        ]);
        expect(run.tokens.slice(0, wordEnd + 1).map((token) => token.id)).toEqual(baseline.tokens.slice(0, wordEnd + 1).map((token) => token.id));
        for (const token of run.tokens.slice(0, wordEnd + 6))
            expect(token.activePatches).toEqual(token.index > wordEnd ? ["t"] : []);
        expect(run.patchChanges.map((change) => change.atToken).slice(0, 3)).toEqual([0, wordEnd + 1, wordEnd + 6]);
    });

    it("a projection trigger engages two tokens after the crossing", async () => {
        // read the happy projection at block 3 in an unsteered run, then put the threshold between
        // the values so that the crossing token is known in advance
        const probe = await generate(context, "Once upon a time", { maxTokens: 30, probes: [{ vector: happy, layers: [3] }] }).result;
        const values = probe.tokens.map((token) => token.projections[0]!.dot);
        const crossing = values.findIndex((value, i) => i >= 5 && value === Math.max(...values.slice(5)));
        const threshold = (values[crossing]! + Math.max(...values.slice(0, crossing).concat(-Infinity), ...[])) / 2;
        const firstAbove = values.findIndex((value) => value > threshold);
        const run = await generate(context, "Once upon a time", {
            maxTokens: 30,
            patches: [{ id: "h", vector: happy, strength: 2, layers: { first: 4, last: 4 },
                trigger: { kind: "projection", vector: happy, layer: 3, threshold, when: "above", holdTokens: 4 } }]
        }).result;
        const engaged = run.triggerEvents.find((event) => event.kind === "engaged")!;
        expect(engaged.triggerToken).toBe(firstAbove);
        expect(engaged.atToken).toBe(firstAbove + 2);
        // steering block 4 cannot change block 3's read-out: up to the engagement the run is the probe run
        expect(run.tokens.slice(0, firstAbove + 2).map((token) => token.id)).toEqual(probe.tokens.slice(0, firstAbove + 2).map((token) => token.id));
        expect(run.tokens[firstAbove + 2]!.activePatches).toEqual(["h"]);
        expect(run.tokens[firstAbove + 1]!.activePatches).toEqual([]);
    });

    it("a sadness trigger engages only once the text turns sad, and never on a neutral control", async () => {
        const trigger = { kind: "projection" as const, vector: happy, layer: 4, threshold: -2, when: "below" as const, window: 6 };
        const patch = { id: "cheer-up", vector: happy, strength: 1.5, layers: { first: 2, last: 3 }, trigger };
        const sad = await generate(context, "Tom went to the park. He fell and hurt his leg. He was very sad and he cried and cried because he was all alone", {
            maxTokens: 40, patches: [patch]
        }).result;
        const neutral = await generate(context, "Tom went to the park. The park had a big tree and a long path. There was a bench next to the tree", {
            maxTokens: 40, patches: [patch]
        }).result;
        expect(neutral.triggerEvents).toEqual([]);
        expect(neutral.tokens.every((token) => token.activePatches.length === 0)).toBe(true);
        expect(sad.triggerEvents.some((event) => event.kind === "engaged")).toBe(true);
    });
});
