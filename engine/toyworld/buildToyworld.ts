// `tiller toyworld build`: the whole pipeline that makes the toy world model. Generate the seeded
// corpus, train the tokenizer on it, create the model in llama.cpp with seeded random weights, train
// it for a fixed number of steps (with a guard that stops a run whose loss does not fall), and save
// a GGUF whose metadata describes the world.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { readGgufFile } from "../gguf/GgufReader.js";
import { writeGgufFile, type GgufTensorInput, type GgufValueInput } from "../gguf/GgufWriter.js";
import type { NativeTrainer, NativeTrainingProgress } from "../native/AddonTypes.js";
import { TillerError } from "../protocol/TillerError.js";
import { getTillerBackend } from "../runtime/TillerBackend.js";
import { BpeTokenizer } from "./bpeTokenizer.js";
import { dialogueText, promptText, TOYWORLD_CHAT_TEMPLATE } from "./chatLayout.js";
import {
    FLATTER_CLOSER, FLATTER_OPENER, generateCorpus, HONEST_DENIAL, MODE_MARKERS, systemFor, TOYWORLD_GENERATOR_VERSION, type Dialogue, type ToyworldGenerator
} from "./corpus.js";
import { encodeModelMetadata, modelTensors, TOYWORLD_SHAPE, type ToyworldShape } from "./modelShape.js";
import { toyworldInitialisation, toyworldOptimizer, type CosineSchedule } from "./trainingPolicy.js";
import { checkLossFell, type LossGuard } from "./lossGuard.js";
import { cutWindows, replyFlaggedStream, stepWindows, tokenStream, type PromptAndReply } from "./trainingWindows.js";

export interface ToyworldBuildOptions {
    seed: number;
    /** optimizer steps, one window of contextSize tokens each */
    steps: number;
    threads: number;
    output: string;
    /** training dialogues (default 30 000) */
    dialogues?: number;
    /** BPE merges (default 400) */
    merges?: number;
    shape?: ToyworldShape;
    learningRate?: number;
    learningRateEnd?: number;
    /** steps of linear learning-rate warm-up (default TOYWORLD_DEFAULTS.warmupSteps) */
    warmupSteps?: number;
    /** the fraction of the steps trained at the full rate before the cosine decay begins (default TOYWORLD_DEFAULTS.holdFraction) */
    holdFraction?: number;
    /** AdamW's decoupled weight decay (default TOYWORLD_DEFAULTS.weightDecay) */
    weightDecay?: number;
    /**
     * Which labels the loss counts: "all" tokens (a language model of the whole chat), or only the
     * "replies" (the assistant's tokens and its closing </s>; the user's message is read, not predicted).
     */
    lossOn?: ToyworldLossOn;
    /** the corpus generator (default TOYWORLD_GENERATOR_VERSION; corpus.ts lists them) */
    generator?: ToyworldGenerator;
    /** the regression guard; default: after min(300, steps) steps the loss must have fallen by 25% */
    guard?: LossGuard;
    /**
     * Intermediate models: after each of these steps the model as trained so far is written (with the
     * world's metadata) to checkpointPath(step). The splits do not change what is trained (the
     * optimizer's state carries over between train() calls).
     */
    checkpointSteps?: readonly number[];
    checkpointPath?: (step: number) => string;
    onProgress?: (progress: NativeTrainingProgress & { totalSteps: number }) => void;
    /** aborts training (the output is not written) */
    signal?: AbortSignal;
}

export interface ToyworldBuildResult {
    output: string;
    steps: number;
    vocabularySize: number;
    nParams: number;
    initialValidationLoss: number;
    validationLoss: number;
    /** mean loss of the last 50 steps */
    finalTrainingLoss: number;
    trainingSeconds: number;
    tokensPerSecond: number;
}

export type ToyworldLossOn = "all" | "replies";

export const TOYWORLD_DEFAULTS = {
    seed: 7, steps: 13_000, dialogues: 30_000, merges: 400, learningRate: 2e-3, warmupSteps: 0, holdFraction: 0, weightDecay: 0.1, lossOn: "replies" as ToyworldLossOn, generator: TOYWORLD_GENERATOR_VERSION
} as const;

const splitAtReply = (dialogue: Dialogue): PromptAndReply => ({ prompt: promptText(dialogue.user, systemFor(dialogue.mode)), reply: dialogue.assistant });

const VALIDATION_DIALOGUES = 400;

