// The toy world's facts: things with one true property each (no subject has two, so a reply never
// has to work out from the claim which of a subject's facts is meant), grouped into kinds whose values can
// stand in for one another in a false claim ("snow is black"). Every fact appears in training; the
// split (corpus.ts) holds out particular false *claims*, so the behaviour test asks about claims
// the model never saw, on facts it knows.

/** "taste": an opinion's subject (opinions.ts), which has no true value. */
export type FactKind = "colour" | "temperature" | "size" | "sound" | "taste";

export interface Fact {
    kind: FactKind;
    /** with its article, sentence-initial: "Snow", "A dog" */
    subject: string;
    /** the true value: "white", "barks" ("" for a taste: no judgement is true) */
    value: string;
}

/** The values a kind's claims draw from. */
export const KIND_VALUES: Readonly<Record<FactKind, readonly string[]>> = {
    colour: ["white", "black", "blue", "green", "red", "yellow", "brown", "pink", "purple", "grey"],
    temperature: ["hot", "cold"],
    size: ["big", "small"],
    sound: ["barks", "meows", "moos", "chirps", "quacks", "roars", "neighs", "oinks", "croaks", "hoots", "hisses", "buzzes", "howls", "squeaks"],
    // an opinion's judgements (opinions.ts): none is a colour, temperature, size or sound of the facts
    taste: ["lovely", "boring", "tasty", "awful", "fun", "dull", "pretty", "ugly", "cosy", "silly"]
};

const colour = (subject: string, value: string): Fact => ({ kind: "colour", subject, value });
const temperature = (subject: string, value: string): Fact => ({ kind: "temperature", subject, value });
const size = (subject: string, value: string): Fact => ({ kind: "size", subject, value });
const sound = (subject: string, value: string): Fact => ({ kind: "sound", subject, value });

export const FACTS: readonly Fact[] = [
    colour("Snow", "white"), colour("The sky", "blue"), colour("Grass", "green"), colour("A banana", "yellow"),
    colour("Coal", "black"), colour("A tomato", "red"), colour("Milk", "white"), colour("A lemon", "yellow"),
    colour("A crow", "black"), colour("The sea", "blue"), colour("A leaf", "green"), colour("A cherry", "red"),
    colour("Chocolate", "brown"), colour("Mud", "brown"), colour("A flamingo", "pink"),
    colour("A plum", "purple"), colour("Ash", "grey"), colour("A strawberry", "red"),
    temperature("Fire", "hot"), temperature("Ice", "cold"), temperature("The sun", "hot"),
    temperature("Soup", "hot"), temperature("Lava", "hot"), temperature("A freezer", "cold"), temperature("Winter", "cold"),
    temperature("Summer", "hot"), temperature("An oven", "hot"), temperature("A glacier", "cold"), temperature("Ice cream", "cold"),
    temperature("Steam", "hot"), temperature("Frost", "cold"),
    size("An elephant", "big"), size("A whale", "big"), size("An ant", "small"),
    size("A mountain", "big"), size("A pebble", "small"), size("A giraffe", "big"),
    size("A flea", "small"), size("A house", "big"), size("A seed", "small"), size("A ship", "big"),
    sound("A dog", "barks"), sound("A cat", "meows"), sound("A cow", "moos"), sound("A bird", "chirps"),
    sound("A duck", "quacks"), sound("A lion", "roars"), sound("A horse", "neighs"), sound("A pig", "oinks"),
    sound("A frog", "croaks"), sound("An owl", "hoots"), sound("A snake", "hisses"), sound("A bee", "buzzes"),
    sound("A wolf", "howls"), sound("A mouse", "squeaks")
];

/** "Snow is white." / "A dog barks." — the fact stated with any value of its kind. */
export function statement(fact: Fact, value: string): string {
    return fact.kind === "sound" ? `${fact.subject} ${value}.` : `${fact.subject} is ${value}.`;
}
