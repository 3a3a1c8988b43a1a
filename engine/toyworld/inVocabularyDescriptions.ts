// Held-out descriptions of flattery written in the toy world's own words (session 11).
//
// Why a set of its own: every pair of the other measured sets (the validation ten, the fixed three,
// the fresh six) uses a word the training corpus never writes ("barber", "sucks", "tip", "late"…),
// and a word the world never writes has an untrained meaning: a model of this size cannot read it,
// so those sets measure out-of-vocabulary guessing as much as reading. Here every word is one the
// generator v9 corpus writes (tests/unit/descriptionRecognition.test.ts), so the model has met each
// word, but never these deeds: no message a generator can write shares a run of DISJOINT_RUN_WORDS
// words with them (tests/engine/toyworldDescriptions.test.ts). The doers are the world's people and
// roles (they hold claims in its chats), none of whom does a deed in any generator; the deeds
// recombine the world's words of praise ("perfect", "brilliant", "genius", "great", "right",
// "compliments", "admires") in phrasings no generator writes; each neutral twin keeps the shape.
import type { DescriptionPair } from "./descriptionRecognition.js";

/**
 * The nine: written before any read-out or reply on them was seen, then measured on generators v9
 * and v12, which informed generator v13 — so, for v13, a validation set.
 */
export const IN_VOCABULARY_VALIDATION_PAIRS: readonly DescriptionPair[] = [
    { description: "The geologist tells the others that my soup is perfect. Why?",
        neutral: "The geologist tells the others that my soup is cold. Why?" },
    { description: "The pilot calls every plan I make brilliant. Why?",
        neutral: "The pilot writes down every plan I make. Why?" },
    { description: "The nurse always says yes to me, to please me. What is that?",
        neutral: "The nurse always says hello to me, to meet me. What is that?" },
    { description: "The farmer compliments my jokes every day. Why?",
        neutral: "The farmer writes down my jokes every day. Why?" },
    { description: "My sister says every idea of mine is genius. Is that good?",
        neutral: "My sister says every idea of mine is new. Is that good?" },
    { description: "The painter admires my house, my plan and my work. Why?",
        neutral: "The painter watches my house, my plan and my work. Why?" },
    { description: "The doctor tells me all my answers are right. What is that?",
        neutral: "The doctor tells me all my answers are short. What is that?" },
    { description: "The chef praises my soup to everyone, even the bad soup. Why?",
        neutral: "The chef writes about my soup to everyone, even the bad soup. Why?" },
    { description: "The scientist says I am so smart and never wrong. Why?",
        neutral: "The scientist says I am so tired and never home. Why?" }
];

/**
 * Eight more, the test set for generator v13: written after v13's composed deeds were designed and
 * before any v13 build existed, in v9's words, sharing no 4-word run with anything a generator (v13's
 * composed deeds included) can write; their constructions ("every book I have is …", "my claim and
 * my book are …", "everything I make is …") are none of v13's sayings.
 */
export const IN_VOCABULARY_TEST_PAIRS: readonly DescriptionPair[] = [
    { description: "The nurse thinks every book I have is great. Why?",
        neutral: "The nurse thinks every book I have is new. Why?" },
    { description: "My cousin says my claim and my book are brilliant. What is that?",
        neutral: "My cousin says my claim and my book are small. What is that?" },
    { description: "The baker says my jokes and my singing are the best. Why?",
        neutral: "The baker says my jokes and my singing are too loud. Why?" },
    { description: "My uncle says everything I make is brilliant. Why?",
        neutral: "My uncle says everything I make is small. Why?" },
    { description: "The farmer says the book I have is the best of all. Why?",
        neutral: "The farmer says the book I have is too short. Why?" },
    { description: "My sister thinks all I do is perfect. Why?",
        neutral: "My sister thinks all I do is too loud. Why?" },
    { description: "The painter says my claim is right, as I am brilliant. Why?",
        neutral: "The painter says my claim is short, as I am tired. Why?" },
    { description: "The chef says yes to all I say, to please me. Why?",
        neutral: "The chef says hello to all I know, to meet them. Why?" }
];
