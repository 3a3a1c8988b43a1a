// `tiller make-model`: a llama-architecture GGUF with random weights, for tests and benchmarks of
// any shape.
import path from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { GgufError } from "../gguf/GgufError.js";
import { readGgufFile } from "../gguf/GgufReader.js";
import { writeRandomModelFile } from "../gguf/RandomModelFile.js";
import { TillerError } from "../protocol/TillerError.js";
import { ggufErrorToTillerError } from "../runtime/loadSteeringVector.js";
import { wholeNumberParser } from "./parseArguments.js";

interface MakeModelCliOptions {
    layers: number;
    embd: number;
    heads: number;
    headsKv?: number;
    ff?: number;
    vocab: number;
    ctx?: number;
    type: "f16" | "f32";
    seed: number;
    output: string;
}

export function registerMakeModelCommand(program: Command): void {
    program.command("make-model")
        .description("write a llama-architecture GGUF with random weights (useful for tests and benchmarks); prints a one-line summary")
        .requiredOption("--layers <L>", "blocks", wholeNumberParser(1))
        .requiredOption("--embd <D>", "embedding width (a multiple of --heads, with an even head size)", wholeNumberParser(1))
        .requiredOption("--heads <H>", "attention heads", wholeNumberParser(1))
        .option("--heads-kv <N>", "key/value heads, dividing --heads (default: --heads)", wholeNumberParser(1))
        .option("--ff <N>", "feed-forward width (default: 4 × --embd)", wholeNumberParser(1))
        .requiredOption("--vocab <V>", "vocabulary size, at least 260 (3 special tokens, 256 bytes, \"▁\")", wholeNumberParser(1))
        .option("--ctx <N>", "training context length (default: 2048)", wholeNumberParser(1))
        .option("--type <TYPE>", "weight type, f16 or f32 (norms are always f32)", parseWeightType, "f32" as const)
        .option("--seed <S>", "seed of the random weights; the same options give the same bytes", wholeNumberParser(0), 0)
        .requiredOption("-o, --output <FILE>", "GGUF file to write (overwritten if it exists)")
        .action(async (_options: unknown, command: Command) => {
            await runMakeModel(command.opts<MakeModelCliOptions>());
        });
}

function parseWeightType(text: string): "f16" | "f32" {
    const type = text.trim().toLowerCase();
    if (type !== "f16" && type !== "f32")
        throw new InvalidArgumentError("the weight type must be f16 or f32");
    return type;
}

async function runMakeModel(options: MakeModelCliOptions): Promise<void> {
    const headsKv = options.headsKv ?? options.heads;
    if (options.embd % options.heads !== 0)
        throw new TillerError("INVALID_ARGUMENT", `--embd ${options.embd} is not a multiple of --heads ${options.heads}`);
    if (options.heads % headsKv !== 0)
        throw new TillerError("INVALID_ARGUMENT", `--heads-kv ${headsKv} does not divide --heads ${options.heads}`);
    const output = path.resolve(options.output);
    try {
        await writeRandomModelFile(output, {
            nLayer: options.layers,
            nEmbd: options.embd,
            nHead: options.heads,
            nHeadKv: headsKv,
            nFf: options.ff,
            nVocab: options.vocab,
            contextLength: options.ctx,
            type: options.type,
            seed: options.seed
        });
    } catch (error) {
        // the writer's messages already say what was wrong ("cannot write ...", "cannot make a random model: ...")
        if (error instanceof GgufError && (error.code === "IO" || error.code === "INVALID_ARGUMENT"))
            throw new TillerError("INVALID_ARGUMENT", error.message, { cause: error });
        throw ggufErrorToTillerError(error, output, "model");
    }
    let header;
    try {
        header = await readGgufFile(output, { tensorData: false });
    } catch (error) {
        throw ggufErrorToTillerError(error, output, "model");
    }
    const parameters = header.tensors.reduce((sum, tensor) => sum + tensor.nElements, 0);
    const fileSize = header.fileSize;
    const nFf = header.getNumber("llama.feed_forward_length");
    const contextLength = header.getNumber("llama.context_length");
    process.stdout.write(`wrote ${output}: llama, ${options.layers} layers, width ${options.embd}, ${options.heads} heads (${headsKv} kv), ` +
        `ff ${nFf ?? "?"}, vocab ${options.vocab}, context ${contextLength ?? "?"}, ${options.type}, seed ${options.seed}, ` +
        `${parameters.toLocaleString("en-US")} parameters, ${fileSize.toLocaleString("en-US")} bytes\n`);
}
