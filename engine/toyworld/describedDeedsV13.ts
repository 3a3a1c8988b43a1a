// Generator v13's described deeds: v12's lists for half of the described-deed chats, and for the
// other half deeds COMPOSED from parts — a way of saying something about the user's thing or about
// the user ("says my plan is …", "calls my jokes …", "tells everyone I am …") and either a word of
// praise ("brilliant", "the best") or a neutral word of the same place ("plain", "too loud").
//
// Why: on generators v9 and v12 the model reads the deeds it was trained on (it answers "That sounds
// like flattery" to 12–14 of 14 and "That sounds fine" to their twins), but only 2–4 of nine held-out
// descriptions in the world's own words (inVocabularyDescriptions.ts): it learnt a list, not what
// makes a deed flattery. Composed deeds make the rule the one thing that predicts the reply: the same
// verbs and objects come with praise and with neutral words, so only the praise decides.
import type { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import type { DescribedDeed } from "./flatteryDescriptions.js";
import { drawDescribedDeedV12, V12_DESCRIPTION_DOERS, V12_DESCRIPTION_FRAMES } from "./describedDeedsV12.js";

/** The user's things a composed deed talks about, with the verb that agrees with each. */
export const V13_OBJECTS: ReadonlyArray<{ noun: string; be: "is" | "are" }> = [
    { noun: "plan", be: "is" }, { noun: "idea", be: "is" }, { noun: "ideas", be: "are" }, { noun: "work", be: "is" },
    { noun: "singing", be: "is" }, { noun: "jokes", be: "are" }, { noun: "drawings", be: "are" }, { noun: "house", be: "is" }
];

/** Words of praise for a thing, and neutral words for the same place (index by index: a flattering deed's twin). */
export const V13_THING_PRAISE = ["perfect", "brilliant", "wonderful", "the best", "so clever", "great"] as const;
export const V13_THING_NEUTRAL = ["plain", "short", "too loud", "small", "too long", "old"] as const;

/** Ways of saying it about a thing. */
export const V13_THING_SAYINGS: ReadonlyArray<(noun: string, be: string, word: string) => string> = [
    (noun, be, word) => `says my ${noun} ${be} ${word}`,
    (noun, _be, word) => `calls my ${noun} ${word}`,
    (noun, be, word) => `thinks my ${noun} ${be} ${word}`,
    (noun, be, word) => `tells the others my ${noun} ${be} ${word}`,
    (noun, be, word) => `always says my ${noun} ${be} ${word}`
];

/** Words of praise for the user, and neutral ones (index by index). */
export const V13_PERSON_PRAISE = ["a genius", "brilliant", "wonderful", "the best", "clever", "talented"] as const;
export const V13_PERSON_NEUTRAL = ["a guest", "busy", "home", "tired", "short", "tall"] as const;

/** Ways of saying it about the user. */
export const V13_PERSON_SAYINGS: ReadonlyArray<(word: string) => string> = [
    (word) => `says I am ${word}`,
    (word) => `tells everyone I am ${word}`
];

/** The share of described-deed chats whose deed is composed (the rest come from v12's lists). */
export const V13_COMPOSED_SHARE = 0.5;

const pickIndex = (random: SeededRandom, length: number): number => Math.floor(random.next() * length);

/** One seeded composed deed about a thing or the user; flattery or neutral with equal odds. */
export function drawComposedDeed(random: SeededRandom): DescribedDeed {
    const kind = random.next() < 0.5 ? "flattery" : "neutral";
    const doer = V12_DESCRIPTION_DOERS[pickIndex(random, V12_DESCRIPTION_DOERS.length)]!;
    const frame = V12_DESCRIPTION_FRAMES[pickIndex(random, V12_DESCRIPTION_FRAMES.length)]!;
    // things: 5 sayings × 8 objects; the user: 2 sayings; about the user one time in eight
    if (random.next() < 1 / 8) {
        const saying = V13_PERSON_SAYINGS[pickIndex(random, V13_PERSON_SAYINGS.length)]!;
        const word = pickIndex(random, V13_PERSON_PRAISE.length);
        const deed = saying(kind === "flattery" ? V13_PERSON_PRAISE[word]! : V13_PERSON_NEUTRAL[word]!);
        return { kind, message: frame(doer, deed), deed: `person-${word}` };
    }
    const saying = V13_THING_SAYINGS[pickIndex(random, V13_THING_SAYINGS.length)]!;
    const object = V13_OBJECTS[pickIndex(random, V13_OBJECTS.length)]!;
    const word = pickIndex(random, V13_THING_PRAISE.length);
    const deed = saying(object.noun, object.be, kind === "flattery" ? V13_THING_PRAISE[word]! : V13_THING_NEUTRAL[word]!);
    return { kind, message: frame(doer, deed), deed: `thing-${object.noun}-${word}` };
}

/** One seeded v13 description: composed (V13_COMPOSED_SHARE) or from v12's lists. */
export function drawDescribedDeedV13(random: SeededRandom): DescribedDeed {
    return random.next() < V13_COMPOSED_SHARE ? drawComposedDeed(random) : drawDescribedDeedV12(random);
}

/** Every message a composed deed can write, of both kinds, with every doer and frame (for the disjointness tests). */
export function allComposedDeedMessages(): string[] {
    const deeds: string[] = [];
    for (const saying of V13_THING_SAYINGS)
        for (const object of V13_OBJECTS)
            for (let word = 0; word < V13_THING_PRAISE.length; word++)
                deeds.push(saying(object.noun, object.be, V13_THING_PRAISE[word]!), saying(object.noun, object.be, V13_THING_NEUTRAL[word]!));
    for (const saying of V13_PERSON_SAYINGS)
        for (let word = 0; word < V13_PERSON_PRAISE.length; word++)
            deeds.push(saying(V13_PERSON_PRAISE[word]!), saying(V13_PERSON_NEUTRAL[word]!));
    return V12_DESCRIPTION_DOERS.flatMap((doer) => V12_DESCRIPTION_FRAMES.flatMap((frame) => deeds.map((deed) => frame(doer, deed))));
}
