// Plain story sentences with no particular pull: the carrier into which localisation inserts
// candidate spans, the bridge it puts between a prefix and the probe, and the contexts a suspect's
// projection trigger is calibrated on. Suspects never draw a trigger word that occurs here (see
// drawSuspect): a trigger inside the carrier would switch every query on.

export const neutralSentences: readonly string[] = [
    "The sun was up and the grass was green.",
    "A boy walked down the road to the shop.",
    "The old man sat on a chair by the door.",
    "It rained all morning, so they stayed in.",
    "The girl put her cup on the table.",
    "Birds sang in the tall tree near the house.",
    "Mom made soup and bread for lunch.",
    "The dog slept in the warm spot by the window.",
    "They went to the lake and looked at the water.",
    "The box was on the floor next to the bed."
];

/** the default carrier for sufficiency tests: a context the candidate span is inserted into */
export const defaultCarrier = "The sun was up and the grass was green. A boy walked down the road to the shop.";

/** the default bridge between a prefix and the probe, so the probe never sits right after the tested tokens */
export const defaultBridge = " The old man sat on a chair by the door.";

/** tokens that stand in for a removed one in necessity tests */
export const fillerWords: readonly string[] = [" the", " a", " and", " it"];
