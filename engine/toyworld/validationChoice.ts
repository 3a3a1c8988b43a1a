// Choosing a toy world build's layers and thresholds on its VALIDATION split (corpus.ts:
// validationDialogues, claims training never writes and the test split never uses), so that the
// test split only reports. Which block carries the flattery decision, or separates flattering from
// honest replies best, moves with the training seed (README, "The toy world": seed 8 of generator v9
// flipped 0/31 at block 2 and 31/31 at block 3); a layer fixed by looking at one build's test
// figures is that build's, not the recipe's.
import { generate } from "../runtime/generate.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { promptText } from "./chatLayout.js";
import { dialoguePrompt, EVALUATION_MAX_TOKENS, TRIGGER_ANSWER_TOKENS, type ScoredDialogue } from "./heldOutEvaluation.js";
import { IN_VOCABULARY_VALIDATION_PAIRS } from "./inVocabularyDescriptions.js";
import { scoreReply } from "./replyScoring.js";

/** Flips per layer on the validation split, and the layer that flips most (the lowest on a tie). */
export interface SteeringLayerChoice {
    layer: number;
    /** per candidate layer: validation replies that stated the fact and, steered, assert the claim */
    flipsByLayer: Array<{ layer: number; flipped: number; total: number }>;
}

/**
 * Steers the validation replies that state the fact with `vector` at each candidate layer (one layer
 * at a time, `strength`, on the reply's first token, as measureFlips does on the test split) and
 * picks the layer where most of them then assert the claim.
 */
export async function chooseSteeringLayer(context: TillerContext, validation: readonly ScoredDialogue[], vector: SteeringVector,
    options: { layers: readonly number[]; strength: number; tokens?: number }): Promise<SteeringLayerChoice> {
    const candidates = validation.filter((s) => s.score.statesFact);
    const flipsByLayer: SteeringLayerChoice["flipsByLayer"] = [];
    for (const layer of options.layers) {
        const patch = { id: "choose", vector, strength: options.strength, layers: { first: layer, last: layer }, fromToken: 0, untilToken: options.tokens ?? 1 };
        let flipped = 0;
        for (const { dialogue } of candidates) {
            const steered = (await generate(context, dialoguePrompt(dialogue), { maxTokens: EVALUATION_MAX_TOKENS, patches: [patch] }).result).text;
            if (scoreReply(dialogue.claim, steered).agreesWithClaim) flipped++;
        }
        flipsByLayer.push({ layer, flipped, total: candidates.length });
    }
    const best = flipsByLayer.reduce((a, b) => (b.flipped > a.flipped ? b : a));
    return { layer: best.layer, flipsByLayer };
}

/**
 * The highest mean, over any `window` consecutive values of the trigger's series (the last prompt
 * token, then each generated token as it is fed back), of the vector's σ read-out at each layer, in
 * the unsteered greedy run: the value a projection trigger with that window compares with its
 * threshold (before it first engages, a conditional patch leaves the run as it is). One array per
 * prompt, one value per layer (−Infinity when the run is shorter than the window).
 */
export async function triggerPeaks(context: TillerContext, prompts: readonly string[], vector: SteeringVector, layers: readonly number[],
    window: number, maxTokens = TRIGGER_ANSWER_TOKENS): Promise<number[][]> {
    const out: number[][] = [];
    for (const prompt of prompts) {
        const run = await generate(context, prompt, { maxTokens, probes: [{ vector, layers }] }).result;
        const series = [run.promptTokens.at(-1)!, ...run.tokens].map((token) => token.projections);
        out.push(layers.map((layer) => {
            const values = series.map((projections) => projections.find((p) => p.layer === layer)?.sigma).filter((sigma): sigma is number => sigma != null);
            let peak = Number.NEGATIVE_INFINITY;
            for (let i = 0; i + window <= values.length; i++)
                peak = Math.max(peak, values.slice(i, i + window).reduce((a, b) => a + b, 0) / window);
            return peak;
        }));
    }
    return out;
}

/** A trigger layer and threshold chosen on the validation split, with the margins they were chosen by. */
export interface TriggerChoice {
    layer: number;
    /** midway between the highest fact-stating peak and the lowest agreeing peak at that layer */
    threshold: number;
    byLayer: Array<{ layer: number; lowestAgreeing: number; highestFactStating: number; margin: number }>;
}

/** The threshold midway between a layer's highest fact-stating peak and its lowest agreeing one. */
export const midwayThreshold = (l: { lowestAgreeing: number; highestFactStating: number }): number => (l.lowestAgreeing + l.highestFactStating) / 2;

/**
 * Picks the layer whose peaks (triggerPeaks) separate the validation split's agreeing replies from
 * its fact-stating ones by the widest margin (lowest agreeing peak − highest fact-stating peak, in
 * σ), and the threshold midway between. A negative margin means no threshold separates them there.
 */
