// The toy world's training windows (engine/toyworld/trainingWindows.ts): a reply-flagged stream marks
// exactly the assistant's tokens and its closing </s>, and the flags travel with their windows
// through cutting and the seeded step order.
import { describe, expect, it } from "vitest";
import { BOS_ID, BpeTokenizer, EOS_ID } from "../../engine/toyworld/bpeTokenizer.js";
import { dialogueText, promptText } from "../../engine/toyworld/chatLayout.js";
import { generateCorpus, systemFor } from "../../engine/toyworld/corpus.js";
import { cutWindows, replyFlaggedStream, stepWindows, tokenStream } from "../../engine/toyworld/trainingWindows.js";

const dialogues = generateCorpus({ seed: 2, dialogues: 120 });
const texts = dialogues.map(dialogueText);
const tokenizer = BpeTokenizer.train(texts, 80);
const chats = dialogues.map((d) => ({ prompt: promptText(d.user, systemFor(d.mode)), reply: d.assistant }));

describe("reply-flagged training windows", () => {
    it("flags the reply's tokens and </s>, nothing of the prompt, in the very stream tokenStream makes", () => {
        const flagged = replyFlaggedStream(chats, tokenizer);
        expect(flagged.ids).toEqual(tokenStream(texts, tokenizer));
        expect(flagged.counts.length).toBe(flagged.ids.length);
        // walk the chats: <s> prompt reply </s>
        let at = 0;
        for (const { prompt, reply } of chats) {
            const end = flagged.ids.indexOf(EOS_ID, at);
            expect(flagged.ids[at]).toBe(BOS_ID);
            const ids = flagged.ids.slice(at + 1, end);
            const counts = Array.from(flagged.counts.subarray(at + 1, end));
            const first = counts.indexOf(1);
            expect(tokenizer.decode(ids.slice(0, first))).toBe(prompt);
            expect(tokenizer.decode(ids.slice(first))).toBe(reply);
            expect(counts.slice(first).every((c) => c === 1)).toBe(true);
            expect(flagged.counts[at]).toBe(0);
            expect(flagged.counts[end]).toBe(1);
            at = end + 1;
        }
        expect(at).toBe(flagged.ids.length);
    });

    it("cuts flags with their windows (label i of a window is its token i + 1) and keeps them in step through the seeded order", () => {
        const contextSize = 32;
        const flagged = replyFlaggedStream(chats, tokenizer);
        const set = cutWindows(flagged, contextSize);
        expect(set.windows).toEqual(cutWindows(flagged.ids, contextSize).windows);
        expect(set.labelMask!.length).toBe(set.count * contextSize);
        for (let w = 0; w < set.count; w++)
            for (let i = 0; i < contextSize; i++)
                expect(set.labelMask![w * contextSize + i]).toBe(flagged.counts[w * contextSize + i + 1]);
        const steps = set.count + 7;
        const { windows, labelMask } = stepWindows(set, contextSize, steps, 9);
        expect(stepWindows(cutWindows(flagged.ids, contextSize), contextSize, steps, 9).windows).toEqual(windows);
        for (let step = 0; step < steps; step++) {
            const window = windows.subarray(step * (contextSize + 1), (step + 1) * (contextSize + 1));
            const w = Array.from({ length: set.count }, (_, k) => k).find((k) =>
                set.windows.subarray(k * (contextSize + 1), (k + 1) * (contextSize + 1)).every((id, i) => id === window[i]))!;
            expect(labelMask!.subarray(step * contextSize, (step + 1) * contextSize)).toEqual(set.labelMask!.subarray(w * contextSize, (w + 1) * contextSize));
        }
    });
});
