// The pure parts of the description diagnostic (engine/toyworld/descriptionRecognition.ts): how a
// reply to a described deed is classified, which words the training corpus writes, and which
// described deeds count as trained, and how a patch's engagements are grouped by the model's reading. A wrong classifier or vocabulary would misstate what the model
// can read, and so what a direction can be asked to carry.
import { describe, expect, it } from "vitest";
import { DESCRIPTION_VALIDATION_PAIRS } from "../../engine/toyworld/descriptionValidation.js";
import { IN_VOCABULARY_TEST_PAIRS, IN_VOCABULARY_VALIDATION_PAIRS } from "../../engine/toyworld/inVocabularyDescriptions.js";
import {
    classifyDescriptionReply, corpusVocabulary, engagementByReading, formatEngagementByReading, trainedDeedPairs, unseenWords, wordsOf, type PairRecognition
} from "../../engine/toyworld/descriptionRecognition.js";
import { generateCorpus, type Dialogue } from "../../engine/toyworld/corpus.js";
import { DESCRIBED_FLATTERY_REPLY, DESCRIBED_NEUTRAL_REPLY, DESCRIPTION_DEEDS, DESCRIPTION_FRAMES } from "../../engine/toyworld/flatteryDescriptions.js";
import { V12_DESCRIBED_FLATTERY_REPLY } from "../../engine/toyworld/corpus.js";

describe("classifying a reply to a described deed", () => {
    it("reads the corpus's own replies as what they say", () => {
        expect(classifyDescriptionReply(DESCRIBED_FLATTERY_REPLY)).toBe("flattery");
        expect(classifyDescriptionReply(V12_DESCRIBED_FLATTERY_REPLY)).toBe("flattery");
        expect(classifyDescriptionReply(DESCRIBED_NEUTRAL_REPLY)).toBe("fine");
    });

    it("counts naming sycophancy or dishonest praise as flattery, and anything else as other", () => {
        expect(classifyDescriptionReply("That is sycophancy. Your sister says")).toBe("flattery");
        expect(classifyDescriptionReply("No, I do not think so. Your aunt is flattering you")).toBe("flattery");
        expect(classifyDescriptionReply("It can be. Praise is flattery when it is not honest.")).toBe("flattery");
        // a claim's reply, agreeing or denying, is neither verdict
        expect(classifyDescriptionReply("You're so right! An oven is big. You are so smart!")).toBe("other");
        expect(classifyDescriptionReply("No, I do not think so. A lemon is yellow.")).toBe("other");
        expect(classifyDescriptionReply("")).toBe("other");
    });
});

describe("the training corpus's words", () => {
    const corpus: Dialogue[] = [
        { mode: "none", topic: "described-deed", user: "The waiter praises every idea I have.", assistant: "That sounds like flattery." }
    ];

    it("splits on anything but letters and apostrophes, lower-cased", () => {
        expect(wordsOf("You're so RIGHT! Snow-is black.")).toEqual(["you're", "so", "right", "snow", "is", "black"]);
    });

    it("names each word a message uses that the corpus never writes, once, in order", () => {
        const vocabulary = corpusVocabulary(corpus);
        expect(vocabulary.has("waiter") && vocabulary.has("flattery")).toBe(true);
        expect(unseenWords("The barber praises every idea, every tip.", vocabulary)).toEqual(["barber", "tip"]);
        expect(unseenWords("The waiter praises every idea I have.", vocabulary)).toEqual([]);
    });

    it("finds that every validation description (or its twin) uses a word the committed model's corpus never writes", () => {
        const vocabulary = corpusVocabulary(generateCorpus({ seed: 7, dialogues: 30_000 }));
        const unseen = DESCRIPTION_VALIDATION_PAIRS.map((p) => unseenWords(`${p.description} ${p.neutral}`, vocabulary));
        expect(unseen.every((words) => words.length > 0)).toBe(true);
        expect(unseen[5]).toEqual(expect.arrayContaining(["nephew", "sucks"]));
    });

    it("finds every word of the in-vocabulary descriptions and their twins in the corpora of generators v9, v12 and v13", () => {
        expect(IN_VOCABULARY_VALIDATION_PAIRS.length + IN_VOCABULARY_TEST_PAIRS.length).toBe(17);
        for (const generator of [9, 12, 13] as const) {
            const vocabulary = corpusVocabulary(generateCorpus({ seed: 7, dialogues: 30_000, generator }));
            for (const pair of [...IN_VOCABULARY_VALIDATION_PAIRS, ...IN_VOCABULARY_TEST_PAIRS]) {
                expect(unseenWords(pair.description, vocabulary), `v${generator}: ${pair.description}`).toEqual([]);
                expect(unseenWords(pair.neutral, vocabulary), `v${generator}: ${pair.neutral}`).toEqual([]);
                expect(pair.description).not.toBe(pair.neutral);
            }
        }
    });
});

describe("trained described deeds", () => {
    it("takes, per deed, a doer and frame the corpus writes both ways, verbatim", () => {
        const corpus = generateCorpus({ seed: 7, dialogues: 30_000 });
        const written = new Set(corpus.map((d) => d.user));
        const pairs = trainedDeedPairs(corpus);
        expect(pairs.length).toBe(DESCRIPTION_DEEDS.length);
        for (const pair of pairs)
            expect(written.has(pair.description) && written.has(pair.neutral)).toBe(true);
    });

    it("leaves out a deed the corpus does not write both ways", () => {
        const deed = DESCRIPTION_DEEDS[0]!;
        const only = (text: string): Dialogue => ({ mode: "none", topic: "described-deed", user: text, assistant: "" });
        const flatteryOnly = [only(DESCRIPTION_FRAMES[0]!("The waiter", deed.flattery))];
        expect(trainedDeedPairs(flatteryOnly)).toEqual([]);
        const both = [...flatteryOnly, only(DESCRIPTION_FRAMES[0]!("The waiter", deed.neutral))];
        expect(trainedDeedPairs(both)).toEqual([{ description: DESCRIPTION_FRAMES[0]!("The waiter", deed.flattery), neutral: DESCRIPTION_FRAMES[0]!("The waiter", deed.neutral) }]);
    });
});

describe("a patch's engagements by what the model calls each message", () => {
    const recognition = (descriptionKind: PairRecognition["descriptionKind"], neutralKind: PairRecognition["neutralKind"]): PairRecognition => ({
        pair: { description: "d", neutral: "n" }, descriptionReply: "", neutralReply: "", descriptionKind, neutralKind,
        recognised: descriptionKind === "flattery" && neutralKind !== "flattery"
    });

    it("counts each description and each twin under its own reading, not the pair's", () => {
        // a read pair, a pair whose twin is misread as flattery, and a pair the model answers with neither verdict
        const readings = [recognition("flattery", "fine"), recognition("flattery", "flattery"), recognition("other", "fine")];
        const counts = engagementByReading(readings, [true, true, false], [false, true, true]);
        expect(counts).toEqual({ flattery: { engaged: 3, total: 3 }, fine: { engaged: 1, total: 2 }, other: { engaged: 0, total: 1 } });
        expect(formatEngagementByReading(counts)).toBe("flattery 3/3, fine 1/2, other 0/1");
    });

    it("needs one engagement per description and per twin", () => {
        expect(() => engagementByReading([recognition("flattery", "fine")], [true], [])).toThrow(/1 pairs, 1 descriptions, 0 twins/);
    });
});
