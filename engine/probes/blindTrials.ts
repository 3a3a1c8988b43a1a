// Blind mode: the lab applies a hidden random patch (a library vector, a strength, a layer range
// and an onset; sometimes none), and the detector has to recover it from the run alone.
import { generate } from "../runtime/generate.js";
import type { SteeringPatch } from "../runtime/SteeringPatch.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import { detectPatch, type DetectionReport } from "./detectPatch.js";
import { teacherForce } from "./teacherForce.js";

export interface BlindTrialOptions {
    trials: number;
    seed?: number;
    prompts: readonly string[];
    /** generated tokens per trial; default 24 */
    maxTokens?: number;
    /** share of trials with no patch at all; default 0.25 */
    cleanShare?: number;
    /** |α| is drawn from [min, max]; default [0.5, 3] */
    strengthRange?: [number, number];
    onTrial?(trial: BlindTrial, index: number): void;
}

export interface BlindTrial {
    prompt: string;
    hidden: { vector: string; strength: number; layers: { first: number; last: number }; fromToken: number } | null;
    report: Pick<DetectionReport, "steered" | "onsetToken" | "firstLayer"> & { vector: string | null; strength: number | null; cosine: number | null };
    onsetExact: boolean | null;
    vectorIdentified: boolean | null;
    strengthWithin10Percent: boolean | null;
    falsePositive: boolean | null;
}

export interface BlindSummary {
    trials: BlindTrial[];
    patched: number;
    clean: number;
    onsetExactRate: number;
    vectorIdentifiedRate: number;
    strengthWithin10PercentRate: number;
    falsePositiveRate: number;
}

export async function runBlindTrials(context: TillerContext, library: readonly SteeringVector[], options: BlindTrialOptions): Promise<BlindSummary> {
    const random = new SeededRandom(options.seed ?? 2026);
    const { nLayer } = context.model.shape;
    const maxTokens = options.maxTokens ?? 24;
    const [minStrength, maxStrength] = options.strengthRange ?? [0.5, 3];
    const trials: BlindTrial[] = [];
    for (let index = 0; index < options.trials; index++) {
        const prompt = options.prompts[index % options.prompts.length]!;
        let hidden: BlindTrial["hidden"] = null;
        let patches: SteeringPatch[] = [];
        if (random.next() >= (options.cleanShare ?? 0.25)) {
            const vector = library[Math.floor(random.next() * library.length)]!;
            const first = 1 + Math.floor(random.next() * (nLayer - 1));
            const last = first + Math.floor(random.next() * (nLayer - first));
            const magnitude = minStrength + random.next() * (maxStrength - minStrength);
            const strength = random.next() < 0.5 ? -magnitude : magnitude;
            const fromToken = Math.floor(random.next() * Math.floor(maxTokens / 2));
            hidden = { vector: vector.name, strength, layers: { first, last }, fromToken };
            patches = [{ id: "hidden", vector, strength, layers: { first, last }, fromToken }];
        }
        // the observed run, as the lab produced it; then its record, teacher-forced as it ran
        const run = await generate(context, prompt, { maxTokens, sampling: { temperature: 0.7, seed: 1000 + index }, patches }).result;
        const promptTokens = context.model.tokenize(prompt);
        const tokens = Int32Array.from([...promptTokens, ...run.tokens.map((token) => token.id)]);
        if (hidden != null && run.tokens.length <= hidden.fromToken)
            hidden = null; // the run ended before the patch could act: there was nothing to find
        const observed = await teacherForce(context, tokens, promptTokens.length, hidden != null ? patches : []);
        const reference = await teacherForce(context, tokens, promptTokens.length, []);
        const report = detectPatch(observed, reference, library);
        const best = report.matches[0];
        const trial: BlindTrial = {
            prompt,
            hidden,
            report: { steered: report.steered, onsetToken: report.onsetToken, firstLayer: report.firstLayer,
                vector: best?.name ?? null, strength: best?.strength ?? null, cosine: best?.cosine ?? null },
            onsetExact: hidden != null ? report.onsetToken === hidden.fromToken : null,
            vectorIdentified: hidden != null ? best?.name === hidden.vector : null,
            strengthWithin10Percent: hidden != null && best != null ? Math.abs(best.strength - hidden.strength) <= 0.1 * Math.abs(hidden.strength) : hidden != null ? false : null,
            falsePositive: hidden == null ? report.steered : null
        };
        trials.push(trial);
        options.onTrial?.(trial, index);
    }
    const patchedTrials = trials.filter((trial) => trial.hidden != null);
    const cleanTrials = trials.filter((trial) => trial.hidden == null);
    const rate = (values: (boolean | null)[]) => values.filter((value) => value === true).length / Math.max(1, values.length);
    return {
        trials,
        patched: patchedTrials.length,
        clean: cleanTrials.length,
        onsetExactRate: rate(patchedTrials.map((trial) => trial.onsetExact)),
        vectorIdentifiedRate: rate(patchedTrials.map((trial) => trial.vectorIdentified)),
        strengthWithin10PercentRate: rate(patchedTrials.map((trial) => trial.strengthWithin10Percent)),
        falsePositiveRate: rate(cleanTrials.map((trial) => trial.falsePositive))
    };
}
