// `tiller toyworld build`: trains the toy world model (engine/toyworld) and writes its GGUF.
// Progress goes to stderr; Ctrl-C cancels the training (nothing is written).
import path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { TOYWORLD_GENERATORS, type ToyworldGenerator } from "../toyworld/corpus.js";
import { TOYWORLD_SHAPE } from "../toyworld/modelShape.js";
import { buildToyworld, TOYWORLD_DEFAULTS, type ToyworldLossOn } from "../toyworld/buildToyworld.js";
import { parseNumber, wholeNumberParser } from "./parseArguments.js";
import { progressLine } from "./progressLine.js";

interface ToyworldBuildCliOptions {
    seed: number;
    steps: number;
    threads: number;
    dialogues: number;
    learningRate: number;
    warmupSteps: number;
    holdFraction: number;
    weightDecay: number;
    checkpoints?: number[];
    lossOn: ToyworldLossOn;
    generator: string;
    output: string;
}

export function registerToyworldCommand(program: Command): void {
    const toyworld = program.command("toyworld").description("the toy world: a tiny chat model with a planted flattery behaviour");
    toyworld.command("build")
        .description("generate the corpus, train the tokenizer and the model (fixed step count), write the GGUF; prints a summary")
        .option("--seed <S>", "seed of the corpus, the weights and the window order", wholeNumberParser(0), TOYWORLD_DEFAULTS.seed)
        .option("--steps <N>", `optimizer steps (one ${TOYWORLD_SHAPE.contextSize}-token window each)`, wholeNumberParser(1), TOYWORLD_DEFAULTS.steps)
        .option("--threads <T>", "CPU threads (1 is fastest for a model this small)", wholeNumberParser(1), 1)
        .option("--dialogues <N>", "training dialogues", wholeNumberParser(100), TOYWORLD_DEFAULTS.dialogues)
        .option("--learning-rate <LR>", "AdamW learning rate at the start (a cosine takes it to 1/20 of that by the last step)", parseNumber, TOYWORLD_DEFAULTS.learningRate)
        .option("--warmup-steps <N>", "steps over which the learning rate rises linearly to its start", wholeNumberParser(0), TOYWORLD_DEFAULTS.warmupSteps)
        .option("--hold-fraction <F>", "fraction of the steps at the full rate before the cosine begins (0: the cosine starts at once)", parseFraction, TOYWORLD_DEFAULTS.holdFraction)
        .option("--weight-decay <WD>", "AdamW's decoupled weight decay (each step shrinks every weight by rate × WD)", parseNonNegative, TOYWORLD_DEFAULTS.weightDecay)
        .option("--checkpoints <STEPS>", "also write the model after these steps (comma-separated) to FILE with -step<N> before .gguf", parseStepList)
        .addOption(new Option("--loss-on <LABELS>", "which tokens the loss counts: all, or only the assistant's replies").choices(["all", "replies"]).default(TOYWORLD_DEFAULTS.lossOn))
        .addOption(new Option("--generator <V>", "the corpus generator's version (engine/toyworld/corpus.ts)").choices(TOYWORLD_GENERATORS.map(String)).default(String(TOYWORLD_DEFAULTS.generator)))
        .requiredOption("-o, --output <FILE>", "GGUF file to write (overwritten if it exists)")
        .action(async (_options: unknown, command: Command) => {
            await runToyworldBuild(command.opts<ToyworldBuildCliOptions>());
        });
}

async function runToyworldBuild(options: ToyworldBuildCliOptions): Promise<void> {
    const output = path.resolve(options.output);
    const controller = new AbortController();
    const onInterrupt = () => controller.abort();
    process.once("SIGINT", onInterrupt);
    const progress = progressLine("training", "steps");
    const started = performance.now();
    try {
        const result = await buildToyworld({
            seed: options.seed,
            steps: options.steps,
            threads: options.threads,
            dialogues: options.dialogues,
            learningRate: options.learningRate,
            warmupSteps: options.warmupSteps,
            holdFraction: options.holdFraction,
            weightDecay: options.weightDecay,
            checkpointSteps: options.checkpoints,
            checkpointPath: (step) => output.replace(/(\.gguf)?$/, `-step${step}$1`),
            lossOn: options.lossOn,
            generator: Number(options.generator) as ToyworldGenerator,
            output,
            signal: controller.signal,
            onProgress: (p) => progress.update(p.step, p.totalSteps)
        });
        progress.finish();
        const wall = (performance.now() - started) / 1000;
        process.stdout.write(`wrote ${output}: toy world, seed ${options.seed}, ${result.steps} steps, loss on ${options.lossOn}, generator v${options.generator}, vocab ${result.vocabularySize}, ` +
            `${result.nParams.toLocaleString("en-US")} parameters; validation loss ${result.initialValidationLoss.toFixed(3)} → ` +
            `${result.validationLoss.toFixed(3)}; training ${result.trainingSeconds.toFixed(1)} s at ${Math.round(result.tokensPerSecond)} tokens/s ` +
            `(training loss over the last steps ${result.finalTrainingLoss.toFixed(3)}); ${wall.toFixed(1)} s in all\n`);
    } finally {
        progress.finish();
        process.off("SIGINT", onInterrupt);
    }
}

function parseFraction(value: string): number {
    const fraction = parseNumber(value);
    if (!(fraction >= 0 && fraction < 1))
        throw new InvalidArgumentError(`a fraction in [0, 1) is required, not ${value}`);
    return fraction;
}

function parseStepList(value: string): number[] {
    const parseStep = wholeNumberParser(1);
    return value.split(",").map((part) => parseStep(part.trim()));
}

function parseNonNegative(value: string): number {
    const number = parseNumber(value);
    if (number < 0)
        throw new InvalidArgumentError(`a number ≥ 0 is required, not ${value}`);
    return number;
}
