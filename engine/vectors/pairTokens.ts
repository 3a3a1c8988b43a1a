// Turning a contrastive pair into tokens, with the positions whose activations are read.
import { TillerError } from "../protocol/TillerError.js";
import type { LoadedModel } from "../runtime/loadedModel.js";

/** Where a text's activations are read. */
export type ReadPosition =
    /** the last token of prompt + completion */
    | "last"
    /** the mean over the completion's tokens */
    | "mean"
    /** the completion's first token that holds a letter or digit: the answer letter of CAA's "(A" style */
    | "answer";

export interface PairTexts {
    /** prompt as the model sees it (chat datasets already templated) */
    prompt: string;
    positive: string;
    negative: string;
}

export interface PairTokens {
    /** tokens both sides share (BOS, the prompt, ...): evaluated once */
    prefix: Int32Array;
    positiveSuffix: Int32Array;
    negativeSuffix: Int32Array;
    /** positions (in prefix + suffix) whose activations are averaged into the pair's features */
    positiveRead: number[];
    negativeRead: number[];
}

function commonPrefixLength(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let n = 0;
    while (n < a.length && n < b.length && a[n] === b[n])
        n++;
    return n;
}

function readPositions(model: LoadedModel, full: Int32Array, promptLength: number, mode: ReadPosition): number[] {
    const completionStart = Math.min(promptLength, full.length - 1);
    switch (mode) {
        case "last":
            return [full.length - 1];
        case "mean":
            return Array.from({ length: full.length - completionStart }, (_, i) => completionStart + i);
        case "answer": {
            for (let position = completionStart; position < full.length; position++) {
                if (/[\p{L}\p{N}]/u.test(model.tokenText(full[position]!)))
                    return [position];
            }
            return [full.length - 1];
        }
    }
}

export function tokenizePair(model: LoadedModel, texts: PairTexts, mode: ReadPosition): PairTokens {
    const promptTokens = model.tokenize(texts.prompt);
    const positive = model.tokenize(texts.prompt + texts.positive);
    const negative = model.tokenize(texts.prompt + texts.negative);
    if (positive.length === 0 || negative.length === 0)
        throw new TillerError("INVALID_ARGUMENT", "a pair tokenizes to nothing; every pair needs text");
    // every side keeps at least one token of its own, so its suffix decode produces its last row
    const shared = Math.min(commonPrefixLength(positive, negative), positive.length - 1, negative.length - 1);
    return {
        prefix: positive.slice(0, shared),
        positiveSuffix: positive.slice(shared),
        negativeSuffix: negative.slice(shared),
        positiveRead: readPositions(model, positive, commonPrefixLength(promptTokens, positive), mode),
        negativeRead: readPositions(model, negative, commonPrefixLength(promptTokens, negative), mode)
    };
}

/** Joins a prompt and a completion the way a reader would: one space between words. */
export function joinPromptAndCompletion(prompt: string, completion: string): string {
    if (prompt.length === 0 || completion.length === 0 || /\s$/.test(prompt) || /^[\s.,;:!?)]/.test(completion))
        return prompt + completion;
    return prompt + " " + completion;
}
