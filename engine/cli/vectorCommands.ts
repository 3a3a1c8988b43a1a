// `tiller vector ...`: build a control vector from a contrastive dataset, describe one, and derive
// new ones (weighted sums, negation, scaling) or compare them (per-layer cosine). Every file written
// is a llama.cpp control-vector GGUF (`--control-vector` reads it) with Tiller's `tiller.*` string
// metadata alongside.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { readControlVectorFile, writeControlVectorFile, type ControlVector } from "../gguf/ControlVectorFile.js";
import { GgufError } from "../gguf/GgufError.js";
import { sha256OfFile } from "../io/sha256File.js";
import { TillerError } from "../protocol/TillerError.js";
import type { LayerRange } from "../runtime/layers.js";
import { ggufErrorToTillerError } from "../runtime/ggufErrors.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import { TillerModel } from "../runtime/TillerModel.js";
import { VECTOR_BUILD_CONTEXT, vectorBuildContext } from "../runtime/contextShapes.js";
import { CALIBRATION_KEY, encodeCalibration } from "../runtime/vectorCalibration.js";
import { derivedControlVector } from "../vectors/library/derivedMetadata.js";
import { DEFAULT_HELD_OUT_FRACTION, type BuildMethod, type LayerDiagnostics } from "../vectors/buildSteeringVector.js";
import { buildVectorFromDataset, type DatasetVector } from "../vectors/buildVectorFromDataset.js";
import { cosineSimilarityMatrices, negateVector, normalizeVector, scaleVector, weightedSumOfVectors } from "../vectors/library/vectorArithmetic.js";
import type { ReadPosition } from "../vectors/pairTokens.js";
import { formatFixed, formatSignificant, formatTable } from "./formatTable.js";
import { formatLabelledRows, infoRows, readInfo } from "./infoCommand.js";
import { collect, parseGpuLayers, parseLayers, parseNumber, parseVectorSpec, wholeNumberParser, type VectorSpec } from "./parseArguments.js";
import { progressLine } from "./progressLine.js";
import { resolveDataset } from "./resolveDataset.js";

const buildMethods = ["mean", "pca-diff", "pca-center"] as const satisfies readonly BuildMethod[];
const readPositions = ["last", "mean", "answer"] as const satisfies readonly ReadPosition[];

/** The context a build uses: room for many pairs per llama_decode. */
const DEFAULT_HELD_OUT = DEFAULT_HELD_OUT_FRACTION;

export function registerVectorCommands(program: Command): void {
    const vector = program.command("vector")
        .description("build control vectors from contrastive datasets, describe them, and combine, negate, scale or compare them");
    registerBuild(vector);
    registerInfo(vector);
    registerCombine(vector);
    registerNegate(vector);
    registerScale(vector);
    registerCosine(vector);
}

// ---- option parsers ------------------------------------------------------------------------------

function choiceParser<T extends string>(what: string, choices: readonly T[]): (text: string) => T {
    return (text) => {
        const value = text.trim().toLowerCase();
        if (!(choices as readonly string[]).includes(value))
            throw new InvalidArgumentError(`the ${what} must be ${choices.slice(0, -1).join(", ")} or ${choices.at(-1)!}`);
        return value as T;
    };
}

function parseHeldOut(text: string): number {
    const value = parseNumber(text);
    if (value < 0 || value >= 1)
        throw new InvalidArgumentError(`the held-out fraction must be at least 0 and below 1, not ${text}`);
    return value;
}

/** `FILE[:WEIGHT]`, parsed like generate's `--vector FILE[:SCALE]` (the weight after the last ':'). */
function parseWeightedFile(text: string): VectorSpec {
    try {
        return parseVectorSpec(text);
    } catch (error) {
        if (error instanceof InvalidArgumentError)
            throw new InvalidArgumentError(error.message.replace(/^the scale\b/, "the weight"));
        throw error;
    }
}

// ---- files --------------------------------------------------------------------------------------

interface LoadedVector {
    file: string;
    cv: ControlVector;
    vector: SteeringVector;
}

async function readVectorFile(file: string): Promise<LoadedVector> {
    let cv: ControlVector;
    try {
        cv = await readControlVectorFile(file);
    } catch (error) {
        throw ggufErrorToTillerError(error, file, "control-vector");
    }
    return { file, cv, vector: { name: path.parse(file).name, nEmbd: cv.nEmbd, directions: cv.directions } };
}

