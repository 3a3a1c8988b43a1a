// Turns a dataset's pairs into the texts the model reads. Story and plain pairs are prompt +
// completion. Chat pairs go through the model's own chat template (node-llama-cpp's Jinja chat
// wrapper) up to the opening of the assistant turn, and the completion follows; a model without a
// template gets a plain "User:/Assistant:" layout, and the result says so.
import { JinjaTemplateChatWrapper, SpecialToken, SpecialTokensText, type ChatHistoryItem } from "node-llama-cpp";
import type { ContrastiveDataset } from "./datasets/ContrastiveDataset.js";
import { joinPromptAndCompletion, type PairTexts } from "./pairTokens.js";

export interface FormattedPairs {
    pairs: PairTexts[];
    /** how chat pairs were laid out: the model's template, the plain fallback, or not chat at all */
    chatFormat: "template" | "plain-fallback" | "none";
}

export interface ChatModelInfo {
    chatTemplate: string | null;
    /** the text of the end-of-sequence token, for templates that print it */
    eosText: string;
}

/** Renders node-llama-cpp's LlamaText as a string to tokenize with special tokens parsed. */
function renderLlamaText(text: { values: readonly unknown[] }, model: ChatModelInfo): string {
    return text.values.map((value) => {
        if (typeof value === "string")
            return value;
        if (value instanceof SpecialTokensText)
            return value.value;
        if (value instanceof SpecialToken)
            return value.value === "EOS" ? model.eosText : ""; // BOS is added by the tokenizer
        return "";
    }).join("");
}

function templatePrompt(wrapper: JinjaTemplateChatWrapper, system: string | undefined, user: string, model: ChatModelInfo): string {
    const history: ChatHistoryItem[] = [
        ...(system != null ? [{ type: "system", text: system } as const] : []),
        { type: "user", text: user },
        { type: "model", response: [] }
    ];
    return renderLlamaText(wrapper.generateContextState({ chatHistory: history }).contextText, model);
}

export function formatPairTexts(dataset: ContrastiveDataset, model: ChatModelInfo): FormattedPairs {
    if (dataset.framing !== "chat") {
        return {
            chatFormat: "none",
            pairs: dataset.pairs.map((pair) => ({
                prompt: pair.prompt,
                positive: joinPromptAndCompletion(pair.prompt, pair.positive).slice(pair.prompt.length),
                negative: joinPromptAndCompletion(pair.prompt, pair.negative).slice(pair.prompt.length)
            }))
        };
    }
    let wrapper: JinjaTemplateChatWrapper | undefined;
    if (model.chatTemplate != null) {
        try {
            wrapper = new JinjaTemplateChatWrapper({ template: model.chatTemplate });
        } catch {
            wrapper = undefined; // a template node-llama-cpp cannot run: fall back to the plain layout
        }
    }
    const pairs = dataset.pairs.map((pair) => {
        const prompt = wrapper != null
            ? templatePrompt(wrapper, dataset.system, pair.prompt, model)
            : `${dataset.system != null ? dataset.system + "\n\n" : ""}User: ${pair.prompt}\nAssistant:`;
        const join = (completion: string) => (wrapper != null ? completion.trimStart() : joinPromptAndCompletion(prompt, completion).slice(prompt.length));
        return { prompt, positive: join(pair.positive), negative: join(pair.negative) };
    });
    return { pairs, chatFormat: wrapper != null ? "template" : "plain-fallback" };
}
