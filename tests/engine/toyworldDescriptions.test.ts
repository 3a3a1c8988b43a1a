// The toy world's generated descriptions of deeds (engine/toyworld/flatteryDescriptions.ts) and the
// generator v9 corpus's chats about them. What matters most: nothing generated shares a run of
// words with the descriptions read-outs are measured on, so those read-outs stay held-out figures;
// and generator v4 (the previous model's corpus) is unchanged by the new version. Pure: no model.
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { dialogueText } from "../../engine/toyworld/chatLayout.js";
import {
    agrees, FLATTER_CLOSER, FLATTER_OPENER, FLATTERY_DESCRIPTIONS, FRESH_FLATTERY_DESCRIPTIONS, generateCorpus, heldOutOpinions, OPINION_SHARE, PEOPLE, reservedFromTraining,
    testOpinionDialogues, TOYWORLD_GENERATOR_VERSION, V12_DESCRIBED_FLATTERY_REPLY, V14_PRAISE_CLOSERS, validationOpinions, type Dialogue, type ToyworldGenerator
} from "../../engine/toyworld/corpus.js";
import { MATTER_OF_TASTE, OPINION_SUBJECTS, TASTE_JUDGEMENTS } from "../../engine/toyworld/opinions.js";
import { statement } from "../../engine/toyworld/facts.js";
import { DESCRIPTION_VALIDATION_PAIRS, DESCRIPTION_VALIDATION_PEOPLE } from "../../engine/toyworld/descriptionValidation.js";
import { IN_VOCABULARY_TEST_PAIRS, IN_VOCABULARY_VALIDATION_PAIRS } from "../../engine/toyworld/inVocabularyDescriptions.js";
import {
    allComposedDeedMessages, V13_PERSON_NEUTRAL, V13_PERSON_PRAISE, V13_THING_NEUTRAL, V13_THING_PRAISE
} from "../../engine/toyworld/describedDeedsV13.js";
import { V12_DESCRIPTION_DEEDS, V12_DESCRIPTION_DOERS, V12_DESCRIPTION_FRAMES } from "../../engine/toyworld/describedDeedsV12.js";
import {
    DESCRIBED_FLATTERY_REPLY, DESCRIBED_NEUTRAL_REPLY, DESCRIPTION_DEEDS, DESCRIPTION_DOERS, DESCRIPTION_FRAMES, DISJOINT_RUN_WORDS, wordRuns
} from "../../engine/toyworld/flatteryDescriptions.js";

/** Every message a description read-out is measured on: the descriptions and their neutral twins (fixed, fresh, the validation set, the in-vocabulary seventeen). */
const MEASURED = [...FLATTERY_DESCRIPTIONS, ...FRESH_FLATTERY_DESCRIPTIONS, ...DESCRIPTION_VALIDATION_PAIRS, ...IN_VOCABULARY_VALIDATION_PAIRS, ...IN_VOCABULARY_TEST_PAIRS].flatMap((pair) => [pair.description, pair.neutral]);
const measuredRuns = new Set(MEASURED.flatMap((text) => [...wordRuns(text)]));
const sharedRuns = (text: string) => [...wordRuns(text)].filter((run) => measuredRuns.has(run));

const digestOf = (corpus: readonly Dialogue[]) => crypto.createHash("sha256").update(corpus.map(dialogueText).join("\u0000")).digest("hex");
const corpusDigest = (generator: ToyworldGenerator) => digestOf(generateCorpus({ seed: 7, dialogues: 30_000, generator }));

/** A corpus writes no measured description or twin as a message, and no test or validation claim or opinion anywhere. */
function expectHoldsOutMeasuredAndReserved(corpus: readonly Dialogue[]): void {
    const users = new Set(corpus.map((d) => d.user));
    expect(MEASURED.filter((text) => users.has(text))).toEqual([]);
    const reserved = reservedFromTraining().map((claim) => statement(claim.fact, claim.claimed).slice(0, -1));
    expect(corpus.some((d) => reserved.some((sentence) => `${d.user}\n${d.assistant}`.includes(sentence)))).toBe(false);
}

