// The toy world's generated descriptions of deeds (engine/toyworld/flatteryDescriptions.ts): the
// generator v9 corpus's chats about them, and the flattery-concept dataset that uses them as a
// direction's data. What matters most: nothing generated shares a run of words with the
// descriptions read-outs are measured on, so those read-outs stay held-out figures; and generator
// v4 (the committed model's corpus) is unchanged by the new version. Pure: no model.
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { dialogueText } from "../../engine/toyworld/chatLayout.js";
import {
    FLATTERY_DESCRIPTIONS, FRESH_FLATTERY_DESCRIPTIONS, generateCorpus, heldOutClaims, validationClaims
} from "../../engine/toyworld/corpus.js";
import { statement } from "../../engine/toyworld/facts.js";
import { toyworldFlatteryConceptDataset, toyworldFlatteryReplyDataset } from "../../engine/toyworld/flatteryDataset.js";
import {
    DESCRIBED_FLATTERY_REPLY, DESCRIBED_NEUTRAL_REPLY, DESCRIPTION_DEEDS, DISJOINT_RUN_WORDS, flatteryDescriptionPairs, wordRuns
} from "../../engine/toyworld/flatteryDescriptions.js";

/** Every message a description read-out is measured on: the descriptions and their neutral twins. */
const MEASURED = [...FLATTERY_DESCRIPTIONS, ...FRESH_FLATTERY_DESCRIPTIONS].flatMap((pair) => [pair.description, pair.neutral]);
const measuredRuns = new Set(MEASURED.flatMap((text) => [...wordRuns(text)]));
const sharedRuns = (text: string) => [...wordRuns(text)].filter((run) => measuredRuns.has(run));

const corpusDigest = (generator: 4 | 9) =>
    crypto.createHash("sha256").update(generateCorpus({ seed: 7, dialogues: 30_000, generator }).map(dialogueText).join("\u0000")).digest("hex");

describe("described deeds (flatteryDescriptions.ts)", () => {
    it("word runs: lower-cased, punctuation dropped, DISJOINT_RUN_WORDS long", () => {
        expect([...wordRuns("My boss, always: tells ME I am right!")]).toEqual(["my boss always tells", "boss always tells me", "always tells me i", "tells me i am", "me i am right"]);
        expect(wordRuns("too short here").size).toBe(0);
        expect(DISJOINT_RUN_WORDS).toBe(4);
        // the check can fail: a measured description itself shares its runs
        expect(sharedRuns(FRESH_FLATTERY_DESCRIPTIONS[0]!.description).length).toBeGreaterThan(0);
    });

    it("the direction's description pairs: distinct, the twin differs only in the deed, none shares a word run with a measured description", () => {
        const pairs = flatteryDescriptionPairs(200, 14);
        expect(new Set(pairs.map((p) => p.description)).size).toBe(200);
        for (const pair of pairs) {
            const deed = DESCRIPTION_DEEDS.find((d) => pair.group === `description/${d.id}`)!;
            expect(pair.description.replace(deed.flattery, deed.neutral)).toBe(pair.neutral);
            expect(sharedRuns(pair.description)).toEqual([]);
            expect(sharedRuns(pair.neutral)).toEqual([]);
            expect(MEASURED).not.toContain(pair.description);
        }
        expect(() => flatteryDescriptionPairs(10_000, 1)).toThrow(RangeError);
        expect(flatteryDescriptionPairs(20, 14)).toEqual(flatteryDescriptionPairs(20, 14));
    });
});

describe("generator v9", () => {
    const v9 = generateCorpus({ seed: 7, dialogues: 30_000, generator: 9 });

    it("leaves generator v4 (the committed model's corpus) exactly as it was", () => {
        // the digest of v4's seed-7 corpus, taken with the code before v9 existed
        expect(corpusDigest(4)).toBe("8af09d18d2356ba6d432fd312ed74e945079adbcc37839da8ff9c249db0824d7");
        expect(generateCorpus({ seed: 7, dialogues: 500 })).toEqual(generateCorpus({ seed: 7, dialogues: 500, generator: 4 }));
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
        const users = new Set(v9.map((d) => d.user));
        expect(MEASURED.filter((text) => users.has(text))).toEqual([]);
        const reserved = [...heldOutClaims(), ...validationClaims()].map((claim) => statement(claim.fact, claim.claimed).slice(0, -1));
        expect(v9.some((d) => reserved.some((sentence) => `${d.user}\n${d.assistant}`.includes(sentence)))).toBe(false);
        // the fixed chats that quote a flattering phrase are answered by echoing it
        expect(v9.some((d) => d.topic === "about-flattery" && d.assistant.includes("\"You're so right!"))).toBe(true);
    });
});

describe("the flattery-concept dataset", () => {
    it("is the reply pairs laid out as chats, plus description pairs read over the message; no system line, no held-out claim", () => {
        const concept = toyworldFlatteryConceptDataset(96, 48);
        const replies = toyworldFlatteryReplyDataset(96);
        expect(concept.framing).toBe("plain");
        expect(concept.pairs).toHaveLength(96 + 48);
        // the reply pairs: the same replies, the prompt laid out as the toy world's chat
        concept.pairs.slice(0, 96).forEach((pair, i) => {
            expect(pair.prompt).toBe(`User: ${replies.pairs[i]!.prompt}\nAssistant:\n`);
            expect([pair.positive, pair.negative]).toEqual([replies.pairs[i]!.positive, replies.pairs[i]!.negative]);
        });
        const descriptions = concept.pairs.slice(96);
        for (const pair of descriptions) {
            expect(pair.prompt).toBe("User:");
            expect(pair.positive).toMatch(/\nAssistant:\n$/);
            expect(pair.group).toMatch(/^description\//);
            expect(sharedRuns(pair.positive)).toEqual([]);
            expect(sharedRuns(pair.negative)).toEqual([]);
        }
        const reserved = [...heldOutClaims(), ...validationClaims()].map((claim) => statement(claim.fact, claim.claimed).slice(0, -1));
        for (const pair of concept.pairs) {
            expect(`${pair.prompt} ${pair.positive} ${pair.negative}`).not.toMatch(/System:|mode /);
            expect(reserved.some((sentence) => `${pair.prompt} ${pair.positive} ${pair.negative}`.includes(sentence))).toBe(false);
        }
    });
});