/** Fails before any work when the output's folder is missing (a build can take minutes). */
function checkOutputPath(output: string): string {
    const resolved = path.resolve(output);
    const folder = path.dirname(resolved);
    if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory())
        throw new TillerError("INVALID_ARGUMENT", `cannot write "${output}": the folder "${folder}" does not exist`);
    if (fs.existsSync(resolved) && fs.statSync(resolved).isDirectory())
        throw new TillerError("INVALID_ARGUMENT", `cannot write "${output}": it is a folder`);
    return resolved;
}

async function writeVectorFile(output: string, cv: ControlVector): Promise<void> {
    try {
        await writeControlVectorFile(output, cv);
    } catch (error) {
        if (error instanceof GgufError && error.code === "IO")
            throw new TillerError("INVALID_ARGUMENT", error.message, { cause: error });
        throw ggufErrorToTillerError(error, output, "control-vector");
    }
}

function defaultName(output: string): string {
    return path.parse(output).name;
}

function writtenLine(output: string, vector: SteeringVector): string {
    const layers = [...vector.directions.keys()].sort((a, b) => a - b);
    return `wrote ${output}: width ${vector.nEmbd}, layers ${layers.length === 0 ? "none" : layers.join(",")}\n`;
}

// ---- vector build -------------------------------------------------------------------------------

interface BuildCliOptions {
    model: string;
    dataset: string;
    negativeFile?: string;
    method: BuildMethod;
    read: ReadPosition;
    layers?: LayerRange;
    heldOut: number;
    seed: number;
    threads?: number;
    ctxSize?: number;
    gpuLayers: number | "auto";
    output: string;
    name?: string;
    json?: boolean;
}

function registerBuild(vector: Command): void {
    vector.command("build")
        .description("build a control vector from a contrastive dataset on a model; writes a llama.cpp control-vector GGUF and prints per-layer diagnostics")
        .requiredOption("-m, --model <FILE>", "GGUF model file to read activations from")
        .requiredOption("--dataset <FILE|NAME>", "a built-in dataset (see `tiller datasets`; write ./NAME for a file of that name), or a file: " +
            "Tiller JSON, CAA A/B JSON, repeng lists (.json or .jsonl), or a llama.cpp cvector-generator positive prompt file with --negative-file")
        .option("--negative-file <FILE>", "the cvector-generator negative prompt file that pairs line by line with --dataset (default: none)")
        .option("--method <METHOD>", "mean (difference of means), pca-diff (principal direction of the pair differences) or pca-center",
            choiceParser("method", buildMethods), "mean" as BuildMethod)
        .option("--read <AT>", "where activations are read: last (last token), mean (mean over the completion) or answer (the completion's first letter or digit)",
            choiceParser("read position", readPositions), "last" as ReadPosition)
        .option("--layers <A-B>", "blocks to build directions for, inclusive, llama.cpp numbering (default: every steerable block, 1 to the last)", parseLayers)
        .option("--held-out <F>", "share of pairs held out of building, whole groups (templates), in [0, 1): half a validation split that picks the best layer, half a test split that reports it", parseHeldOut, DEFAULT_HELD_OUT)
        .option("--seed <S>", "seed of the held-out split (splitmix32 shuffle of the groups)", wholeNumberParser(0), 0)
        .option("-t, --threads <N>", `CPU threads (default: the cores available to this process, ${Math.max(1, os.availableParallelism())} here)`, wholeNumberParser(1))
        .option("-c, --ctx-size <N>", `context size in tokens; pairs are packed into it (default: ${VECTOR_BUILD_CONTEXT.contextSize})`, wholeNumberParser(1))
        .option("--gpu-layers <N|auto>", "layers to offload to the GPU; auto lets node-llama-cpp fit them", parseGpuLayers, "auto" as const)
        .requiredOption("-o, --output <FILE>", "control-vector GGUF to write (overwritten if it exists)")
        .option("--name <NAME>", "the vector's name, stored as tiller.name (default: the dataset's name)")
        .option("--json", "print one JSON object (output, dataset, method, readAt, bestLayer, pairs, diagnostics, ...) instead of a table", false)
        .action(async (_options: unknown, command: Command) => {
            await runBuild(command.opts<BuildCliOptions>());
        });
}