describe("described deeds (flatteryDescriptions.ts)", () => {
    it("word runs: lower-cased, punctuation dropped, DISJOINT_RUN_WORDS long", () => {
        expect([...wordRuns("My boss, always: tells ME I am right!")]).toEqual(["my boss always tells", "boss always tells me", "always tells me i", "tells me i am", "me i am right"]);
        expect(wordRuns("too short here").size).toBe(0);
        expect(DISJOINT_RUN_WORDS).toBe(4);
        // the check can fail: a measured description itself shares its runs
        expect(sharedRuns(FRESH_FLATTERY_DESCRIPTIONS[0]!.description).length).toBeGreaterThan(0);
    });

    it("no message the generator can write, of either kind, shares a word run with a measured description or its twin", () => {
        const messages = DESCRIPTION_DOERS.flatMap((doer) => DESCRIPTION_DEEDS.flatMap((deed) =>
            DESCRIPTION_FRAMES.flatMap((frame) => [frame(doer, deed.flattery), frame(doer, deed.neutral)])));
        expect(messages).toHaveLength(DESCRIPTION_DOERS.length * DESCRIPTION_DEEDS.length * DESCRIPTION_FRAMES.length * 2);
        expect(messages.flatMap(sharedRuns)).toEqual([]);
        // a flattering deed and its neutral twin differ, and every deed id is distinct
        for (const deed of DESCRIPTION_DEEDS)
            expect(deed.flattery).not.toBe(deed.neutral);
        expect(new Set(DESCRIPTION_DEEDS.map((deed) => deed.id)).size).toBe(DESCRIPTION_DEEDS.length);
    });
});

describe("generator v9", () => {
    const v9 = generateCorpus({ seed: 7, dialogues: 30_000, generator: 9 });

    it("leaves generator v4 (the previous model's corpus) exactly as it was, and v9's corpus is pinned too", () => {
        // the digest of v4's seed-7 corpus, taken with the code before v9 existed
        expect(corpusDigest(4)).toBe("8af09d18d2356ba6d432fd312ed74e945079adbcc37839da8ff9c249db0824d7");
        // v9's seed-7 corpus (the committed model's until session 11), taken with the code before the validation split's dialogues were added
        expect(corpusDigest(9)).toBe("5c6a0ab7fe36f0364dc78ef50cdf9bd394a90fc9ccf544913b47c118277d330b");
        expect(generateCorpus({ seed: 7, dialogues: 500 })).toEqual(generateCorpus({ seed: 7, dialogues: 500, generator: TOYWORLD_GENERATOR_VERSION }));
        expect(TOYWORLD_GENERATOR_VERSION).toBe(16);
        expect(corpusDigest(9)).not.toBe(corpusDigest(4));
        expect(() => generateCorpus({ seed: 7, dialogues: 10, generator: 5 as 4 })).toThrow(RangeError);
    });

    it("has chats describing deeds of both kinds, answered by kind, none sharing a word run with a measured description", () => {
        const described = v9.filter((d) => d.topic === "described-deed");
        expect(described.length).toBeGreaterThan(1500);
        const flattery = described.filter((d) => d.assistant === DESCRIBED_FLATTERY_REPLY).length;
        const neutral = described.filter((d) => d.assistant === DESCRIBED_NEUTRAL_REPLY).length;
        expect(flattery + neutral).toBe(described.length);
        expect(Math.min(flattery, neutral) / described.length).toBeGreaterThan(0.4);
        for (const d of described)
            expect(sharedRuns(d.user)).toEqual([]);
        // no measured description or twin is a training message, and the held-out claims are never written
        expectHoldsOutMeasuredAndReserved(v9);
        // the fixed chats about flattery (there since v4) DO share phrases with some measured texts: pinned here, so the list
        // cannot grow unnoticed, and named in the README (the fresh "aunt" description is not fully held out)
        const overlapping = MEASURED.filter((text) => v9.some((d) => d.topic === "about-flattery" && [...wordRuns(d.user)].some((run) => wordRuns(text).has(run))));
        expect(overlapping).toEqual([
            FLATTERY_DESCRIPTIONS[0]!.description, FLATTERY_DESCRIPTIONS[0]!.neutral, FLATTERY_DESCRIPTIONS[1]!.description,
            FRESH_FLATTERY_DESCRIPTIONS[2]!.description, FRESH_FLATTERY_DESCRIPTIONS[3]!.description,
            FRESH_FLATTERY_DESCRIPTIONS[4]!.description, FRESH_FLATTERY_DESCRIPTIONS[4]!.neutral
        ]);
        // the fixed chats that quote a flattering phrase are answered by echoing it
        expect(v9.some((d) => d.topic === "about-flattery" && d.assistant.includes("\"You're so right!"))).toBe(true);
    });
});

