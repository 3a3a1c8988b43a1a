// Turns a dataset's pairs into the texts the model reads. Story and plain pairs are prompt +
// completion. Chat pairs go through the model's own chat template up to the opening of the
// assistant turn, and the completion follows; a model without a template gets a plain
// "User:/Assistant:" layout, and the result says so.
import { chatPromptLayout, type ChatTemplateSource } from "../runtime/chatPrompt.js";
import type { ContrastiveDataset } from "./datasets/ContrastiveDataset.js";
import { joinPromptAndCompletion, type PairTexts } from "./pairTokens.js";

export interface FormattedPairs {
    pairs: PairTexts[];
    /** how chat pairs were laid out: the model's template, the plain fallback, or not chat at all */
    chatFormat: "template" | "plain-fallback" | "none";
}

export async function formatPairTexts(dataset: ContrastiveDataset, model: ChatTemplateSource): Promise<FormattedPairs> {
    const completionAfter = (prompt: string, completion: string) => joinPromptAndCompletion(prompt, completion).slice(prompt.length);
    if (dataset.framing !== "chat") {
        return {
            chatFormat: "none",
            pairs: dataset.pairs.map((pair) => ({
                prompt: pair.prompt,
                positive: completionAfter(pair.prompt, pair.positive),
                negative: completionAfter(pair.prompt, pair.negative)
            }))
        };
    }
    const layout = await chatPromptLayout(model);
    const pairs = dataset.pairs.map((pair) => {
        const prompt = layout.prompt(pair.prompt, dataset.system);
        // a template opens the reply itself; the plain layout needs a space after "Assistant:"
        const join = (completion: string) => (layout.kind === "template" ? completion.trimStart() : completionAfter(prompt, completion));
        return { prompt, positive: join(pair.positive), negative: join(pair.negative) };
    });
    return { pairs, chatFormat: layout.kind };
}
