// `tiller make-model`: a GGUF with random weights, for tests and benchmarks of any shape: the
// llama architecture by default, or with --arch one of the architectures of
// engine/gguf/RandomArchitectureModel.ts (their real tensor names, shapes, metadata, tokenizer
// family and chat template).
import path from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { GgufError } from "../gguf/GgufError.js";
import { readGgufFile } from "../gguf/GgufReader.js";
import { writeRandomModelFile } from "../gguf/RandomModelFile.js";
import { randomArchitectures, writeArchitectureModelFile, type RandomArchitecture } from "../gguf/RandomArchitectureModel.js";
import { TillerError } from "../protocol/TillerError.js";
import { ggufErrorToTillerError } from "../runtime/ggufErrors.js";
import { wholeNumberParser } from "./parseArguments.js";

interface MakeModelCliOptions {
    arch?: RandomArchitecture;
    experts?: number;
    expertsUsed?: number;
    layers: number;
    embd: number;
    heads: number;
    headsKv?: number;
    ff?: number;
    vocab?: number;
    ctx?: number;
    type: "f16" | "f32";
    seed: number;
    output: string;
}

export function registerMakeModelCommand(program: Command): void {
    program.command("make-model")
        .description("write a GGUF with random weights (useful for tests and benchmarks); prints a one-line summary")
        .option("--arch <A>", `architecture: ${randomArchitectures.join(", ")} (default: the plain llama writer); ` +
            "each with its real tensor names and metadata, its tokenizer family (SentencePiece or byte-level BPE) and a chat template", parseArchitecture)
        .option("--experts <N>", "qwen3moe: experts per block (default 4)", wholeNumberParser(1))
        .option("--experts-used <N>", "qwen3moe: experts used per token (default 2)", wholeNumberParser(1))
        .requiredOption("--layers <L>", "blocks", wholeNumberParser(1))
        .requiredOption("--embd <D>", "embedding width (a multiple of --heads, with an even head size)", wholeNumberParser(1))
        .requiredOption("--heads <H>", "attention heads", wholeNumberParser(1))
        .option("--heads-kv <N>", "key/value heads, dividing --heads (default: --heads)", wholeNumberParser(1))
        .option("--ff <N>", "feed-forward width (default: 4 × --embd)", wholeNumberParser(1))
        .option("--vocab <V>", "vocabulary size, at least 260 (3 special tokens, 256 bytes, \"▁\"); with --arch: SentencePiece size (default 512; BPE vocabularies have their own size)", wholeNumberParser(1))
        .option("--ctx <N>", "training context length (default: 2048)", wholeNumberParser(1))
        .option("--type <TYPE>", "weight type, f16 or f32 (norms are always f32)", parseWeightType, "f32" as const)
        .option("--seed <S>", "seed of the random weights; the same options give the same bytes", wholeNumberParser(0), 0)
        .requiredOption("-o, --output <FILE>", "GGUF file to write (overwritten if it exists)")
        .action(async (_options: unknown, command: Command) => {
            await runMakeModel(command.opts<MakeModelCliOptions>());
        });
}

function parseArchitecture(text: string): RandomArchitecture {
    const name = text.trim().toLowerCase();
    if (!(randomArchitectures as readonly string[]).includes(name))
        throw new InvalidArgumentError(`unknown architecture "${text}"; choose one of ${randomArchitectures.join(", ")}`);
    return name as RandomArchitecture;
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
    if (options.arch == null && options.vocab == null)
        throw new TillerError("INVALID_ARGUMENT", "--vocab is required without --arch");
    try {
        if (options.arch != null)
            await writeArchitectureModelFile(output, {
                architecture: options.arch,
                nLayer: options.layers,
                nEmbd: options.embd,
                nHead: options.heads,
                nHeadKv: headsKv,
                nFf: options.ff,
                nExpert: options.experts,
                nExpertUsed: options.expertsUsed,
                nVocab: options.vocab,
                contextLength: options.ctx,
                type: options.type,
                seed: options.seed
            });
        else await writeRandomModelFile(output, {
            nLayer: options.layers,
            nEmbd: options.embd,
            nHead: options.heads,
            nHeadKv: headsKv,
            nFf: options.ff,
            nVocab: options.vocab!,
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
    const architecture = header.architecture ?? "llama";
    const nFf = header.getNumber(`${architecture}.feed_forward_length`);
    const contextLength = header.getNumber(`${architecture}.context_length`);
    const vocab = header.getNumber(`${architecture}.vocab_size`) ?? options.vocab;
    process.stdout.write(`wrote ${output}: ${architecture}, ${options.layers} layers, width ${options.embd}, ${options.heads} heads (${headsKv} kv), ` +
        `ff ${nFf ?? "?"}, vocab ${vocab}, tokenizer ${header.getString("tokenizer.ggml.model") ?? "?"}, context ${contextLength ?? "?"}, ${options.type}, seed ${options.seed}, ` +
        `${parameters.toLocaleString("en-US")} parameters, ${fileSize.toLocaleString("en-US")} bytes\n`);
}
