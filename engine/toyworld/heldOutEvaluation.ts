// The toy world's held-out figures, measured on a loaded model through the real runtime (greedy
// generation, steering patches, read-outs): how often it agrees with a false test claim the user
// holds, how often it states the fact otherwise, how often a steering vector flips a
// fact-stating reply into agreement, and how the vector reads on descriptions of flattery. Used by
// the tests (floors) and by the bench (figures); every count comes with its total.
import { generate } from "../runtime/generate.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { promptText } from "./chatLayout.js";
import { FLATTERY_DESCRIPTIONS, systemFor, type TestDialogue } from "./corpus.js";
import { scoreReply, type ReplyScore } from "./replyScoring.js";

/** Long enough for the longest reply ("You're so right! An elephant is small. You are so smart!", about 15 tokens). */
export const EVALUATION_MAX_TOKENS = 24;
/** How much of an answer the scenario's trigger is watched over (its engagements, its peaks, and the answer they are compared with). */
export const TRIGGER_ANSWER_TOKENS = 40;

export interface Rate {
    count: number;
    total: number;
}

export const rateValue = (rate: Rate): number => rate.total === 0 ? Number.NaN : rate.count / rate.total;
export const formatRate = (rate: Rate): string => `${rate.count}/${rate.total} (${(100 * rateValue(rate)).toFixed(1)}%)`;
/** A read-out in σ units, signed, one decimal ("+2.8σ"). */
export const formatSigma = (x: number): string => `${x >= 0 ? "+" : ""}${x.toFixed(1)}σ`;

export interface ScoredDialogue {
    dialogue: TestDialogue;
    reply: string;
    score: ReplyScore;
}

export const dialoguePrompt = (dialogue: TestDialogue): string => promptText(dialogue.user, systemFor(dialogue.mode));

/** Greedy replies to the dialogues, each scored by the claim it asserts. */
export async function scoreDialogues(context: TillerContext, dialogues: readonly TestDialogue[]): Promise<ScoredDialogue[]> {
    const out: ScoredDialogue[] = [];
    for (const dialogue of dialogues) {
        const reply = (await generate(context, dialoguePrompt(dialogue), { maxTokens: EVALUATION_MAX_TOKENS }).result).text;
        out.push({ dialogue, reply, score: scoreReply(dialogue.claim, reply) });
    }
    return out;
}

export function countWhere(scored: readonly ScoredDialogue[], select: (s: ScoredDialogue) => boolean, hit: (s: ScoredDialogue) => boolean): Rate {
    const selected = scored.filter(select);
    return { count: selected.filter(hit).length, total: selected.length };
}

export interface SteeringOptions {
    layer: number;
    strength: number;
    /** generated tokens the patch acts on, from the first; default 1 (the token where the reply opens) */
    tokens?: number;
}

export interface FlipResult {
    /** dialogues whose unsteered reply stated the fact and whose steered reply agrees with the false claim */
    flipped: Rate;
    /** the same dialogues whose steered reply opens in agreement ("You're so right!"), whatever it then states */
    openedInAgreement: Rate;
    /** the same dialogues with the patch at strength 0: replies identical to the unsteered ones */
    unchangedAtZero: Rate;
    examples: Array<{ user: string; baseline: string; steered: string }>;
}

/**
 * Steers the dialogues whose unsteered reply states the fact (the others cannot flip) with `vector`
 * at one layer on the reply's first token(s), and counts replies that then agree with the claim.
 */
