// Dialogues → fixed-length training windows: every dialogue framed by <s> … </s>, all of them
// concatenated, cut into windows of contextSize + 1 tokens that overlap by one (a window's inputs
// are its first contextSize tokens, its labels the last contextSize).
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

/** The stream's whole windows, in order; one Int32Array of count × (contextSize + 1) ids. */
export function cutWindows(stream: readonly number[], contextSize: number): { windows: Int32Array; count: number } {
    const width = contextSize + 1;
    const count = Math.floor((stream.length - 1) / contextSize);
    const windows = new Int32Array(count * width);
    for (let w = 0; w < count; w++)
        for (let i = 0; i < width; i++) windows[w * width + i] = stream[w * contextSize + i]!;
    return { windows, count };
}

/**
 * The windows for `steps` optimizer steps: passes over all windows, each pass in a fresh seeded
 * order, as many as the steps need.
 */
export function stepWindows(all: { windows: Int32Array; count: number }, contextSize: number, steps: number, seed: number): Int32Array {
    const width = contextSize + 1;
    const random = new SeededRandom(seed >>> 0);
    const out = new Int32Array(steps * width);
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
    }
    return out;
}
