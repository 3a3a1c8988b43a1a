// A transcript as the user has it (prompt text, emitted ids and/or text, sampler settings) turned
// into what the detector scores, with a clear error for each way it can be wrong.
import { TillerError } from "../protocol/TillerError.js";
import type { SamplingOptions } from "../runtime/sampling/SamplingOptions.js";
import type { TillerModel } from "../runtime/TillerModel.js";
import { resolveClaimedSampler } from "./claimedSampler.js";
import type { Transcript } from "./detectFromTranscript.js";

export interface TranscriptInput {
    /** the prompt exactly as the model saw it (chat prompts already laid out) */
    prompt: string;
    /** emitted token ids */
    tokens?: readonly number[];
    /** emitted text */
    completion?: string;
    sampling?: Partial<SamplingOptions>;
}

function firstDifference(a: string, b: string): number {
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i])
        i++;
    return i;
}

export function resolveTranscript(model: TillerModel, input: TranscriptInput): Transcript {
    const sampler = resolveClaimedSampler(input.sampling);
    const promptTokens = model.tokenize(input.prompt);
    if (promptTokens.length === 0)
        throw new TillerError("INVALID_ARGUMENT", "the prompt is empty and the model adds no BOS token");
    const { nVocab } = model.shape;
    let emitted: Int32Array;
    if (input.tokens != null) {
        input.tokens.forEach((id, k) => {
            if (!Number.isInteger(id) || id < 0 || id >= nVocab)
                throw new TillerError("INVALID_ARGUMENT", `emitted token ${k} (id ${id}) is outside the model's vocabulary of ${nVocab} tokens`);
        });
        emitted = Int32Array.from(input.tokens);
        if (input.completion != null) {
            const spelled = model.detokenize(emitted);
            if (spelled !== input.completion) {
                const at = firstDifference(spelled, input.completion);
                throw new TillerError("INVALID_ARGUMENT", `the text does not match the token ids: they differ from character ${at} ` +
                    `(ids spell ${JSON.stringify(spelled.slice(at, at + 20))}, the text has ${JSON.stringify(input.completion.slice(at, at + 20))})`);
            }
        }
    } else {
        if (input.completion == null || input.completion === "")
            throw new TillerError("INVALID_ARGUMENT", "give the emitted tokens (ids) or the emitted text");
        const all = model.tokenize(input.prompt + input.completion);
        const promptIsPrefix = all.length > promptTokens.length && promptTokens.every((id, i) => all[i] === id);
        if (!promptIsPrefix)
            throw new TillerError("INVALID_ARGUMENT", "the text does not re-tokenize after the prompt: its first characters merge with the prompt's last token; give the emitted token ids instead");
        emitted = all.slice(promptTokens.length);
    }
    if (emitted.length === 0)
        throw new TillerError("INVALID_ARGUMENT", "the transcript has no emitted tokens");
    return { promptTokens, emitted, sampler };
}
