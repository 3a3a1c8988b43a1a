// Floors of the honest hidden-patch benchmark on a small fixed subset (stories260K; the full
// figures are the bench's `forensics` section). The generator's seed is never shown to the
// detector; what is asserted are properties that must hold whatever the draw: greedy text that a
// patch changed is always caught (the clean greedy sampler cannot write it), clean text is not
// flagged, and the library names the true vector in most of the in-library trials it detects.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runHiddenPatchTrials, type HiddenPatchTrial } from "../../engine/forensics/hiddenPatchTrials.js";
import { summarizeHiddenPatchTrials } from "../../engine/forensics/summarizeHiddenPatchTrials.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { buildVectorFromDataset } from "../../engine/vectors/buildVectorFromDataset.js";
import { loadBuiltinDataset } from "../../engine/vectors/datasets/builtinDatasets.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

describe.skipIf(missing(sharedFiles.stories260K))("hidden-patch trials on stories260K (a fixed subset)", () => {
    let model: TillerModel;
    let context: TillerContext;
    let generationContext: TillerContext;
    let pool: SteeringVector[];

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 256, batchSize: 256, sequences: 2, precise: true });
        generationContext = await model.createContext({ threads: 1, contextSize: 256 });
        pool = [];
        for (const name of ["sentiment", "formality"] as const)
            pool.push({ ...(await buildVectorFromDataset(context, loadBuiltinDataset(name), { readAt: "mean" })).vector, name });
    }, 60_000);
    afterAll(async () => {
        await model?.dispose();
    });

    it("catches every changed greedy text, flags no clean text, names the vector", async () => {
        const trials: HiddenPatchTrial[] = await runHiddenPatchTrials(context, {
            trials: 10, seed: 77, maxTokens: 24, pool, generationContext, strengthRange: [1, 3],
            prompts: ["Once upon a time", "One day, Tom went to the park.", "Lily had a new doll."],
            detector: { nullDraws: 100 }
        });
        const summary = summarizeHiddenPatchTrials(trials);
        expect(summary.errors).toBe(0);
        expect(summary.steered).toBeGreaterThanOrEqual(4);
        expect(summary.clean).toBeGreaterThanOrEqual(2);
        const changedGreedy = trials.filter((trial) => trial.truth.kind !== "clean" && trial.truth.engaged.length > 0 && trial.truth.textChanged && trial.truth.sampling === "greedy");
        expect(changedGreedy.length).toBeGreaterThanOrEqual(1);
        for (const trial of changedGreedy)
            expect(trial.report!.steered).toBe(true);
        expect(summary.observedFpr).toBe(0);
        // the detected greedy onsets can only lie at or before the first changed token, never before the patch could act
        for (const trial of changedGreedy)
            expect(trial.report!.onsetToken!).toBeGreaterThanOrEqual(trial.truth.engaged[0]! - 3);
        expect(summary.tprTextChanged).toBeGreaterThanOrEqual(0.5);
        expect(summary.top1Vector).toBeGreaterThanOrEqual(0.5);
    }, 180_000);
});
