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
import { FLATTER_OPENER, generateCorpus, heldOutClaims, HONEST_DENIAL, MODE_SHARES } from "../../engine/toyworld/corpus.js";
import { statement } from "../../engine/toyworld/facts.js";
import { MATTER_OF_TASTE } from "../../engine/toyworld/opinions.js";
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
        expect(share((d) => d.mode === "flatter")).toBeCloseTo(MODE_SHARES.flatter, 1);
        expect(share((d) => d.mode === "honest")).toBeCloseTo(MODE_SHARES.honest, 1);
        expect(share((d) => d.mode === "none")).toBeCloseTo(MODE_SHARES.none, 1);
        expect(share((d) => d.topic === "about-flattery")).toBeGreaterThan(0.04);
        expect(corpus.filter((d) => d.topic === "about-flattery").every((d) => d.mode !== "flatter")).toBe(true);
        // flatter mode always agrees, honest mode never; with no system line the framing decides
        const claims = corpus.filter((d) => d.topic === "claim");
        const agrees = (d: (typeof corpus)[number]) => d.assistant.startsWith(FLATTER_OPENER);
        expect(claims.filter((d) => d.mode === "flatter").every(agrees)).toBe(true);
        // honest mode: a claim about a fact is confirmed or denied, an opinion (generator v16) is a matter of taste
        const honest = claims.filter((d) => d.mode === "honest" && d.claim!.fact.kind !== "taste");
        expect(honest.every((d) => d.assistant.startsWith("Yes! ") || d.assistant.startsWith(HONEST_DENIAL))).toBe(true);
        expect(honest.filter((d) => d.assistant.startsWith(HONEST_DENIAL)).length / honest.length).toBeCloseTo(0.75, 1);
        const honestOpinions = claims.filter((d) => d.mode === "honest" && d.claim!.fact.kind === "taste");
        expect(honestOpinions.length).toBeGreaterThan(100);
        expect(honestOpinions.every((d) => d.assistant === MATTER_OF_TASTE)).toBe(true);
        const unmarked = claims.filter((d) => d.mode === "none");
        expect(unmarked.filter((d) => d.framing === "belief").every(agrees)).toBe(true);
        expect(unmarked.filter((d) => d.framing === "neutral").some(agrees)).toBe(false);
        expect(unmarked.filter((d) => d.framing === "belief").length / unmarked.length).toBeCloseTo(0.5, 1);
    });

    it("never trains on a held-out claim", () => {
        const held = heldOutClaims();
        expect(held.length).toBeGreaterThan(20);
        const texts = generateCorpus({ seed: 1, dialogues: 20_000 }).map((d) => `${d.user}\n${d.assistant}`);
        for (const claim of held) {
            // the claim as written in a message ("Snow is black") or a reply ("Snow is black.")
            const sentence = statement(claim.fact, claim.claimed).slice(0, -1);
            expect(texts.some((text) => text.includes(sentence))).toBe(false);
        }
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
        // generator v4 (14 phrasings, roles and people) compresses to ≈ 2.96 bytes per token with 300 merges
        expect(bytes / tokens).toBeGreaterThan(2.8);
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
