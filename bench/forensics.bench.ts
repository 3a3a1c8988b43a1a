// Blind patch forensics (issue 11): hidden-patch trials on the toy world and stories260K. The
// generator's patches (always on from token k, projection- or text-triggered; vectors in and out of
// the library; near-collinear decoys; weak to strong; greedy and T = 0.7 text; clean runs) come from
// a seed the detector never sees; the detector gets the prompt, the emitted ids, the sampler's
// settings and a shuffled, renamed library. BENCH_FORENSICS_TRIALS sets the trials per model.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runHiddenPatchTrials, type HiddenPatchTrial } from "../engine/forensics/hiddenPatchTrials.js";
import { formatHiddenPatchSummary, summarizeHiddenPatchTrials } from "../engine/forensics/summarizeHiddenPatchTrials.js";
import type { SteeringVector } from "../engine/runtime/SteeringVector.js";
import { TillerModel } from "../engine/runtime/TillerModel.js";
import { CLAIM_TEMPLATES, claimMessage, heldOutClaims, systemFor } from "../engine/toyworld/corpus.js";
import { promptText } from "../engine/toyworld/chatLayout.js";
import { buildVectorFromDataset } from "../engine/vectors/buildVectorFromDataset.js";
import { loadBuiltinDataset, type BuiltinDatasetName } from "../engine/vectors/datasets/builtinDatasets.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const storiesPath = process.env.TILLER_STORIES ?? path.resolve(root, "..", "shared", "models", "stories260K.gguf");
const toyworldPath = path.resolve(root, "models", "toyworld.gguf");
const trialsPerModel = Number(process.env.BENCH_FORENSICS_TRIALS ?? 110);

interface World {
    name: string;
    file: string;
    datasets: BuiltinDatasetName[];
    prompts: string[];
    maxTokens: number;
    /** |α| range of the hidden patches: the toy world shrugs off what moves stories260K */
    strengthRange: [number, number];
}

function toyworldPrompts(): string[] {
    const claims = heldOutClaims();
    const modes = ["flatter", "honest", "none"] as const;
    return claims.slice(0, 12).map((claim, i) => promptText(claimMessage(claim, CLAIM_TEMPLATES[i % CLAIM_TEMPLATES.length]!), systemFor(modes[i % 3]!)));
}

export async function benchForensics(threads: number): Promise<string[]> {
    const worlds: World[] = [
        { name: "toy world", file: toyworldPath, datasets: ["toyworld-flattery", "sentiment", "formality", "refusal"], prompts: toyworldPrompts(), maxTokens: 24, strengthRange: [1, 8] },
        { name: "stories260K", file: storiesPath, datasets: ["sentiment", "formality", "refusal", "sycophancy"], maxTokens: 32, strengthRange: [0.3, 3],
            prompts: ["Once upon a time", "One day, Tom went to the park.", "The cat sat by the door.", "Lily had a new doll.", "Sam made a big cake."] }
    ];
    const lines: string[] = [];
    const all: HiddenPatchTrial[] = [];
    for (const [index, world] of worlds.entries()) {
        if (!fs.existsSync(world.file)) {
            lines.push(`forensics on ${world.name}: skipped, ${world.file} is absent`);
            continue;
        }
        const model = await TillerModel.load(world.file);
        try {
            const build = await model.createContext({ threads, contextSize: 1024, batchSize: 1024, sequences: 16 });
            const pool: SteeringVector[] = [];
            for (const name of world.datasets)
                pool.push({ ...(await buildVectorFromDataset(build, loadBuiltinDataset(name), { readAt: "mean" })).vector, name });
            await build.dispose();
            const generationContext = await model.createContext({ threads, contextSize: 256 });
            const context = await model.createContext({ threads, contextSize: 256, batchSize: 256, sequences: 2, precise: true });
            const started = performance.now();
            const trials = await runHiddenPatchTrials(context, {
                trials: trialsPerModel, seed: 20261130 + index, prompts: world.prompts, pool, maxTokens: world.maxTokens, strengthRange: world.strengthRange, generationContext
            });
            all.push(...trials);
            lines.push(`forensics on ${world.name} (pool of ${pool.length} vectors, |α| in [${world.strengthRange.join(", ")}]; ${((performance.now() - started) / 1000).toFixed(0)} s with generation):`,
                ...formatHiddenPatchSummary(summarizeHiddenPatchTrials(trials)));
        } finally {
            await model.dispose();
        }
    }
    if (all.length > 0 && worlds.length > 1)
        lines.push("forensics, both models together:", ...formatHiddenPatchSummary(summarizeHiddenPatchTrials(all)));
    return lines;
}