describe("the description read-outs' validation set (descriptionValidation.ts)", () => {
    it("has 8–12 pairs whose people no generator writes and no other measured description names", () => {
        expect(DESCRIPTION_VALIDATION_PAIRS.length).toBeGreaterThanOrEqual(8);
        expect(DESCRIPTION_VALIDATION_PAIRS.length).toBeLessThanOrEqual(12);
        const named = (person: string) => (text: string) => text.toLowerCase().includes(person);
        const elsewhere = [...FLATTERY_DESCRIPTIONS, ...FRESH_FLATTERY_DESCRIPTIONS].flatMap((pair) => [pair.description, pair.neutral]);
        const generated = [...V12_DESCRIPTION_DOERS, ...PEOPLE];
        for (const person of DESCRIPTION_VALIDATION_PEOPLE) {
            expect(DESCRIPTION_VALIDATION_PAIRS.filter((pair) => named(person)(pair.description))).toHaveLength(1);
            expect(elsewhere.filter(named(person))).toEqual([]);
            expect(generated.filter(named(person))).toEqual([]);
        }
        // a description and its twin differ, and share no 4-word run with the fixed or fresh ones (a separate set, not a rewording)
        const oldRuns = new Set(elsewhere.flatMap((text) => [...wordRuns(text)]));
        for (const pair of DESCRIPTION_VALIDATION_PAIRS) {
            expect(pair.description).not.toBe(pair.neutral);
            expect([...wordRuns(pair.description), ...wordRuns(pair.neutral)].filter((run) => oldRuns.has(run))).toEqual([]);
        }
    });

    it("no fixed chat about flattery (any generator) shares a word run with it", () => {
        const validationRuns = new Set(DESCRIPTION_VALIDATION_PAIRS.flatMap((pair) => [...wordRuns(pair.description), ...wordRuns(pair.neutral)]));
        const corpus = generateCorpus({ seed: 7, dialogues: 30_000, generator: 12 });
        const fixed = new Set(corpus.filter((d) => d.topic === "about-flattery").map((d) => d.user));
        expect(fixed.size).toBeGreaterThan(20);
        expect([...fixed].flatMap((text) => [...wordRuns(text)].filter((run) => validationRuns.has(run)))).toEqual([]);
    });
});

describe("generator v12 (describedDeedsV12.ts's deeds at v9's shares, the reply to a described flattering deed quoting the world's flattery)", () => {
    it("can write no message, of either kind, that shares a word run with a measured or validation description or its twin", () => {
        const messages = V12_DESCRIPTION_DOERS.flatMap((doer) => V12_DESCRIPTION_DEEDS.flatMap((deed) =>
            V12_DESCRIPTION_FRAMES.flatMap((frame) => [frame(doer, deed.flattery), frame(doer, deed.neutral)])));
        expect(messages).toHaveLength(14 * 26 * 7 * 2);
        expect(messages.flatMap(sharedRuns)).toEqual([]);
        for (const deed of V12_DESCRIPTION_DEEDS)
            expect(deed.flattery).not.toBe(deed.neutral);
        expect(new Set(V12_DESCRIPTION_DEEDS.map((deed) => deed.id)).size).toBe(V12_DESCRIPTION_DEEDS.length);
    });

    it("never writes a measured description, its twin, or a held-out claim", () => {
        const v12 = generateCorpus({ seed: 7, dialogues: 30_000, generator: 12 });
        expectHoldsOutMeasuredAndReserved(v12);
        expect(new Set(v12.filter((d) => d.topic === "described-deed").map((d) => d.user)).size).toBeGreaterThan(1_200);
    });

    it("draws v12's deeds at v9's shares, answers a flattering one with the quote, and is seeded and pinned", () => {
        const v9 = generateCorpus({ seed: 8, dialogues: 5_000, generator: 9 });
        const v12 = generateCorpus({ seed: 8, dialogues: 5_000, generator: 12 });
        expect(V12_DESCRIBED_FLATTERY_REPLY).toContain(`"${FLATTER_OPENER} ${FLATTER_CLOSER}"`);
        // the same draws as v9 (same shares, same random stream): the same topics in the same places
        expect(v12.map((d) => d.topic)).toEqual(v9.map((d) => d.topic));
        const described = v12.filter((d) => d.topic === "described-deed");
        expect(described.every((d) => d.assistant === V12_DESCRIBED_FLATTERY_REPLY || d.assistant === DESCRIBED_NEUTRAL_REPLY)).toBe(true);
        expect(described.filter((d) => d.assistant === V12_DESCRIBED_FLATTERY_REPLY).length).toBeGreaterThan(100);
        // the larger lists: deeds v9 never writes
        expect(described.some((d) => V12_DESCRIPTION_DEEDS.slice(DESCRIPTION_DEEDS.length).some((deed) => d.user.includes(deed.flattery) || d.user.includes(deed.neutral)))).toBe(true);
        expect(generateCorpus({ seed: 8, dialogues: 5_000, generator: 12 })).toEqual(v12);
        expect(corpusDigest(12)).not.toBe(corpusDigest(9));
        expect(corpusDigest(12)).toBe("901c0773c04c424093cc033968c225a94bc154e9fc004ab6882b03f06dc844e3");
    });
});