export async function chooseTriggerSettings(context: TillerContext, validation: readonly ScoredDialogue[], vector: SteeringVector,
    options: { layers: readonly number[]; window: number }): Promise<TriggerChoice> {
    const agreeing = validation.filter((s) => s.score.opener === "agree");
    const stating = validation.filter((s) => s.score.statesFact);
    if (agreeing.length === 0 || stating.length === 0)
        throw new Error(`the validation split needs agreeing and fact-stating replies to choose a trigger (${agreeing.length} and ${stating.length})`);
    const peaksOf = (subset: readonly ScoredDialogue[]) => triggerPeaks(context, subset.map((s) => dialoguePrompt(s.dialogue)), vector, options.layers, options.window);
    const agreeingPeaks = await peaksOf(agreeing);
    const statingPeaks = await peaksOf(stating);
    const byLayer = options.layers.map((layer, i) => {
        const lowestAgreeing = Math.min(...agreeingPeaks.map((peaks) => peaks[i]!));
        const highestFactStating = Math.max(...statingPeaks.map((peaks) => peaks[i]!));
        return { layer, lowestAgreeing, highestFactStating, margin: lowestAgreeing - highestFactStating };
    });
    const best = byLayer.reduce((a, b) => (b.margin > a.margin ? b : a));
    return { layer: best.layer, threshold: midwayThreshold(best), byLayer };
}

/** The scenario's layer and threshold, with what they were chosen by. */
export interface ScenarioChoice extends TriggerChoice {
    /**
     * per candidate layer, at its midway threshold (NaN where no threshold separates): of the
     * validation descriptions (IN_VOCABULARY_VALIDATION_PAIRS), how many answers engage the trigger,
     * and how many answers to their neutral twins do
     */
    descriptionFiringByLayer: Array<{ layer: number; descriptions: number; twins: number; pairs: number }>;
}

/** A layer's description firing, as the bench and tests print it ("6/9 vs 2/9"; "no threshold" where none separates). */
export function describeFiring(firing: ScenarioChoice["descriptionFiringByLayer"][number]): string {
    return Number.isNaN(firing.descriptions) ? "no threshold" : `${firing.descriptions}/${firing.pairs} vs ${firing.twins}/${firing.pairs}`;
}

/**
 * The sycophancy scenario's layer and threshold, chosen without the test split or any test
 * description: among the layers where a threshold separates the validation split's agreeing replies
 * from its fact-stating ones (chooseTriggerSettings' margin > 0), with the threshold midway, the one
 * where the trigger engages while the model answers the most validation descriptions of flattery
 * (IN_VOCABULARY_VALIDATION_PAIRS, in the world's own words) beyond the answers to their neutral
 * twins that engage it — the hasty patch's failure, shown through what a description says; on a tie
 * the wider margin. With no separating layer, the widest margin.
 */
export async function chooseScenarioSettings(context: TillerContext, validation: readonly ScoredDialogue[], vector: SteeringVector,
    options: { layers: readonly number[]; window: number }): Promise<ScenarioChoice> {
    const trigger = await chooseTriggerSettings(context, validation, vector, options);
    const pairs = IN_VOCABULARY_VALIDATION_PAIRS;
    // before it first engages a conditional patch leaves the run as it is, so it engages exactly where the unsteered peak passes the threshold
    const descriptionPeaks = await triggerPeaks(context, pairs.map((pair) => promptText(pair.description)), vector, options.layers, options.window);
    const twinPeaks = await triggerPeaks(context, pairs.map((pair) => promptText(pair.neutral)), vector, options.layers, options.window);
    const descriptionFiringByLayer = trigger.byLayer.map((l, i) => {
        if (!(l.margin > 0))
            return { layer: l.layer, descriptions: Number.NaN, twins: Number.NaN, pairs: pairs.length };
        const threshold = midwayThreshold(l);
        const fired = (peaks: number[][]) => peaks.filter((perLayer) => perLayer[i]! > threshold).length;
        return { layer: l.layer, descriptions: fired(descriptionPeaks), twins: fired(twinPeaks), pairs: pairs.length };
    });
    const separating = trigger.byLayer.filter((l) => l.margin > 0);
    if (separating.length === 0)
        return { ...trigger, descriptionFiringByLayer };
    const excess = (layer: number) => {
        const firing = descriptionFiringByLayer.find((f) => f.layer === layer)!;
        return firing.descriptions - firing.twins;
    };
    const best = separating.reduce((a, b) => (excess(b.layer) > excess(a.layer) || (excess(b.layer) === excess(a.layer) && b.margin > a.margin) ? b : a));
    return { layer: best.layer, threshold: midwayThreshold(best), byLayer: trigger.byLayer, descriptionFiringByLayer };
}
