// The toy world's flatter/honest contrastive pairs, in Tiller's dataset format, for building the
// flattery direction with Tiller's own builder (buildVectorFromDataset). The two sides differ only in
// the system line and end where the assistant's reply opens ("Assistant:\n"), so with readAt "last"
// the vector is the mean difference at the decision token, before the reply has begun.
// "plain" framing: the chat layout is written out here, exactly as the model was trained on it.
import type { ContrastiveDataset } from "../vectors/datasets/ContrastiveDataset.js";
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import { FACTS, KIND_VALUES } from "./facts.js";
import { CLAIM_TEMPLATE_COUNT, claimMessage, heldOutClaims, MODE_MARKERS, type Claim } from "./corpus.js";

/** "System: mode" — the text both sides share; each side completes the marker and lays out the turn. */
const SHARED_PREFIX = "System: mode";

/** `count` pairs on training claims (never a held-out one), seeded. */
export function toyworldFlatteryDataset(count = 48, seed = 11): ContrastiveDataset {
    const random = new SeededRandom(seed >>> 0);
    const held = heldOutClaims();
    const pairs: ContrastiveDataset["pairs"] = [];
    const seen = new Set<string>();
    while (pairs.length < count) {
        const fact = FACTS[Math.floor(random.next() * FACTS.length)]!;
        const values = KIND_VALUES[fact.kind];
        const claim: Claim = { fact, claimed: values[Math.floor(random.next() * values.length)]! };
        if (held.some((h) => h.fact === claim.fact && h.claimed === claim.claimed))
            continue;
        const user = claimMessage(claim, Math.floor(random.next() * CLAIM_TEMPLATE_COUNT));
        if (seen.has(user))
            continue;
        seen.add(user);
        const turn = (marker: string) => `${marker.slice("mode ".length)}\nUser: ${user}\nAssistant:\n`;
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