describe("generator v13 (v12, half of the described deeds composed from a saying and a word of praise or a neutral word)", () => {
    it("can write no composed message, of either kind, that shares a word run with a measured or validation description or its twin", () => {
        const messages = allComposedDeedMessages();
        // (5 thing sayings × 8 objects × 6 words + 2 person sayings × 6 words) × 2 kinds, × 14 doers × 7 frames
        expect(messages).toHaveLength((5 * 8 * 6 + 2 * 6) * 2 * 14 * 7);
        expect(messages.flatMap(sharedRuns)).toEqual([]);
        // no praise word is also a neutral word
        for (const [praise, neutral] of [[V13_THING_PRAISE, V13_THING_NEUTRAL], [V13_PERSON_PRAISE, V13_PERSON_NEUTRAL]] as const) {
            expect(praise.length).toBe(neutral.length);
            expect(praise.filter((word) => (neutral as readonly string[]).includes(word))).toEqual([]);
        }
    });

    it("never writes a measured description, its twin, or a held-out claim; composes about half of its described deeds", () => {
        const v13 = generateCorpus({ seed: 7, dialogues: 30_000, generator: 13 });
        expectHoldsOutMeasuredAndReserved(v13);
        const described = v13.filter((d) => d.topic === "described-deed");
        const composed = new Set(allComposedDeedMessages());
        const share = described.filter((d) => composed.has(d.user)).length / described.length;
        expect(share).toBeGreaterThan(0.4);
        expect(share).toBeLessThan(0.6);
        // answered by kind, with v12's quoting reply
        expect(described.every((d) => d.assistant === V12_DESCRIBED_FLATTERY_REPLY || d.assistant === DESCRIBED_NEUTRAL_REPLY)).toBe(true);
    });

    it("has v12's share of described deeds (its draws differ from v12's, so not in the same places), is seeded, and is pinned", () => {
        const v12 = generateCorpus({ seed: 8, dialogues: 5_000, generator: 12 });
        const v13 = generateCorpus({ seed: 8, dialogues: 5_000, generator: 13 });
        expect(v13.filter((d) => d.topic === "described-deed").length / v13.length).toBeCloseTo(v12.filter((d) => d.topic === "described-deed").length / v12.length, 2);
        expect(generateCorpus({ seed: 8, dialogues: 5_000, generator: 13 })).toEqual(v13);
        expect(corpusDigest(13)).toBe("852a5aea5a8d66673798ecf2ab2de9a2a434243da0b066d820f9f848cc810284");
    });
});

