// Lays a chat turn out with a model's own chat template (node-llama-cpp's Jinja chat wrapper), up
// to the opening of the assistant's reply. Models without a template get a plain layout.
// node-llama-cpp's JavaScript is imported only when a template is laid out (importing it costs
// ~0.5 s, which `tiller serve` and the engine would otherwise pay at every start).
import type { ChatHistoryItem, JinjaTemplateChatWrapper, SpecialToken, SpecialTokensText } from "node-llama-cpp";

export interface ChatTemplateSource {
    chatTemplate: string | null;
    /** the text of the end-of-sequence token, for templates that print it */
    eosText: string;
}

export interface ChatPromptLayout {
    /** renders [system?, user] and opens the assistant turn */
    prompt(user: string, system?: string): string;
    /** "template": the model's own; "plain-fallback": `User: …\nAssistant:` */
    kind: "template" | "plain-fallback";
}

/** what is used of node-llama-cpp's module (imported on first use) */
interface ChatTemplateModule {
    JinjaTemplateChatWrapper: typeof JinjaTemplateChatWrapper;
    SpecialToken: typeof SpecialToken;
    SpecialTokensText: typeof SpecialTokensText;
}

/** Renders node-llama-cpp's LlamaText as a string to tokenize with special tokens parsed. */
function renderLlamaText(values: readonly unknown[], eosText: string, { SpecialToken, SpecialTokensText }: ChatTemplateModule): string {
    return values.map((value) => {
        if (typeof value === "string")
            return value;
        if (value instanceof SpecialTokensText)
            return value.value;
        if (value instanceof SpecialToken)
            return value.value === "EOS" ? eosText : ""; // BOS is added by the tokenizer
        return "";
    }).join("");
}

export async function chatPromptLayout(source: ChatTemplateSource): Promise<ChatPromptLayout> {
    let wrapper: JinjaTemplateChatWrapper | undefined;
    const nodeLlamaCpp: ChatTemplateModule | undefined = source.chatTemplate != null ? await import("node-llama-cpp") : undefined;
    if (source.chatTemplate != null && nodeLlamaCpp != null) {
        try {
            wrapper = new nodeLlamaCpp.JinjaTemplateChatWrapper({ template: source.chatTemplate });
        } catch {
            wrapper = undefined; // a template node-llama-cpp cannot run: use the plain layout
        }
    }
    if (wrapper == null || nodeLlamaCpp == null) {
        return {
            kind: "plain-fallback",
            prompt: (user, system) => `${system != null ? system + "\n\n" : ""}User: ${user}\nAssistant:`
        };
    }
    const templated = wrapper;
    return {
        kind: "template",
        prompt: (user, system) => {
            const history: ChatHistoryItem[] = [
                ...(system != null ? [{ type: "system", text: system } as const] : []),
                { type: "user", text: user },
                { type: "model", response: [] }
            ];
            return renderLlamaText(templated.generateContextState({ chatHistory: history }).contextText.values, source.eosText, nodeLlamaCpp);
        }
    };
}
