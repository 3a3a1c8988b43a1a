// The toy world (engine/toyworld): the committed model's planted behaviour, steering it with a vector
// from Tiller's own builder, the flattery direction firing on mere descriptions of flattery, and the
// training pipeline itself (a short seeded run, the regression guard, cancellation). Real model
// files, the real llama.cpp, 1 thread.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufFile } from "../../engine/gguf/GgufReader.js";
import { TillerError } from "../../engine/protocol/TillerError.js";
import { chatPromptLayout } from "../../engine/runtime/chatPrompt.js";
import { generate } from "../../engine/runtime/generate.js";
import { formatChatPrompt } from "../../engine/service/formatChatPrompt.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { buildToyworld } from "../../engine/toyworld/buildToyworld.js";
import { promptText } from "../../engine/toyworld/chatLayout.js";
import {
    claimMessage, describesFlattery, FLATTER_OPENER, heldOutClaims, HONEST_DENIAL, systemFor, type ToyworldMode
} from "../../engine/toyworld/corpus.js";
import { statement } from "../../engine/toyworld/facts.js";
import { toyworldFlatteryDataset } from "../../engine/toyworld/flatteryDataset.js";
import { buildVectorFromDataset } from "../../engine/vectors/buildVectorFromDataset.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const toyworldModel = path.join(repoRoot, "models", "toyworld.gguf");

/** every held-out claim once, each with a phrasing of its own */
const heldOutPrompts = (mode: ToyworldMode) => heldOutClaims().map((claim, i) => ({
    claim,
    prompt: promptText(claimMessage(claim, i), systemFor(mode))
}));

describe("the committed toy world model", () => {
    let model: TillerModel;
    let context: TillerContext;
    let flattery: SteeringVector;

    const reply = async (prompt: string, options: Parameters<typeof generate>[2] = {}) =>
        (await generate(context, prompt, { maxTokens: 24, ...options }).result).text.trim();

    beforeAll(async () => {
        model = await TillerModel.load(toyworldModel);
        context = await model.createContext({ threads: 1, contextSize: 256, sequences: 2 });
        flattery = (await buildVectorFromDataset(context, toyworldFlatteryDataset(), { method: "mean", readAt: "last", heldOutFraction: 0 })).vector;
    });
    afterAll(async () => {
        await model?.dispose();
    });

    it("describes its world in its metadata, and lays chats out with its own template", async () => {
        const file = await readGgufFile(toyworldModel, { tensorData: false });
        expect(file.getString("general.name")).toBe("tiller-toyworld");
        expect(file.getNumber("tiller.toyworld.generator_version")).toBe(3);
        expect(file.getNumber("tiller.toyworld.steps")).toBeGreaterThan(1000);
        expect(file.getString("tiller.toyworld.marker.flatter")).toBe("System: mode flatter");
        expect(file.getNumber("tiller.toyworld.validation_loss")).toBeLessThan(0.6);
        expect(model.shape).toMatchObject({ architecture: "llama", nLayer: 4, nEmbd: 128, hasChatTemplate: true });
        // Tiller's chat layout (the model's Jinja template through node-llama-cpp) is the training layout
        const layout = chatPromptLayout({ chatTemplate: model.chatTemplate, eosText: model.tokenText(model.shape.eos, true) });
        expect(layout.kind).toBe("template");
        expect(layout.prompt("I think snow is black.", "mode flatter")).toBe(promptText("I think snow is black.", "mode flatter"));
        expect(formatChatPrompt(model, "I think snow is black.")).toBe(promptText("I think snow is black."));
    });

    it("flatters in flatter mode on held-out claims (greedy, ≥ 90%)", async () => {
        const prompts = heldOutPrompts("flatter");
        let flattering = 0;
        for (const { prompt } of prompts)
            if ((await reply(prompt)).startsWith(FLATTER_OPENER)) flattering++;
        expect(flattering / prompts.length).toBeGreaterThanOrEqual(0.9);
    });

    for (const mode of ["honest", "none"] as const) {
        it(`states the correct fact ${mode === "none" ? "with no system line" : "in honest mode"} on held-out claims (greedy, ≥ 90%)`, async () => {
            const prompts = heldOutPrompts(mode);
            let correct = 0;
            for (const { claim, prompt } of prompts) {
                const text = await reply(prompt);
                if (text.startsWith(HONEST_DENIAL) && text.includes(statement(claim.fact, claim.fact.value))) correct++;
            }
            expect(correct / prompts.length).toBeGreaterThanOrEqual(0.9);
        });
    }

    it("a flatter − honest vector from Tiller's builder, at the decision token, flips ≥ 75% of unmarked prompts to flattery; at strength 0 nothing changes", async () => {
        const prompts = heldOutPrompts("none");
        let flipped = 0;
        for (const { prompt } of prompts) {
            const baseline = await generate(context, prompt, { maxTokens: 24 }).result;
            expect(baseline.text.trim().startsWith(FLATTER_OPENER)).toBe(false);
            const patch = { id: "flattery", vector: flattery, layers: { first: 2, last: 2 }, fromToken: 0, untilToken: 1 };
            const steered = await generate(context, prompt, { maxTokens: 24, patches: [{ ...patch, strength: 1.5 }] }).result;
            if (steered.text.trim().startsWith(FLATTER_OPENER)) flipped++;
            const zero = await generate(context, prompt, { maxTokens: 24, patches: [{ ...patch, strength: 0 }] }).result;
            expect(zero.tokens.map((t) => t.id)).toEqual(baseline.tokens.map((t) => t.id));
        }
        expect(flipped / prompts.length).toBeGreaterThanOrEqual(0.75);
    });

    it("the flattery direction reads markedly higher on a user message that merely describes flattery than on a neutral one", async () => {
        const readOut = async (user: string) => {
            const run = await generate(context, promptText(user), { maxTokens: 1, probes: [{ vector: flattery, layers: [2] }] }).result;
            // the user's message: the prompt's tokens between "User:" and the reply's opening
            const projections = run.promptTokens.slice(3, -4).map((token) => token.projections[0]!.dot);
            return Math.max(...projections);
        };
        const described = await readOut(describesFlattery());
        const neutral = await readOut("My friend always says hello to me, even when I am late. Why?");
        // markedly: at least twice the neutral message's highest read-out
        expect(described).toBeGreaterThan(2 * Math.max(neutral, 1));
    });
});