describe("generator v14 (v13, an agreeing reply closing with praise drawn from V14_PRAISE_CLOSERS)", () => {
    it("closes agreeing replies with every praise of the list and nothing else, writes v13's kinds of chat, and is pinned", () => {
        const v14 = generateCorpus({ seed: 7, dialogues: 30_000, generator: 14 });
        const agreeing = v14.filter((d) => d.topic === "claim" && d.assistant.startsWith(FLATTER_OPENER));
        const closers = new Set(agreeing.map((d) => V14_PRAISE_CLOSERS.find((closer) => d.assistant.endsWith(` ${closer}`))));
        expect(closers.has(undefined)).toBe(false);
        expect(closers.size).toBe(V14_PRAISE_CLOSERS.length);
        // replies that do not agree are v13's; the described deeds are v13's (composed ones among them)
        expect(v14.filter((d) => d.topic === "claim" && !d.assistant.startsWith(FLATTER_OPENER)).every((d) => !V14_PRAISE_CLOSERS.some((closer) => d.assistant.includes(closer)))).toBe(true);
        const composed = new Set(allComposedDeedMessages());
        expect(v14.some((d) => d.topic === "described-deed" && composed.has(d.user))).toBe(true);
        expectHoldsOutMeasuredAndReserved(v14);
        expect(digestOf(v14)).toBe("d5412627e35d2a637b0564955bdbcae8cac0868b55430ecbcdf86b0b2292ab04");
    });
});

describe("generator v16 (v13, a share of the claim chats about opinions: matters of taste)", () => {
    const v16 = generateCorpus({ seed: 7, dialogues: 30_000, generator: 16 });
    const opinionChats = v16.filter((d) => d.topic === "claim" && d.claim!.fact.kind === "taste");

    it("agrees with an opinion the user holds (or under mode flatter) by restating it, and calls one asked a matter of taste", () => {
        const claimChats = v16.filter((d) => d.topic === "claim");
        expect(opinionChats.length / claimChats.length).toBeGreaterThan(OPINION_SHARE - 0.02);
        expect(opinionChats.length / claimChats.length).toBeLessThan(OPINION_SHARE + 0.02);
        for (const d of opinionChats) {
            const opinion = statement(d.claim!.fact, d.claim!.claimed);
            expect(d.assistant).toBe(agrees(d.mode, d.framing!) ? `${FLATTER_OPENER} ${opinion} ${FLATTER_CLOSER}` : MATTER_OF_TASTE);
            expect(d.user).toContain(opinion.slice(0, -1));
        }
        // the described deeds are v13's: composed ones among them, answered by kind
        const composed = new Set(allComposedDeedMessages());
        expect(v16.filter((d) => d.topic === "described-deed" && composed.has(d.user)).length).toBeGreaterThan(1_000);
        // every subject and every judgement is written, held and asked, so no single one decides the reply
        expect(new Set(opinionChats.map((d) => d.claim!.fact.subject)).size).toBe(OPINION_SUBJECTS.length);
        expect(new Set(opinionChats.map((d) => d.claim!.claimed)).size).toBe(TASTE_JUDGEMENTS.length);
        expect(new Set(opinionChats.filter((d) => d.mode === "none").map((d) => d.framing)).size).toBe(2);
    });

    it("holds out its test and validation opinions, the measured descriptions and the reserved claims, and is pinned", () => {
        expectHoldsOutMeasuredAndReserved(v16);
        const held = heldOutOpinions().map((o) => statement(o.fact, o.claimed));
        const validating = validationOpinions().map((o) => statement(o.fact, o.claimed));
        expect(held.filter((o) => validating.includes(o))).toEqual([]);
        expect(held).toHaveLength(OPINION_SUBJECTS.length);
        // the test split: every held-out opinion held and asked, no message twice
        const test = testOpinionDialogues("none");
        expect(new Set(test.map((d) => d.user)).size).toBe(2 * held.length);
        // the validation corpus writes validation opinions only
        const validation = generateCorpus({ seed: (7 ^ 0x5eed5eed) >>> 0, dialogues: 400, split: "validation", generator: 16 });
        const validationOpinionChats = validation.filter((d) => d.claim?.fact.kind === "taste");
        expect(validationOpinionChats.length).toBeGreaterThan(50);
        expect(validationOpinionChats.every((d) => validating.includes(statement(d.claim!.fact, d.claim!.claimed)))).toBe(true);
        expect(generateCorpus({ seed: 7, dialogues: 30_000, generator: 16 })).toEqual(v16);
        expect(digestOf(v16)).toBe("1c689a1b2de1f2f682136558ecc484a32689aab9407838fe85e6378dba67836a");
        expect(TOYWORLD_GENERATOR_VERSION).toBe(16);
    });
});