export async function measureFlips(context: TillerContext, baseline: readonly ScoredDialogue[], vector: SteeringVector, options: SteeringOptions): Promise<FlipResult> {
    const patch = { id: "flip", vector, layers: { first: options.layer, last: options.layer }, fromToken: 0, untilToken: options.tokens ?? 1 };
    const candidates = baseline.filter((s) => s.score.statesFact);
    let flipped = 0;
    let opened = 0;
    let unchanged = 0;
    const examples: FlipResult["examples"] = [];
    for (const { dialogue, reply } of candidates) {
        const prompt = dialoguePrompt(dialogue);
        const steered = (await generate(context, prompt, { maxTokens: EVALUATION_MAX_TOKENS, patches: [{ ...patch, strength: options.strength }] }).result).text;
        const score = scoreReply(dialogue.claim, steered);
        if (score.agreesWithClaim) flipped++;
        if (score.opener === "agree") opened++;
        if (examples.length < 3) examples.push({ user: dialogue.user, baseline: reply.trim(), steered: steered.trim() });
        const zero = (await generate(context, prompt, { maxTokens: EVALUATION_MAX_TOKENS, patches: [{ ...patch, strength: 0 }] }).result).text;
        if (zero === reply) unchanged++;
    }
    return { flipped: { count: flipped, total: candidates.length }, openedInAgreement: { count: opened, total: candidates.length }, unchangedAtZero: { count: unchanged, total: candidates.length }, examples };
}

export interface ReadOut {
    /** σ units of the vector's calibration where the reply opens (the last prompt token, where the vector was read) */
    atReply: number;
    /** the highest σ over the user's message tokens */
    messageMax: number;
}

/** The vector's read-out (σ) at `layer` on a chat with no system line. */
export async function readOut(context: TillerContext, vector: SteeringVector, layer: number, user: string): Promise<ReadOut> {
    const run = await generate(context, promptText(user), { maxTokens: 1, probes: [{ vector, layers: [layer] }] }).result;
    const sigmas = run.promptTokens.map((token) => {
        const sigma = token.projections[0]?.sigma;
        if (sigma == null)
            throw new Error(`the vector has no calibration at layer ${layer}`);
        return sigma;
    });
    // the user's message: after "<s>User:" and before "\nAssistant:\n" (token counts from the model's own tokenizer)
    const head = context.model.tokenize("User:", { addBos: true }).length;
    const tail = context.model.tokenize("\nAssistant:\n", { addBos: false }).length;
    return { atReply: sigmas.at(-1)!, messageMax: Math.max(...sigmas.slice(head, sigmas.length - tail)) };
}

/** Each description of flattery (not in the corpus) next to its neutral counterpart of the same shape. */
export async function descriptionReadOuts(context: TillerContext, vector: SteeringVector, layer: number,
    pairs: ReadonlyArray<{ description: string; neutral: string }> = FLATTERY_DESCRIPTIONS): Promise<Array<{ description: ReadOut; neutral: ReadOut }>> {
    const out: Array<{ description: ReadOut; neutral: ReadOut }> = [];
    for (const { description, neutral } of pairs)
        out.push({ description: await readOut(context, vector, layer, description), neutral: await readOut(context, vector, layer, neutral) });
    return out;
}

/** A conditional patch as the sycophancy scenario sets it up: a projection trigger in σ units, and the push it gates. */
export interface ScenarioTriggerSettings {
    layer: number;
    threshold: number;
    /** tokens the trigger averages over (the last prompt token, then the generated ones) */
    window: number;
    holdTokens: number;
    strength: number;
}

/** Whether the scenario's conditional patch engages while the model answers each prompt (greedy, `maxTokens`). */
export async function triggerEngagements(context: TillerContext, prompts: readonly string[], vector: SteeringVector, settings: ScenarioTriggerSettings, maxTokens = TRIGGER_ANSWER_TOKENS): Promise<boolean[]> {
    const out: boolean[] = [];
    for (const prompt of prompts) {
        const patch = {
            id: "anti-flattery", vector, strength: settings.strength, layers: { first: settings.layer, last: settings.layer },
            trigger: { kind: "projection" as const, vector, layer: settings.layer, threshold: settings.threshold, units: "sigma" as const, when: "above" as const, window: settings.window, holdTokens: settings.holdTokens }
        };
        const run = await generate(context, prompt, { maxTokens, patches: [patch] }).result;
        out.push(run.triggerEvents.some((event) => event.kind === "engaged"));
    }
    return out;
}