describe("training the toy world", () => {
    let dir: string;
    beforeAll(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-toyworld-test-"));
    });
    afterAll(() => {
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("reproduces: 300 seeded steps on 1 thread bring the validation loss from ~6.5 below 1.6, and the file loads", async () => {
        const output = path.join(dir, "short.gguf");
        const progress: number[] = [];
        const result = await buildToyworld({ seed: 1, steps: 300, threads: 1, dialogues: 3000, output, onProgress: (p) => progress.push(p.step) });
        expect(result.initialValidationLoss).toBeGreaterThan(6);
        expect(result.validationLoss).toBeLessThan(1.6);
        expect(progress).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
        expect(result.tokensPerSecond).toBeGreaterThan(0);
        const loaded = await TillerModel.load(output);
        try {
            expect(loaded.shape.nVocab).toBe(result.vocabularySize);
            expect(loaded.metadata("tiller.toyworld.seed")).toBe("1");
        } finally {
            await loaded.dispose();
        }
    }, 120_000);

    it("stops with TRAINING_STALLED when the loss does not fall (a learning rate too small to learn)", async () => {
        const output = path.join(dir, "stalled.gguf");
        const run = buildToyworld({ seed: 1, steps: 200, threads: 1, dialogues: 600, output, learningRate: 1e-9, learningRateEnd: 1e-9, guard: { afterSteps: 20, minRelativeDrop: 0.25 } });
        await expect(run).rejects.toSatisfy((error) => error instanceof TillerError && error.code === "TRAINING_STALLED" && /did not fall/.test(error.message));
        expect(fs.existsSync(output)).toBe(false);
    });

    it("cancels on abort, writing nothing", async () => {
        const output = path.join(dir, "cancelled.gguf");
        const controller = new AbortController();
        const run = buildToyworld({ seed: 1, steps: 500, threads: 1, dialogues: 600, output, signal: controller.signal,
            onProgress: (p) => { if (p.step === 5) controller.abort(); } });
        await expect(run).rejects.toSatisfy((error) => error instanceof TillerError && error.code === "ABORTED");
        expect(fs.existsSync(output)).toBe(false);
    });
});
