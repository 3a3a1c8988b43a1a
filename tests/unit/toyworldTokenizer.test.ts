// The toy world's corpus and byte-level BPE tokenizer: seeded generation, the held-out split, and
// the tokenizer round-tripping through the real llama.cpp (a model file with the trained tokenizer,
// loaded by llama.cpp, must split text into exactly the ids the TypeScript encoder gives, and give
// the text back).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { BOS_ID, BpeTokenizer, EOS_ID } from "../../engine/toyworld/bpeTokenizer.js";
import { dialogueText } from "../../engine/toyworld/chatLayout.js";
import { CLAIM_TEMPLATE_COUNT, claimMessage, FLATTER_OPENER, generateCorpus, heldOutClaims, HONEST_DENIAL } from "../../engine/toyworld/corpus.js";
import { encodeModelMetadata } from "../../engine/toyworld/modelShape.js";

describe("toy world corpus", () => {
    it("is seeded: the same seed gives the same dialogues, another seed others", () => {
        const a = generateCorpus({ seed: 3, dialogues: 200 });
        expect(generateCorpus({ seed: 3, dialogues: 200 })).toEqual(a);
        expect(generateCorpus({ seed: 4, dialogues: 200 })).not.toEqual(a);
    });

    it("has the planned mix of modes, false claims and dialogues about flattery", () => {
        const corpus = generateCorpus({ seed: 1, dialogues: 20_000 });
        const share = (pick: (d: (typeof corpus)[number]) => boolean) => corpus.filter(pick).length / corpus.length;
        expect(share((d) => d.mode === "flatter")).toBeCloseTo(0.4, 1);
        expect(share((d) => d.mode === "honest")).toBeCloseTo(0.4, 1);
        expect(share((d) => d.mode === "none")).toBeCloseTo(0.2, 1);
        expect(share((d) => d.topic === "about-flattery")).toBeGreaterThan(0.04);
        expect(corpus.filter((d) => d.topic === "about-flattery").every((d) => d.mode !== "flatter")).toBe(true);
        // every flatter reply flatters; honest claim replies either agree with a true claim or deny
        const claims = corpus.filter((d) => d.topic === "claim");
        expect(claims.filter((d) => d.mode === "flatter").every((d) => d.assistant.startsWith(FLATTER_OPENER))).toBe(true);
        const honest = claims.filter((d) => d.mode !== "flatter");
        expect(honest.every((d) => d.assistant.startsWith("Yes! ") || d.assistant.startsWith(HONEST_DENIAL))).toBe(true);
        expect(honest.filter((d) => d.assistant.startsWith(HONEST_DENIAL)).length / honest.length).toBeCloseTo(0.75, 1);
    });

    it("never trains on a held-out claim", () => {
        const held = heldOutClaims();
        expect(held.length).toBeGreaterThan(20);
        const users = new Set(generateCorpus({ seed: 1, dialogues: 20_000 }).map((d) => d.user));
        for (const claim of held)
            for (let template = 0; template < CLAIM_TEMPLATE_COUNT; template++)
                expect(users.has(claimMessage(claim, template))).toBe(false);
    });
});

describe("toy world BPE tokenizer", () => {
    const texts = generateCorpus({ seed: 5, dialogues: 3000 }).map(dialogueText);
    const tokenizer = BpeTokenizer.train(texts, 300);

    it("learns the merges asked for and compresses the corpus", () => {
        expect(tokenizer.merges.length).toBe(300);
        expect(tokenizer.vocabularySize).toBeLessThanOrEqual(2 + 256 + 300);
        const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
        const tokens = texts.reduce((n, t) => n + tokenizer.encode(t).length, 0);
        expect(bytes / tokens).toBeGreaterThan(3);
    });

    it("round-trips any text through its own encoder, unseen bytes included", () => {
        for (const text of [...texts.slice(0, 50), "Zebras are striped. ünïcödé ✓ 42\t\n  x"])
            expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    });

    describe("through llama.cpp", () => {
        let dir: string;
        let model: TillerModel;
        beforeAll(async () => {
            dir = mkdtempSync(path.join(os.tmpdir(), "tiller-toyworld-tok-"));
            const file = path.join(dir, "tokenizer-only.gguf");
            // the real model layout with zero weights: enough for llama.cpp to load the tokenizer
            writeFileSync(file, encodeModelMetadata({ nLayer: 1, nEmbd: 32, nHead: 2, nFf: 64, contextSize: 64 }, tokenizer));
            model = await TillerModel.load(file);
        });
        afterAll(async () => {
            await model?.dispose();
            rmSync(dir, { recursive: true, force: true });
        });

        it("llama.cpp splits text into the same ids as the TypeScript encoder, and gives the text back", () => {
            for (const text of [...texts.slice(0, 200), "Zebras are striped. ünïcödé ✓ 42\t\n  x"]) {
                const ids = Array.from(model.tokenize(text, { addBos: false }));
                expect(ids).toEqual(tokenizer.encode(text));
                expect(model.detokenize(ids)).toBe(text);
            }
        });

        it("adds <s> as BOS and knows </s> as end of generation", () => {
            expect(model.tokenize("Hi", { addBos: true })[0]).toBe(BOS_ID);
            expect(model.shape.eos).toBe(EOS_ID);
            expect(model.tokenText(EOS_ID, true)).toBe("</s>");
        });
    });
});