async function runBuild(options: BuildCliOptions): Promise<void> {
    const output = checkOutputPath(options.output);
    const { dataset, source } = await resolveDataset(options.dataset, options.negativeFile);
    const model = await TillerModel.load(options.model, { gpuLayers: options.gpuLayers });
    const abort = new AbortController();
    const onInterrupt = () => abort.abort();
    process.once("SIGINT", onInterrupt);
    try {
        const context = await model.createContext({ threads: options.threads, ...vectorBuildContext(options.ctxSize) });
        const hashing = sha256OfFile(model.path, { signal: abort.signal });
        hashing.catch(() => undefined); // awaited below; a build failure must not leave it unhandled
        const progress = progressLine("building", "pairs");
        let built: DatasetVector;
        try {
            built = await buildVectorFromDataset(context, dataset, {
                method: options.method,
                readAt: options.read,
                layers: options.layers,
                heldOutFraction: options.heldOut,
                seed: options.seed,
                name: options.name ?? dataset.name,
                signal: abort.signal,
                onProgress: (done, total) => progress.update(done, total)
            });
        } finally {
            progress.finish();
        }
        const modelSha256 = await hashing;
        const name = options.name ?? dataset.name;
        await writeVectorFile(output, {
            modelHint: model.shape.architecture,
            nEmbd: built.vector.nEmbd,
            directions: new Map(built.vector.directions),
            metadata: {
                "tiller.name": name,
                "tiller.source_dataset": source,
                "tiller.method": built.method,
                "tiller.read_at": built.readAt,
                "tiller.model_sha256": modelSha256,
                "tiller.model_file": path.basename(model.path),
                "tiller.created_at": new Date().toISOString(),
                ...(built.vector.calibration != null ? { [CALIBRATION_KEY]: encodeCalibration(built.vector.calibration) } : {})
            }
        });
        if (options.json) {
            process.stdout.write(`${JSON.stringify({
                output,
                dataset: built.dataset,
                source,
                method: built.method,
                readAt: built.readAt,
                bestLayer: built.bestLayer,
                trainPairs: built.trainPairs,
                heldOutPairs: built.heldOutPairs,
                validationPairs: built.validationPairs,
                testPairs: built.testPairs,
                groups: built.groups,
                bestLayerChosenBy: built.bestLayerChosenBy,
                warnings: built.warnings,
                elapsedMs: built.elapsedMs,
                diagnostics: built.diagnostics,
                chatFormat: built.chatFormat,
                modelSha256
            })}\n`);
        } else {
            process.stdout.write(formatBuildReport(output, name, source, built, dataset.framing));
        }
    } finally {
        process.off("SIGINT", onInterrupt);
        await model.dispose();
    }
}

function formatBuildReport(output: string, name: string, source: string, built: DatasetVector, framing: string): string {
    const lines: string[] = [];
    const seconds = (built.elapsedMs / 1000).toFixed(1);
    lines.push(`wrote ${output}: "${name}" from ${source} (${framing}), ${built.method} read at ${built.readAt}, ` +
        `${built.trainPairs} training + ${built.validationPairs} validation + ${built.testPairs} test pairs (${built.groups} groups), ${seconds} s`);
    if (built.chatFormat === "plain-fallback")
        lines.push("note: the model has no chat template (or one node-llama-cpp cannot run); chat pairs were laid out as \"User: ... Assistant:\"");
    lines.push("");
    const rows = built.diagnostics.map((entry) => [
        entry.layer === built.bestLayer ? "*" : "",
        String(entry.layer),
        formatSignificant(entry.norm),
        formatSignificant(entry.activationNorm),
        formatFixed(entry.trainAuroc, 3),
        formatFixed(entry.validationAuroc, 3),
        formatFixed(entry.heldOutAuroc, 3),
        formatFixed(entry.pairedAccuracy, 3),
        formatFixed(entry.standardizedMeanDifference, 2),
        formatFixed(entry.cosineToMean, 2)
    ]);
    lines.push(formatTable(["", "layer", "norm", "activation norm", "train AUROC", "val AUROC", "test AUROC", "paired acc", "d", "cos(mean)"], rows).trimEnd());
    const best = built.diagnostics.find((entry) => entry.layer === built.bestLayer)!;
    lines.push(`* best layer: ${best.layer} (highest ${built.bestLayerChosenBy} AUROC; test AUROC and paired accuracy come from groups that chose nothing` +
        `${built.testPairs > 0 ? "" : " — none held out, so every figure is a training figure"}; d is Cohen's d of the projections; ` +
        "cos(mean) is |cos| between the direction and the mean difference)");
    for (const warning of built.warnings)
        lines.push(`warning: ${warning}`);
    lines.push("", ...strengthAdvice(best, built));
    return `${lines.join("\n")}\n`;
}

