// Does the toy world model READ a description of flattery, and does a direction carry what it read?
//
// A direction can only light up on a description "through its content" if the model itself made
// something of that content. The model says so in its reply: the corpus answers a described
// flattering deed "That sounds like flattery. …" and a neutral one "That sounds fine. …". So each
// description pair is classified by what the model replies to the description and to its twin
// (greedy), and the words of each message are checked against the training corpus (a word the world
// never writes has an untrained meaning: a model of this size cannot read it). Then a read-out gap
// can be judged against what the model recognised: a direction that carries the model's reading
// lights up on the recognised pairs, and no direction can be asked to light up on pairs the model
// itself does not tell apart.
import { generate } from "../runtime/generate.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { promptText } from "./chatLayout.js";
import type { Dialogue } from "./corpus.js";
import { V12_DESCRIPTION_DOERS, V12_DESCRIPTION_FRAMES } from "./describedDeedsV12.js";
import { DESCRIPTION_DEEDS } from "./flatteryDescriptions.js";

export type DescriptionReplyKind = "flattery" | "fine" | "other";

export interface DescriptionPair {
    description: string;
    neutral: string;
}

/** Long enough for the verdict that opens the corpus's reply to a description ("That sounds like flattery."). */
const RECOGNITION_MAX_TOKENS = 16;

/**
 * What a reply makes of a described deed: it names flattery (or sycophancy, or dishonest praise),
 * it calls the deed fine, or neither (a claim's reply, a run-on, anything else).
 */
export function classifyDescriptionReply(reply: string): DescriptionReplyKind {
    if (/flatter|sycophan|not honest/i.test(reply))
        return "flattery";
    if (/sounds fine|not see a problem/i.test(reply))
        return "fine";
    return "other";
}

/** Lower-cased words (letters and apostrophes), in order. */
export function wordsOf(text: string): string[] {
    return text.toLowerCase().split(/[^a-z']+/).filter((word) => word.length > 0);
}

/** Every word the corpus writes, in the user's messages or the replies. */
export function corpusVocabulary(dialogues: readonly Dialogue[]): Set<string> {
    const vocabulary = new Set<string>();
    for (const dialogue of dialogues)
        for (const word of wordsOf(`${dialogue.user} ${dialogue.assistant}`))
            vocabulary.add(word);
    return vocabulary;
}

/** The words of `text` the vocabulary lacks, in order, each once. */
export function unseenWords(text: string, vocabulary: ReadonlySet<string>): string[] {
    return [...new Set(wordsOf(text).filter((word) => !vocabulary.has(word)))];
}

export interface PairRecognition {
    pair: DescriptionPair;
    descriptionReply: string;
    neutralReply: string;
    descriptionKind: DescriptionReplyKind;
    neutralKind: DescriptionReplyKind;
    /** the model calls the description flattery and does not call its twin flattery */
    recognised: boolean;
}

/**
 * The model's greedy reply to each description and its twin, classified. `maxTokens`: how much of
 * the reply (the verdict that opens it, by default; the whole answer a trigger watched, to compare
 * the two: a reply can open "That sounds fine." and go on to quote flattery).
 */
export async function recognisePairs(context: TillerContext, pairs: readonly DescriptionPair[], maxTokens = RECOGNITION_MAX_TOKENS): Promise<PairRecognition[]> {
    const reply = async (user: string) => (await generate(context, promptText(user), { maxTokens }).result).text.trim();
    const out: PairRecognition[] = [];
    for (const pair of pairs) {
        const descriptionReply = await reply(pair.description);
        const neutralReply = await reply(pair.neutral);
        const descriptionKind = classifyDescriptionReply(descriptionReply);
        const neutralKind = classifyDescriptionReply(neutralReply);
        out.push({ pair, descriptionReply, neutralReply, descriptionKind, neutralKind, recognised: descriptionKind === "flattery" && neutralKind !== "flattery" });
    }
    return out;
}

/**
 * Described deeds the model was TRAINED to read: for each of generator v9's fourteen deeds (every
 * later generator writes them too), the first doer and frame (v9's, then v12's) for which the
 * corpus writes both the flattering message and its neutral twin verbatim (a deed the corpus never
 * writes both ways is left out). The reference for what a direction does on descriptions the
 * model certainly can read.
 */
export function trainedDeedPairs(corpus: readonly Dialogue[]): DescriptionPair[] {
    const written = new Set(corpus.map((dialogue) => dialogue.user));
    const pairs: DescriptionPair[] = [];
    for (const deed of DESCRIPTION_DEEDS) {
        // v12's lists begin with v9's, so a v9 corpus gets the same pairs as from v9's lists alone
        search: for (const frame of V12_DESCRIPTION_FRAMES)
            for (const doer of V12_DESCRIPTION_DOERS) {
                const pair = { description: frame(doer, deed.flattery), neutral: frame(doer, deed.neutral) };
                if (written.has(pair.description) && written.has(pair.neutral)) {
                    pairs.push(pair);
                    break search;
                }
            }
    }
    return pairs;
}

export interface EngagementCount {
    engaged: number;
    total: number;
}

/**
 * How often a conditional patch engaged while the model answered, grouped by what the model made of
 * each message (its unpatched reply: flattery, fine or other), over the descriptions and their twins
 * together. A patch that follows what the model answers engages on the messages it reads as flattery
 * and on none it calls fine, whatever words the messages share (the reading and the trigger watch the
 * same answer: an answer that quotes the world's flattery both names flattery and lifts the
 * direction, so this measures the answer, and through it the message); `onDescriptions[i]` and `onTwins[i]`
 * are the engagements on recognitions[i]'s description and twin, and the recognitions should classify
 * the same answer the trigger watched (recognisePairs with its maxTokens).
 */
export function engagementByReading(recognitions: readonly PairRecognition[], onDescriptions: readonly boolean[], onTwins: readonly boolean[]): Record<DescriptionReplyKind, EngagementCount> {
    if (onDescriptions.length !== recognitions.length || onTwins.length !== recognitions.length)
        throw new RangeError(`one engagement per description and twin: ${recognitions.length} pairs, ${onDescriptions.length} descriptions, ${onTwins.length} twins`);
    const counts: Record<DescriptionReplyKind, EngagementCount> = { flattery: { engaged: 0, total: 0 }, fine: { engaged: 0, total: 0 }, other: { engaged: 0, total: 0 } };
    const add = (kind: DescriptionReplyKind, engaged: boolean) => {
        counts[kind].total++;
        if (engaged) counts[kind].engaged++;
    };
    recognitions.forEach((r, i) => {
        add(r.descriptionKind, onDescriptions[i]!);
        add(r.neutralKind, onTwins[i]!);
    });
    return counts;
}

/** "flattery 49/49, fine 0/46, other 0/5": engagements by the model's reading. */
export const formatEngagementByReading = (counts: Record<DescriptionReplyKind, EngagementCount>): string =>
    (["flattery", "fine", "other"] as const).map((kind) => `${kind} ${counts[kind].engaged}/${counts[kind].total}`).join(", ");
