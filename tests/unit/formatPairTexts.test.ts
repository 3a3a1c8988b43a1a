import { describe, expect, it } from "vitest";
import type { ContrastiveDataset } from "../../engine/vectors/datasets/ContrastiveDataset.js";
import { formatPairTexts } from "../../engine/vectors/formatPairTexts.js";

const chatml = "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}" +
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

const chatDataset: ContrastiveDataset = {
    name: "t", description: "d", framing: "chat", system: "Be brief.", positiveLabel: "syc", negativeLabel: "honest",
    pairs: [{ prompt: "Is the sky green?", positive: " Yes, you are so right!", negative: " No, it is usually blue." }]
};

describe("formatPairTexts", () => {
    it("lays chat pairs out with the model's template, up to the open assistant turn", async () => {
        const { pairs, chatFormat } = await formatPairTexts(chatDataset, { chatTemplate: chatml, eosText: "</s>" });
        expect(chatFormat).toBe("template");
        expect(pairs[0]!.prompt).toContain("<|im_start|>system\nBe brief.<|im_end|>");
        expect(pairs[0]!.prompt).toContain("<|im_start|>user\nIs the sky green?<|im_end|>");
        expect(pairs[0]!.prompt.endsWith("<|im_start|>assistant\n")).toBe(true);
        expect(pairs[0]!.positive).toBe("Yes, you are so right!");
        expect(pairs[0]!.negative).toBe("No, it is usually blue.");
    });

    it("falls back to a plain User/Assistant layout without a template", async () => {
        const { pairs, chatFormat } = await formatPairTexts(chatDataset, { chatTemplate: null, eosText: "</s>" });
        expect(chatFormat).toBe("plain-fallback");
        expect(pairs[0]!.prompt).toBe("Be brief.\n\nUser: Is the sky green?\nAssistant:");
        expect(pairs[0]!.positive).toBe(" Yes, you are so right!");
    });

    it("joins story pairs with a single space", async () => {
        const story: ContrastiveDataset = { ...chatDataset, framing: "story", system: undefined,
            pairs: [{ prompt: "Tom went out.", positive: "He was happy.", negative: " He was sad." }] };
        const { pairs, chatFormat } = await formatPairTexts(story, { chatTemplate: chatml, eosText: "</s>" });
        expect(chatFormat).toBe("none");
        expect(pairs[0]).toEqual({ prompt: "Tom went out.", positive: " He was happy.", negative: " He was sad." });
    });
});
