// Messages that describe what someone does — flattery ("The waiter praises every idea I have.") or a
// neutral deed of the same shape ("The waiter writes down every idea I have.") — generated from
// people, deeds and frames. The corpus (generator v9) has chats where a user describes such a deed
// and the assistant says whether it is flattery, so that the model has to read a description's
// CONTENT (the deed), not its shape, to answer.
//
// Every generated message is disjoint from the descriptions read-outs are MEASURED on (corpus.ts:
// FLATTERY_DESCRIPTIONS, FRESH_FLATTERY_DESCRIPTIONS): tests/engine/toyworld.test.ts checks that
// none shares a run of DISJOINT_RUN_WORDS words with any of them or their twins, so a read-out on
// those stays a held-out figure. (Single content words — "praises", "right", "agrees" — are shared:
// that is what reading by content means.)
import type { SeededRandom } from "../runtime/sampling/SeededRandom.js";

/** People who do the deed: none of them appears in a measured description. */
export const DESCRIPTION_DOERS = ["The waiter", "Our manager", "The salesman", "My grandma", "The captain", "My landlord", "Our guide", "My partner"] as const;

/** What a flatterer does, and a neutral deed of the same shape (the same words around the slot). */
export const DESCRIPTION_DEEDS: ReadonlyArray<{ id: string; flattery: string; neutral: string }> = [
    { id: "praises-ideas", flattery: "praises every idea I have", neutral: "writes down every idea I have" },
    { id: "genius", flattery: "calls me a genius every day", neutral: "calls me at noon every day" },
    { id: "says-yes", flattery: "says yes to every claim I make", neutral: "says hello to every guest I bring" },
    { id: "perfect-plan", flattery: "tells me my plan is perfect", neutral: "tells me my bus is here" },
    { id: "never-wrong", flattery: "says I am never wrong", neutral: "says I am never home" },
    { id: "compliments", flattery: "compliments my work all day", neutral: "checks my work all day" },
    { id: "agrees-ideas", flattery: "agrees with all my ideas, good or bad", neutral: "listens to all my ideas, good or bad" },
    { id: "admires", flattery: "admires everything I do", neutral: "watches everything I do" },
    { id: "wants-to-hear", flattery: "tells me only what I want to hear", neutral: "tells me only what I need to buy" },
    { id: "clever", flattery: "says my answers are so clever", neutral: "says my answers are so short" },
    { id: "best-singer", flattery: "says my singing is the best", neutral: "says my singing is too loud" },
    { id: "claps-jokes", flattery: "claps at all my jokes, even bad ones", neutral: "writes down all my jokes, even bad ones" },
    { id: "brilliant", flattery: "thinks all my ideas are brilliant", neutral: "thinks all my ideas are new" },
    { id: "look-great", flattery: "says I look great, even when I do not", neutral: "says I look tired, even when I do not" }
];

/** The sentence around a deed: a question or a remark, the same for a flattering and a neutral deed. */
export const DESCRIPTION_FRAMES: ReadonlyArray<(doer: string, deed: string) => string> = [
    (doer, deed) => `${doer} ${deed}. What do you think?`,
    (doer, deed) => `${doer} ${deed}. Should I trust that?`,
    (doer, deed) => `Every time we meet, ${doer.toLowerCase()} ${deed}.`,
    (doer, deed) => `${doer} ${deed}, and I do not know why.`
];

/** How the assistant answers a described deed in the corpus (one reply per kind: the kind is what it must read). */
export const DESCRIBED_FLATTERY_REPLY = "That sounds like flattery. Praise to please you is not honest.";
export const DESCRIBED_NEUTRAL_REPLY = "That sounds fine. I do not see a problem with it.";

/** Runs of this many words shared with a measured description would make a read-out on it not held out. */
export const DISJOINT_RUN_WORDS = 4;

export interface DescribedDeed {
    kind: "flattery" | "neutral";
    message: string;
    /** the deed's id */
    deed: string;
}

const pickFrom = <T>(random: SeededRandom, items: readonly T[]): T => items[Math.floor(random.next() * items.length)]!;

/** One seeded description, flattery or neutral with equal odds. */
export function drawDescribedDeed(random: SeededRandom): DescribedDeed {
    const kind = random.next() < 0.5 ? "flattery" : "neutral";
    const doer = pickFrom(random, DESCRIPTION_DOERS), deed = pickFrom(random, DESCRIPTION_DEEDS), frame = pickFrom(random, DESCRIPTION_FRAMES);
    return { kind, message: frame(doer, deed[kind]), deed: deed.id };
}

/** The text's runs of `words` consecutive words, lower-cased, punctuation dropped. */
export function wordRuns(text: string, words = DISJOINT_RUN_WORDS): Set<string> {
    const tokens = text.toLowerCase().split(/[^a-z']+/).filter((token) => token.length > 0);
    const runs = new Set<string>();
    for (let i = 0; i + words <= tokens.length; i++)
        runs.add(tokens.slice(i, i + words).join(" "));
    return runs;
}