function strengthAdvice(best: LayerDiagnostics, built: DatasetVector): string[] {
    const share = best.activationNorm > 0 ? best.norm / best.activationNorm : Number.NaN;
    const outweighs = best.norm > 0 ? best.activationNorm / best.norm : Number.NaN;
    return [
        `strength: α≈1 moves a negative example's mean to the positive mean ("${built.negativeLabel}" towards "${built.positiveLabel}"; α<0 steers the other way).`,
        `  vector norm ${formatSignificant(best.norm)} at layer ${best.layer} vs typical activation norm ${formatSignificant(best.activationNorm)}` +
            (Number.isFinite(share) ? ` (${(share * 100).toFixed(1)}%)` : "") + ".",
        `  suggested range: α 0.5 to 2 on layers around ${best.layer}` +
            (Number.isFinite(outweighs) ? `; from α≈${formatSignificant(outweighs, 2)} the vector is as large as the activation itself` : "") + "."
    ];
}

// ---- vector info --------------------------------------------------------------------------------

/** Known keys first, in this order; any other tiller.* key after them, sorted. */
const METADATA_ORDER = ["tiller.name", "tiller.source_dataset", "tiller.method", "tiller.read_at", "tiller.model_file", "tiller.model_sha256",
    "tiller.created_at", "tiller.derived_from", "tiller.notes"];

