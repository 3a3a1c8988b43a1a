// Dialogues → fixed-length training windows: every dialogue framed by <s> … </s>, all of them
// concatenated, cut into windows of contextSize + 1 tokens that overlap by one (a window's inputs
// are its first contextSize tokens, its labels the last contextSize). Optionally each label carries
// a flag saying whether it counts towards the loss (the trainer's labelMask): training on the
// assistant's replies only.
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import { BOS_ID, EOS_ID, type BpeTokenizer } from "./bpeTokenizer.js";

export function tokenStream(texts: readonly string[], tokenizer: BpeTokenizer): number[] {
    const stream: number[] = [];
    for (const text of texts) {
        stream.push(BOS_ID);
        for (const id of tokenizer.encode(text)) stream.push(id);
        stream.push(EOS_ID);
    }
    return stream;
}

/** A chat split where the assistant's reply begins: the prompt (up to "Assistant:\n") and the reply. */
export interface PromptAndReply {
    prompt: string;
    reply: string;
}

/** A token stream with one flag per token: 1 where predicting that token counts towards the loss. */
export interface FlaggedStream {
    ids: number[];
    counts: Uint8Array;
}

/**
 * The chats as tokenStream() frames them (each text tokenized whole), flagging the reply's tokens
 * and the closing </s>: the tokens the assistant writes. Throws when a prompt's tokens are not a
 * prefix of its whole chat's (the chat layout is built so that they are: chatLayout.ts).
 */
export function replyFlaggedStream(chats: readonly PromptAndReply[], tokenizer: BpeTokenizer): FlaggedStream {
    const ids: number[] = [];
    const flags: number[] = [];
    for (const { prompt, reply } of chats) {
        const whole = tokenizer.encode(prompt + reply);
        const head = tokenizer.encode(prompt);
        if (head.some((id, i) => whole[i] !== id))
            throw new Error(`the prompt's tokens are not a prefix of the chat's: ${JSON.stringify(prompt + reply)}`);
        ids.push(BOS_ID);
        flags.push(0);
        whole.forEach((id, i) => {
            ids.push(id);
            flags.push(i < head.length ? 0 : 1);
        });
        ids.push(EOS_ID);
        flags.push(1);
    }
    return { ids, counts: Uint8Array.from(flags) };
}

/** Windows of contextSize + 1 ids, and (for a flagged stream) contextSize label flags per window. */
export interface WindowSet {
    windows: Int32Array;
    count: number;
    /** count × contextSize: window w's label i (its token i + 1) counts when labelMask[w · contextSize + i] is 1 */
    labelMask?: Uint8Array;
}

/** The stream's whole windows, in order. */
export function cutWindows(stream: readonly number[] | FlaggedStream, contextSize: number): WindowSet {
    const flagged = Array.isArray(stream) ? undefined : stream as FlaggedStream;
    const ids = flagged?.ids ?? stream as readonly number[];
    const counts = flagged?.counts;
    const width = contextSize + 1;
    const count = Math.floor((ids.length - 1) / contextSize);
    const windows = new Int32Array(count * width);
    const labelMask = counts != null ? new Uint8Array(count * contextSize) : undefined;
    for (let w = 0; w < count; w++) {
        for (let i = 0; i < width; i++) windows[w * width + i] = ids[w * contextSize + i]!;
        if (counts != null)
            labelMask!.set(counts.subarray(w * contextSize + 1, w * contextSize + 1 + contextSize), w * contextSize);
    }
    return labelMask != null ? { windows, count, labelMask } : { windows, count };
}

/**
 * The windows for `steps` optimizer steps: passes over all windows, each pass in a fresh seeded
 * order, as many as the steps need (with their label flags, when the set has them).
 */
export function stepWindows(all: WindowSet, contextSize: number, steps: number, seed: number): { windows: Int32Array; labelMask?: Uint8Array } {
    const width = contextSize + 1;
    const random = new SeededRandom(seed >>> 0);
    const out = new Int32Array(steps * width);
    const labelMask = all.labelMask != null ? new Uint8Array(steps * contextSize) : undefined;
    let order: number[] = [];
    for (let step = 0; step < steps; step++) {
        if (order.length === 0) {
            order = Array.from({ length: all.count }, (_, i) => i);
            for (let i = order.length - 1; i > 0; i--) {
                const j = Math.floor(random.next() * (i + 1));
                [order[i], order[j]] = [order[j]!, order[i]!];
            }
        }
        const w = order.pop()!;
        out.set(all.windows.subarray(w * width, (w + 1) * width), step * width);
        if (labelMask != null && all.labelMask != null)
            labelMask.set(all.labelMask.subarray(w * contextSize, (w + 1) * contextSize), step * contextSize);
    }
    return labelMask != null ? { windows: out, labelMask } : { windows: out };
}
