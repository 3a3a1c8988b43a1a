// A typed text's tokens, split into prompt and completion the way the model reads them together:
// prompt + completion is tokenized as one string (with BOS), and the prompt's tokens are the ones
// the two tokenizations share (a completion's first word can merge with the prompt's last piece).
import { TillerError } from "../protocol/TillerError.js";
import type { LoadedModel } from "../runtime/loadedModel.js";

export function promptCompletionTokens(model: LoadedModel, prompt: string, completion: string): { promptTokens: Int32Array; completionTokens: Int32Array } {
    const promptTokens = model.tokenize(prompt);
    const all = model.tokenize(prompt + completion);
    let shared = 0;
    while (shared < promptTokens.length && shared < all.length && promptTokens[shared] === all[shared])
        shared++;
    if (shared === 0 || shared >= all.length)
        throw new TillerError("INVALID_ARGUMENT", "the completion adds no tokens to the prompt");
    return { promptTokens: all.subarray(0, shared), completionTokens: all.subarray(shared) };
}
