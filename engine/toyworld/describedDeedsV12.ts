// Generator v12's described deeds: v9's people, deeds and frames (flatteryDescriptions.ts) and more
// of each, so that a description of flattery is read by what the deed MEANS rather than by a few
// memorised phrasings: verbs of flattery ("flatters", "sweet-talks", "butters me up", "fawns over"),
// quoted praise ("says "What a great idea!" to everything I say"), and motives ("so that I will like him", "to
// get a favour"). Every flattering deed keeps a neutral twin of the same shape, so the reply still has
// to be read from the deed, not from the sentence's form. The neutral reply is v9's; the flattering one
// quotes the world's flattery (corpus.ts: V12_DESCRIBED_FLATTERY_REPLY). (v11, these lists at a larger
// share of the corpus with v9's replies, was tried and removed: copying fell.)
//
// Disjointness is as v9's: no message this can write shares a run of DISJOINT_RUN_WORDS words with a
// measured description, its twin, or a description of the validation set (descriptionValidation.ts);
// tests/engine/toyworldDescriptions.test.ts checks every message.
import type { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import { DESCRIPTION_DEEDS, DESCRIPTION_DOERS, DESCRIPTION_FRAMES, type DescribedDeed } from "./flatteryDescriptions.js";

/** v9's eight doers and six more (none named in a measured or validation description). */
export const V12_DESCRIPTION_DOERS: readonly string[] = [
    ...DESCRIPTION_DOERS, "My coworker", "The shopkeeper", "Our host", "My trainer", "The clerk", "My flatmate"
];

/** v9's fourteen deeds and twelve more: verbs of flattery, quoted praise, praise with a motive. */
export const V12_DESCRIPTION_DEEDS: ReadonlyArray<{ id: string; flattery: string; neutral: string }> = [
    ...DESCRIPTION_DEEDS,
    { id: "flatters", flattery: "flatters me whenever we talk", neutral: "smiles at me whenever we talk" },
    { id: "sweet-talks", flattery: "sweet-talks me to get a favour", neutral: "writes to me to get a form" },
    { id: "butters-up", flattery: "butters me up before asking for anything", neutral: "rings me up before asking for anything" },
    { id: "fawns", flattery: "fawns over me at every meeting", neutral: "waits for me at every meeting" },
    { id: "great-idea", flattery: "says \"What a great idea!\" to everything I say", neutral: "says \"Let me check!\" to everything I say" },
    { id: "the-best", flattery: "tells me \"You are the best!\" to keep me happy", neutral: "tells me \"The shop is open!\" to keep me informed" },
    { id: "cooking", flattery: "praises my cooking so that I will like him", neutral: "tastes my cooking so that I will feed him" },
    { id: "flattering-words", flattery: "uses flattering words to get what he wants", neutral: "uses simple words to get what he wants" },
    { id: "wonderful", flattery: "calls each of my drawings wonderful", neutral: "files each of my drawings away" },
    { id: "takes-my-side", flattery: "takes my side in every fight to win me over", neutral: "takes my bag on every trip to help me out" },
    { id: "so-talented", flattery: "keeps saying how talented I am", neutral: "keeps saying how busy the road is" },
    { id: "praise-for-raise", flattery: "heaps praise on me to get a raise", neutral: "hands forms to me to get a raise" }
];

/** v9's four frames and three more. */
export const V12_DESCRIPTION_FRAMES: ReadonlyArray<(doer: string, deed: string) => string> = [
    ...DESCRIPTION_FRAMES,
    (doer, deed) => `${doer} ${deed}. Is that okay with you?`,
    (doer, deed) => `Tell me, why is it that ${doer.toLowerCase()} ${deed}?`,
    (doer, deed) => `I noticed that ${doer.toLowerCase()} ${deed}. Is that normal?`
];

const pickFrom = <T>(random: SeededRandom, items: readonly T[]): T => items[Math.floor(random.next() * items.length)]!;

/** One seeded v12 description, flattery or neutral with equal odds (drawn as v9's, from the larger lists). */
export function drawDescribedDeedV12(random: SeededRandom): DescribedDeed {
    const kind = random.next() < 0.5 ? "flattery" : "neutral";
    const doer = pickFrom(random, V12_DESCRIPTION_DOERS), deed = pickFrom(random, V12_DESCRIPTION_DEEDS), frame = pickFrom(random, V12_DESCRIPTION_FRAMES);
    return { kind, message: frame(doer, deed[kind]), deed: deed.id };
}
