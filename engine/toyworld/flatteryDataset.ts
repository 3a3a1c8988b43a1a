// The toy world's flattery pairs, in Tiller's dataset format, for building the flattery direction
// with Tiller's own builder (buildVectorFromDataset). No pair has a system line: both sides carry the
// same claim, the positive side stated as the user's own belief or identity ("I am a geologist.
// Snow is hot, I am sure."), the negative side asked or cited ("Snow is hot. My friend says
// so."), and both end where the assistant's reply opens ("Assistant:\n"). With readAt "last" the
// vector is the mean difference at the decision token, before the reply has begun: what the model
// itself computes from the *content* of the message when it decides to agree.
//
// Every pair carries a group key, "<belief template>/<neutral template>", so that a split by group
// keeps each pair of phrasings on one side (the same phrasings on both sides would let a
// held-out score measure template recall). No pair uses a test or validation claim.
import type { ContrastiveDataset } from "../vectors/datasets/ContrastiveDataset.js";
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import { FACTS, KIND_VALUES } from "./facts.js";
import { promptText } from "./chatLayout.js";
import {
    BELIEF_TEMPLATES, claimMessage, drawFill, expectedReply, isHeldOut, NEUTRAL_TEMPLATES, pick, reservedFromTraining, type Claim
} from "./corpus.js";

/** "User:" — the text both sides share; each side writes the message and opens the reply. */
const SHARED_PREFIX = "User:";

/** A false claim that is neither a test nor a validation claim. */
function drawFalseTrainingClaim(random: SeededRandom, reserved: readonly Claim[]): Claim {
    for (;;) {
        const fact = pick(random, FACTS);
        const claim: Claim = { fact, claimed: pick(random, KIND_VALUES[fact.kind].filter((value) => value !== fact.value)) };
        if (!isHeldOut(claim, reserved))
            return claim;
    }
}

type Pair = ContrastiveDataset["pairs"][number];

/**
 * `count` seeded pairs on false training claims: `draw` makes one pair and names the user messages
 * it uses; a pair whose message an earlier pair used is drawn again (no message appears twice).
 */
function distinctPairs(count: number, seed: number, draw: (random: SeededRandom, claim: Claim) => { pair: Pair; messages: string[] }): Pair[] {
    const random = new SeededRandom(seed >>> 0);
    const reserved = reservedFromTraining();
    const pairs: Pair[] = [];
    const seen = new Set<string>();
    while (pairs.length < count) {
        const { pair, messages } = draw(random, drawFalseTrainingClaim(random, reserved));
        if (messages.some((message) => seen.has(message)))
            continue;
        messages.forEach((message) => seen.add(message));
        pairs.push(pair);
    }
    return pairs;
}

/** `count` pairs on training claims, seeded; false claims only (where the two framings disagree). */
export function toyworldFlatteryDataset(count = 96, seed = 11): ContrastiveDataset {
    // the chat layout after the shared "User:" (the pair joins prompt and side with a space)
    const turn = (user: string) => promptText(user).slice(SHARED_PREFIX.length + 1);
    const pairs = distinctPairs(count, seed, (random, claim) => {
        const belief = pick(random, BELIEF_TEMPLATES);
        const neutral = pick(random, NEUTRAL_TEMPLATES);
        const fill = drawFill(random);
        const positive = claimMessage(claim, belief, fill);
        const negative = claimMessage(claim, neutral, fill);
        return { pair: { prompt: SHARED_PREFIX, positive: turn(positive), negative: turn(negative), group: `${belief.id}/${neutral.id}` }, messages: [positive, negative] };
    });
    return {
        name: "toyworld-flattery",
        description: "Toy world chats with no system line: the same false claim stated as the user's own belief or identity (positive) " +
            "or asked / cited from someone else (negative), read where the assistant's reply opens.",
        framing: "plain",
        pairs,
        positiveLabel: "user's own belief",
        negativeLabel: "asked or cited"
    };
}

/**
 * Pairs of REPLIES, for a direction that reads what the assistant is saying rather than what it
 * decided: the same user message (a false training claim, held by the user or asked about, no
 * system line) answered by flattering agreement ("You're so right! Snow is hot. You are so
 * smart!") or honestly ("No, I do not think so. Snow is cold."). Built with readAt "mean", the
 * vector is the mean difference over the reply's tokens, and its calibration is taken on reply
 * tokens — the tokens a projection trigger reads while the model generates. Both framings appear
 * on both sides, so the direction is the reply's content, not who holds the claim.
 */
export function toyworldFlatteryReplyDataset(count = 96, seed = 13): ContrastiveDataset {
    const pairs = distinctPairs(count, seed, (random, claim) => {
        const template = pick(random, random.next() < 0.5 ? BELIEF_TEMPLATES : NEUTRAL_TEMPLATES);
        const user = claimMessage(claim, template, drawFill(random));
        return { pair: { prompt: user, positive: expectedReply(claim, "flatter", template.framing), negative: expectedReply(claim, "honest", template.framing), group: template.id }, messages: [user] };
    });
    return {
        name: "toyworld-flattery-replies",
        description: "Toy world replies with no system line: a false claim (the user's own belief or asked about) answered with flattering " +
            "agreement (positive) or honestly (negative), read over the reply's tokens.",
        framing: "chat",
        pairs,
        positiveLabel: "flattering reply",
        negativeLabel: "honest reply"
    };
}

