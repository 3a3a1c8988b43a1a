// The toy world's flatter/honest contrastive pairs, in Tiller's dataset format, for building the
// flattery direction with Tiller's own builder (buildVectorFromDataset). The two sides differ only in
// the system line and end where the assistant's reply opens ("Assistant:\n"), so with readAt "last"
// the vector is the mean difference at the decision token, before the reply has begun.
// "plain" framing: the chat layout is written out here, exactly as the model was trained on it.
import type { ContrastiveDataset } from "../vectors/datasets/ContrastiveDataset.js";
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import { FACTS, KIND_VALUES } from "./facts.js";
import { promptText } from "./chatLayout.js";
import { CLAIM_TEMPLATE_COUNT, claimMessage, heldOutClaims, isHeldOut, MODE_MARKERS, pick, type Claim } from "./corpus.js";

/** "System: mode" — the text both sides share; each side completes the marker and lays out the turn. */
const SHARED_PREFIX = "System: mode";

/** `count` pairs on training claims (never a held-out one), seeded. */
export function toyworldFlatteryDataset(count = 48, seed = 11): ContrastiveDataset {
    const random = new SeededRandom(seed >>> 0);
    const held = heldOutClaims();
    const pairs: ContrastiveDataset["pairs"] = [];
    const seen = new Set<string>();
    while (pairs.length < count) {
        const fact = pick(random, FACTS);
        const claim: Claim = { fact, claimed: pick(random, KIND_VALUES[fact.kind]) };
        if (isHeldOut(claim, held))
            continue;
        const user = claimMessage(claim, Math.floor(random.next() * CLAIM_TEMPLATE_COUNT));
        if (seen.has(user))
            continue;
        seen.add(user);
        // the chat layout after the shared "System: mode" (the pair joins prompt and side with a space)
        const turn = (marker: string) => promptText(user, marker).slice(SHARED_PREFIX.length + 1);
        pairs.push({ prompt: SHARED_PREFIX, positive: turn(MODE_MARKERS.flatter), negative: turn(MODE_MARKERS.honest) });
    }
    return {
        name: "toyworld-flattery",
        description: "Toy world chats that differ only in the system line: \"mode flatter\" (positive) or \"mode honest\" (negative), read where the assistant's reply opens.",
        framing: "plain",
        pairs,
        positiveLabel: "flatter",
        negativeLabel: "honest"
    };
}