function orderedMetadata(metadata: Record<string, string>): [string, string][] {
    const rank = (key: string) => {
        const index = METADATA_ORDER.indexOf(key);
        return index < 0 ? METADATA_ORDER.length : index;
    };
    return Object.entries(metadata).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

function registerInfo(vector: Command): void {
    vector.command("info")
        .description("show a control vector's model hint, layers, width, per-layer norms and tiller.* metadata (like `tiller info`)")
        .argument("<FILE>", "a control-vector GGUF file")
        .option("--json", "print one JSON object instead of text", false)
        .action(async (file: string, options: { json?: boolean }) => {
            const info = await readInfo(file);
            if (info.kind !== "controlvector")
                throw new TillerError("INVALID_ARGUMENT",
                    `"${file}" is a model (architecture "${info.architecture}"), not a control vector; \`tiller info\` describes models`);
            const { cv } = await readVectorFile(file);
            const metadata = Object.fromEntries(orderedMetadata(cv.metadata ?? {}));
            if (options.json) {
                process.stdout.write(`${JSON.stringify({ ...info, metadata })}\n`);
                return;
            }
            process.stdout.write(formatLabelledRows([...infoRows(info), ...Object.entries(metadata)]));
        });
}

// ---- vector combine / negate / scale ------------------------------------------------------------

interface DeriveCliOptions {
    output: string;
    name?: string;
    normalize?: boolean;
}

function registerCombine(vector: Command): void {
    vector.command("combine")
        .description("write the weighted sum Σ wᵢ·vᵢ of control vectors, layer by layer (a vector lacking a layer adds zero there)")
        .argument("<FILE[:WEIGHT]...>", "control-vector files, each with its weight after the last ':' (default weight: 1)", collect(parseWeightedFile))
        .requiredOption("-o, --output <FILE>", "control-vector GGUF to write (overwritten if it exists)")
        .option("--normalize", "rescale every layer of the sum to unit norm", false)
        .option("--name <NAME>", "the vector's name, stored as tiller.name (default: the output file's name)")
        .action(async (specs: VectorSpec[], options: DeriveCliOptions) => {
            const output = checkOutputPath(options.output);
            const loaded = await Promise.all(specs.map((spec) => readVectorFile(spec.path)));
            const name = options.name ?? defaultName(output);
            const terms = loaded.map((entry, index) => ({ vector: entry.vector, weight: specs[index]!.scale }));
            let sum = weightedSumOfVectors(terms, name);
            const formula = specs.map((spec) => `${spec.scale}*${path.basename(spec.path)}`).join(" + ");
            if (options.normalize)
                sum = normalizeVector(sum, name);
            await writeVectorFile(output, derivedControlVector(loaded.map((source) => source.cv), sum, name, options.normalize ? `normalize(${formula})` : formula));
            process.stdout.write(writtenLine(output, sum));
        });
}

function registerNegate(vector: Command): void {
    vector.command("negate")
        .description("write −v: the same directions pointing the other way")
        .argument("<IN>", "a control-vector file")
        .requiredOption("-o, --output <FILE>", "control-vector GGUF to write (overwritten if it exists)")
        .option("--name <NAME>", "the vector's name, stored as tiller.name (default: the output file's name)")
        .action(async (file: string, options: DeriveCliOptions) => {
            const output = checkOutputPath(options.output);
            const source = await readVectorFile(file);
            const name = options.name ?? defaultName(output);
            const negated = negateVector(source.vector, name);
            await writeVectorFile(output, derivedControlVector([source.cv], negated, name, `negate(${path.basename(file)})`));
            process.stdout.write(writtenLine(output, negated));
        });
}

function registerScale(vector: Command): void {
    vector.command("scale")
        .description("write FACTOR·v on every layer")
        .argument("<IN>", "a control-vector file")
        .argument("<FACTOR>", "a finite number (negative flips the direction)", parseNumber)
        .requiredOption("-o, --output <FILE>", "control-vector GGUF to write (overwritten if it exists)")
        .option("--name <NAME>", "the vector's name, stored as tiller.name (default: the output file's name)")
        .action(async (file: string, factor: number, options: DeriveCliOptions) => {
            const output = checkOutputPath(options.output);
            const source = await readVectorFile(file);
            const name = options.name ?? defaultName(output);
            const scaled = scaleVector(source.vector, factor, name);
            await writeVectorFile(output, derivedControlVector([source.cv], scaled, name, `scale(${path.basename(file)}, ${factor})`));
            process.stdout.write(writtenLine(output, scaled));
        });
}

// ---- vector cosine ------------------------------------------------------------------------------

function registerCosine(vector: Command): void {
    vector.command("cosine")
        .description("per-layer cosine similarity between control vectors (a matrix per layer; '-' where a vector lacks the layer or is zero there)")
        .argument("<FILE...>", "two or more control-vector files")
        .option("--json", "print one JSON object { files, names, layers, matrices: { layer: n×n, null for '-' } } instead of text", false)
        .action(async (files: string[], options: { json?: boolean }) => {
            if (files.length < 2)
                throw new TillerError("INVALID_ARGUMENT", "cosine compares two or more vector files; give at least two");
            const loaded = await Promise.all(files.map((file) => readVectorFile(file)));
            const names = uniqueLabels(files);
            const { layers, matrices } = cosineSimilarityMatrices(loaded.map((entry) => entry.vector));
            if (options.json) {
                const byLayer = Object.fromEntries(layers.map((layer) => [String(layer), matrices.get(layer)!]));
                process.stdout.write(`${JSON.stringify({ files, names, layers, matrices: byLayer })}\n`);
                return;
            }
            if (files.length === 2) {
                process.stdout.write(`cosine of ${names[0]} and ${names[1]} per layer:\n`);
                process.stdout.write(formatTable(["layer", "cosine"], layers.map((layer) => [String(layer), formatFixed(matrices.get(layer)![0]![1]!, 4)])));
                return;
            }
            const blocks = layers.map((layer) => `layer ${layer}\n` + formatTable(["", ...names],
                matrices.get(layer)!.map((row, i) => [names[i]!, ...row.map((value) => formatFixed(value, 4))])));
            process.stdout.write(blocks.join("\n"));
        });
}

/** Base names, or the paths as given where two base names coincide; repeats get #2, #3... */
function uniqueLabels(files: readonly string[]): string[] {
    const bases = files.map((file) => path.basename(file));
    const labels = bases.map((base, i) => (bases.indexOf(base) !== bases.lastIndexOf(base) ? files[i]! : base));
    const seen = new Map<string, number>();
    return labels.map((label) => {
        const count = (seen.get(label) ?? 0) + 1;
        seen.set(label, count);
        return count === 1 ? label : `${label}#${count}`;
    });
}