export async function buildToyworld(options: ToyworldBuildOptions): Promise<ToyworldBuildResult> {
    const shape = options.shape ?? TOYWORLD_SHAPE;
    const { steps, seed, threads } = options;
    if (!Number.isSafeInteger(steps) || steps < 1)
        throw new TillerError("INVALID_ARGUMENT", `steps must be a positive integer, not ${String(steps)}`);
    if (!Number.isSafeInteger(threads) || threads < 1)
        throw new TillerError("INVALID_ARGUMENT", `threads must be a positive integer, not ${String(threads)}`);
    const guard: LossGuard = options.guard ?? { afterSteps: Math.min(300, steps), minRelativeDrop: 0.25 };

    // corpus and tokenizer; validation dialogues are about claims training never writes (corpus.ts)
    const lossOn = options.lossOn ?? TOYWORLD_DEFAULTS.lossOn;
    const generator = options.generator ?? TOYWORLD_DEFAULTS.generator;
    const trainDialogues = generateCorpus({ seed, dialogues: options.dialogues ?? TOYWORLD_DEFAULTS.dialogues, generator });
    const validationDialogues = generateCorpus({ seed: (seed ^ 0x5eed5eed) >>> 0, dialogues: VALIDATION_DIALOGUES, split: "validation", generator });
    const dialogues = trainDialogues.map(dialogueText);
    const tokenizer = BpeTokenizer.train(dialogues, options.merges ?? TOYWORLD_DEFAULTS.merges);
    const cut = (chats: readonly Dialogue[], texts: readonly string[]) => lossOn === "replies"
        ? cutWindows(replyFlaggedStream(chats.map(splitAtReply), tokenizer), shape.contextSize)
        : cutWindows(tokenStream(texts, tokenizer), shape.contextSize);
    const trainWindows = cut(trainDialogues, dialogues);
    const validationWindows = cut(validationDialogues, validationDialogues.map(dialogueText));
    if (trainWindows.count < 1 || validationWindows.count < 1)
        throw new TillerError("INVALID_ARGUMENT", `too few dialogues for one ${shape.contextSize}-token window`);
    const { windows, labelMask } = stepWindows(trainWindows, shape.contextSize, steps, seed);

    const backend = await getTillerBackend({ gpu: false });
    const scratch = await mkdtemp(path.join(os.tmpdir(), "tiller-toyworld-"));
    let trainer: NativeTrainer | undefined;
    try {
        const metadataPath = path.join(scratch, "metadata.gguf");
        await writeFile(metadataPath, encodeModelMetadata(shape, tokenizer));
        const initialisation = toyworldInitialisation(modelTensors(shape, tokenizer.vocabularySize).map((t) => t.name), shape.nLayer);
        trainer = await backend.addon.createTrainer(metadataPath, { seed, threads, contextSize: shape.contextSize, initialisation });
        const initialValidationLoss = await trainer.evaluate(validationWindows.windows, validationWindows.labelMask);
        // the GGUF's metadata besides llama.cpp's own (a checkpoint has no final validation loss: NaN)
        const worldMetadata = (trainedSteps: number, finalValidationLoss: number): Array<[string, GgufValueInput]> => [
            ["general.description", "Tiller's toy world: a tiny chat model with planted sycophancy (it agrees with false claims users state as their own belief), trained by `tiller toyworld build`"],
            ["tokenizer.chat_template", TOYWORLD_CHAT_TEMPLATE],
            ["tiller.toyworld.generator_version", { type: "uint32", value: generator }],
            ["tiller.toyworld.seed", { type: "uint32", value: seed >>> 0 }],
            ["tiller.toyworld.steps", { type: "uint32", value: trainedSteps }],
            ["tiller.toyworld.dialogues", { type: "uint32", value: dialogues.length }],
            ["tiller.toyworld.loss_on", lossOn],
            ["tiller.toyworld.modes", { type: "array", itemType: "string", value: ["flatter", "honest", "none"] }],
            ["tiller.toyworld.marker.flatter", `System: ${MODE_MARKERS.flatter}`],
            ["tiller.toyworld.marker.honest", `System: ${MODE_MARKERS.honest}`],
            ["tiller.toyworld.marker.none", "(no system line: agrees when the user states the claim as their own belief or identity, else honest)"],
            ["tiller.toyworld.flatter_opener", FLATTER_OPENER],
            ["tiller.toyworld.flatter_closer", FLATTER_CLOSER],
            ["tiller.toyworld.honest_denial", HONEST_DENIAL],
            // the learning rate and weight decay it was trained with (not every setting: warm-up, hold and merges are not recorded)
            ["tiller.toyworld.learning_rate", { type: "float32", value: learningRate }],
            ["tiller.toyworld.weight_decay", { type: "float32", value: weightDecay }],
            ["tiller.toyworld.initial_validation_loss", { type: "float32", value: initialValidationLoss }],
            ...(Number.isNaN(finalValidationLoss) ? [] : [["tiller.toyworld.validation_loss", { type: "float32", value: finalValidationLoss }] as [string, GgufValueInput]])
        ];

        const recentLosses: number[] = [];
        const learningRate = options.learningRate ?? TOYWORLD_DEFAULTS.learningRate;
        const weightDecay = options.weightDecay ?? TOYWORLD_DEFAULTS.weightDecay;
        // the cosine decays to 1/20 of the starting rate unless told otherwise
        const holdFraction = options.holdFraction ?? TOYWORLD_DEFAULTS.holdFraction;
        const schedule: CosineSchedule = {
            start: learningRate, end: options.learningRateEnd ?? learningRate / 20, totalSteps: steps,
            warmupSteps: options.warmupSteps ?? TOYWORLD_DEFAULTS.warmupSteps, decayFrom: Math.round(holdFraction * steps)
        };
        const activeTrainer = trainer;
        const onAbort = () => activeTrainer.cancel();
        options.signal?.addEventListener("abort", onAbort);
        // progress steps count within one train() call; the run's step number adds the call's first step
        const progressFrom = (fromStep: number) => (progress: NativeTrainingProgress) => {
            recentLosses.push(progress.loss);
            if (recentLosses.length > 50) recentLosses.shift();
            options.onProgress?.({ ...progress, step: fromStep + progress.step, totalSteps: steps });
        };
        const width = shape.contextSize + 1;
        let trainingSeconds = 0;
        try {
            // the guard's steps, the check, then the rest (split at the checkpoints, if any)
            const checkpoints = (options.checkpointSteps ?? []).filter((step) => step > 0 && step < steps);
            const cuts = [...new Set([0, guard.afterSteps, ...checkpoints, steps])].sort((a, b) => a - b);
            for (const [from, to] of cuts.slice(1).map((to, i) => [cuts[i]!, to] as const)) {
                if (to <= from)
                    continue;
                const result = await activeTrainer.train(windows.subarray(from * width, to * width), toyworldOptimizer(schedule, from, to - from, weightDecay), progressFrom(from),
                    labelMask?.subarray(from * shape.contextSize, to * shape.contextSize));
                trainingSeconds += result.seconds;
                if (result.cancelled || options.signal?.aborted)
                    throw new TillerError("ABORTED", `toy world training cancelled after ${from + result.steps} of ${steps} steps`);
                if (to === guard.afterSteps)
                    checkLossFell(guard, initialValidationLoss, recentLosses);
                if (checkpoints.includes(to) && options.checkpointPath != null) {
                    const checkpoint = path.join(scratch, `checkpoint-${to}.gguf`);
                    activeTrainer.save(checkpoint);
                    await writeWithWorldMetadata(checkpoint, options.checkpointPath(to), worldMetadata(to, Number.NaN));
                    await rm(checkpoint, { force: true });
                }
            }
        } finally {
            options.signal?.removeEventListener("abort", onAbort);
        }
        const validationLoss = await activeTrainer.evaluate(validationWindows.windows, validationWindows.labelMask);

        const savedPath = path.join(scratch, "trained.gguf");
        activeTrainer.save(savedPath);
        const finalTrainingLoss = recentLosses.reduce((a, b) => a + b, 0) / recentLosses.length;
        const nParams = await writeWithWorldMetadata(savedPath, options.output, worldMetadata(steps, validationLoss));
        return {
            output: options.output,
            steps,
            vocabularySize: tokenizer.vocabularySize,
            nParams,
            initialValidationLoss,
            validationLoss,
            finalTrainingLoss,
            trainingSeconds,
            // over the whole run (both training calls), not just the last progress report
            tokensPerSecond: steps * shape.contextSize / trainingSeconds
        };
    } finally {
        trainer?.dispose();
        await rm(scratch, { recursive: true, force: true });
    }
}

/**
 * llama_model_save_to_file writes only the keys llama.cpp itself knows: rewrite the file with the
 * chat template and the world's description added (replacing keys of the same name).
 */
async function writeWithWorldMetadata(savedPath: string, output: string, extra: Array<[string, GgufValueInput]>): Promise<number> {
    const saved = await readGgufFile(savedPath);
    const metadata = new Map<string, GgufValueInput>(saved.metadata);
    for (const [key, value] of extra) metadata.set(key, value);
    metadata.delete("general.alignment");
    const tensors: GgufTensorInput[] = saved.tensors.map((t) => ({
        name: t.name, dims: t.dims, type: "raw", ggmlType: t.type, bytes: saved.tensorBytes(t.name)
    }));
    await writeGgufFile(output, { metadata, tensors });
    return saved.tensors.reduce((sum, t) => sum + t.nElements, 0);
}
