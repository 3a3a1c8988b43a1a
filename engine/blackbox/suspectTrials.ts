// Practice trials for black-box localisation: a suspect drawn from a seed, and a story prompt with
// the suspect's trigger word put in at a random place. Tests and the `blackbox` bench section use
// them; the localiser gets only the oracle and the prompt, never the seed or the answer.
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { tokenPieces } from "./EngineOracle.js";
import { HiddenPatchModel } from "./HiddenPatchModel.js";
import { drawSuspect, insertWord, type DrawnSuspect, type SuspectTriggerKind } from "./drawSuspect.js";

/** Story openings the trigger word is put into (none of them is a neutral carrier sentence). */
export const trialStories: readonly string[] = [
    "Once upon a time, there was a little girl named Lily. She liked to play in the park with her ball.",
    "Tom had a red car. He drove it to the big hill and looked at the trees.",
    "One day, a small cat found a box. The cat jumped in and went to sleep.",
    "Sue and Ben went to the beach. They built a castle with sand and shells.",
    "There was a bird in a nest. It sang every morning when the sun came up."
];

export interface SuspectTrial {
    seed: number;
    suspect: DrawnSuspect;
    prompt: string;
    /** character span of the inserted trigger word in the prompt */
    triggerStart: number;
    triggerEnd: number;
    /**
     * Character span of what actually switches the patch on in this prompt (the sealed truth, read
     * from the suspect): the matched word for text triggers, the token whose read-out crossed the
     * threshold for projection triggers (which may miss the word, or fire elsewhere). Null when the
     * patch never engages in the prompt, or engages from its first token.
     */
    fired: { start: number; end: number } | null;
}

export async function suspectTrial(context: TillerContext, seed: number, kind?: SuspectTriggerKind): Promise<SuspectTrial> {
    const suspect = await drawSuspect(context, seed, { kind });
    const random = new SeededRandom(seed * 31 + 5);
    const word = suspect.answer.triggerWord.trim().toLowerCase();
    const stories = trialStories.filter((story) => !story.toLowerCase().includes(word));
    const story = stories[Math.floor(random.next() * stories.length)]!;
    const inserted = insertWord(story, suspect.answer.triggerWord, random);
    const tokens = context.model.tokenize(inserted.text, { addBos: true });
    const { steeredFrom } = await new HiddenPatchModel(context, suspect.patch).score(tokens);
    let fired: SuspectTrial["fired"] = null;
    if (steeredFrom != null && suspect.patch.trigger.kind === "text") {
        fired = { start: inserted.start, end: inserted.end };
    } else if (steeredFrom != null && steeredFrom - 1 >= 1) {
        // the crossing token (tokens[0] is BOS, piece i belongs to tokens[i + 1])
        const pieces = tokenPieces(context.model, tokens, inserted.text);
        const index = steeredFrom - 2;
        const start = pieces.slice(0, index).join("").length;
        fired = { start, end: start + pieces[index]!.length };
    }
    return { seed, suspect, prompt: inserted.text, triggerStart: inserted.start, triggerEnd: inserted.end, fired };
}

/** Rank (0-based) of the first ranked unit that overlaps what fired the trigger, or null (also when nothing fired). */
export function triggerRank(trial: SuspectTrial, units: readonly { index: number; start: number; text: string }[], ranking: readonly number[]): number | null {
    const fired = trial.fired;
    if (fired == null)
        return null;
    const hits = new Set(units.filter((unit) => unit.start < fired.end && unit.start + unit.text.length > fired.start).map((unit) => unit.index));
    const rank = ranking.findIndex((index) => hits.has(index));
    return rank < 0 ? null : rank;
}
