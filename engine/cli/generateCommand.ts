// `tiller generate`: a completion, optionally steered by control vectors and read out by probes.
// Text mode streams the continuation as it comes; --json prints one object at the end.
import os from "node:os";
import type { Command } from "commander";
import { TillerError } from "../protocol/TillerError.js";
import { generate, type GenerationResult } from "../runtime/generate.js";
import type { LayerRange } from "../runtime/layers.js";
import { assertReadableLayer } from "../runtime/layers.js";
import { loadSteeringVector } from "../runtime/loadSteeringVector.js";
import type { ProjectionProbe } from "../runtime/ProjectionReader.js";
import { defaultSamplingOptions } from "../runtime/sampling/SamplingOptions.js";
import type { SteeringPatch } from "../runtime/SteeringPatch.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import { getTillerBackend } from "../runtime/TillerBackend.js";
import { TillerModel } from "../runtime/TillerModel.js";
import { DEFAULT_CONTEXT_SIZE } from "../runtime/contextShapes.js";
import { parseDecodePriority, type DecodePriority } from "../runtime/decodePriority.js";
import { backendChoiceForCommand } from "./prestartBackend.js";
import { collect, parseGpuLayers, parseLayers, parseNumber, parseVectorSpec, wholeNumberParser, type VectorSpec } from "./parseArguments.js";

interface GenerateCliOptions {
    model: string;
    prompt: string;
    nPredict: number;
    temp: number;
    topK: number;
    topP: number;
    minP: number;
    seed: number;
    threads?: number;
    ctxSize?: number;
    gpuLayers: number | "auto";
    vector?: VectorSpec[];
    layers?: LayerRange;
    fromToken?: number;
    untilToken?: number;
    probe?: string[];
    probeLayers?: LayerRange;
    json?: boolean;
    decodePriority: DecodePriority;
}

export function registerGenerateCommand(program: Command): void {
    program.command("generate")
        .description("complete a prompt (greedy by default), optionally steered by control vectors; prints only the continuation")
        .requiredOption("-m, --model <FILE>", "GGUF model file")
        .requiredOption("-p, --prompt <TEXT>", "prompt text (BOS is added when the model wants one)")
        .option("-n, --n-predict <N>", "tokens to generate at most", wholeNumberParser(0), 128)
        .option("--temp <T>", "temperature; 0 is greedy", parseNumber, defaultSamplingOptions.temperature)
        .option("--top-k <K>", "keep the K most likely tokens, 0 = off (only with --temp > 0)", wholeNumberParser(0), defaultSamplingOptions.topK)
        .option("--top-p <P>", "nucleus mass in (0, 1], 1 = off (only with --temp > 0)", parseNumber, defaultSamplingOptions.topP)
        .option("--min-p <P>", "drop tokens below P × the top probability, 0 = off (only with --temp > 0)", parseNumber, defaultSamplingOptions.minP)
        .option("--seed <S>", "sampler seed, an unsigned 32-bit integer", wholeNumberParser(0), defaultSamplingOptions.seed)
        .option("-t, --threads <N>", `CPU threads (default: the cores available to this process, ${Math.max(1, os.availableParallelism())} here; one fewer with --decode-priority background)`, wholeNumberParser(1))
        .option("-c, --ctx-size <N>", `context size in tokens (default: min(${DEFAULT_CONTEXT_SIZE}, the model's training context))`, wholeNumberParser(1))
        .option("--gpu-layers <N|auto>", "layers to offload to the GPU; auto lets node-llama-cpp fit them", parseGpuLayers, "auto" as const)
        .option("--vector <FILE[:SCALE]>", "steer with a control-vector GGUF at strength SCALE (default 1); repeatable, the vectors add up", collect(parseVectorSpec))
        .option("--layers <A-B>", "blocks the vectors steer, inclusive, llama.cpp numbering (direction.N acts on block N) (default: every layer each vector has)", parseLayers)
        .option("--from-token <K>", "first generated token the vectors act on; 0 steers from the prompt on, like llama.cpp's --control-vector (default: 0)", wholeNumberParser(0))
        .option("--until-token <M>", "first generated token no longer steered (default: never off)", wholeNumberParser(1))
        .option("--probe <FILE>", "report the projection of the residual stream on this control vector's directions; repeatable", collect((text: string) => text))
        .option("--probe-layers <A-B>", "blocks the probes read, inclusive (default: every layer each probe vector has)", parseLayers)
        .option("--decode-priority <p>", "normal, or background: decode on a thread of lowered priority (nice + 10 on Linux) so other work stays responsive", parseDecodePriority, "normal" as const)
        .option("--json", "print one JSON object (text, tokens with log-probs, alternatives, projections, timings) instead of streaming text", false)
        .action(async (_options: unknown, command: Command) => {
            await runGenerate(command.opts<GenerateCliOptions>());
        });
}

async function runGenerate(options: GenerateCliOptions): Promise<void> {
    const vectorSpecs = options.vector ?? [];
    const probeFiles = options.probe ?? [];
    for (const [flag, value] of [["--layers", options.layers], ["--from-token", options.fromToken], ["--until-token", options.untilToken]] as const) {
        if (value != null && vectorSpecs.length === 0)
            throw new TillerError("INVALID_ARGUMENT", `${flag} applies to steering vectors; add --vector FILE[:SCALE]`);
    }
    if (options.probeLayers != null && probeFiles.length === 0)
        throw new TillerError("INVALID_ARGUMENT", "--probe-layers applies to probes; add --probe FILE");

    const loadStart = performance.now();
    // --gpu-layers 0: the CPU backend only, no GPU probing (the same choice prestartBackend made)
    if (options.gpuLayers === 0)
        await getTillerBackend(backendChoiceForCommand(["--gpu-layers", "0"]));
    const model = await TillerModel.load(options.model, { gpuLayers: options.gpuLayers, decodePriority: options.decodePriority });
    try {
        const context = await model.createContext({ threads: options.threads, contextSize: options.ctxSize });
        const loadMs = performance.now() - loadStart;

        const patches = await steeringPatches(vectorSpecs, options, model);
        const probes = await projectionProbes(probeFiles, options.probeLayers, model);
        const run = generate(context, options.prompt, {
            maxTokens: options.nPredict,
            sampling: { temperature: options.temp, topK: options.topK, topP: options.topP, minP: options.minP, seed: options.seed },
            patches,
            probes
        });
        const onInterrupt = () => run.abort();
        process.once("SIGINT", onInterrupt);
        let result: GenerationResult;
        try {
            if (options.json) {
                result = await run.result;
            } else {
                let written = "";
                for await (const token of run) {
                    process.stdout.write(token.piece);
                    written += token.piece;
                }
                result = await run.result;
                process.stdout.write(`${result.text.startsWith(written) ? result.text.slice(written.length) : ""}\n`);
            }
        } finally {
            process.off("SIGINT", onInterrupt);
        }
        if (options.json)
            process.stdout.write(`${JSON.stringify(toJson(result, model, loadMs))}\n`);
    } finally {
        await model.dispose();
    }
}

/** One patch per --vector, ids made unique (the same file may be given twice). */
async function steeringPatches(specs: readonly VectorSpec[], options: GenerateCliOptions, model: TillerModel): Promise<SteeringPatch[]> {
    const patches: SteeringPatch[] = [];
    const ids = uniqueNames();
    for (const spec of specs) {
        const vector = await loadSteeringVector(spec.path, model);
        if (options.layers != null && !hasLayerIn(vector, options.layers))
            throw new TillerError("INVALID_LAYER_RANGE",
                `vector "${spec.path}" has no direction in layers ${options.layers.first}-${options.layers.last} (it has ${describeLayers(vector)})`);
        patches.push({
            id: ids(vector.name),
            vector,
            strength: spec.scale,
            layers: options.layers,
            fromToken: options.fromToken,
            untilToken: options.untilToken
        });
    }
    return patches;
}

async function projectionProbes(files: readonly string[], range: LayerRange | undefined, model: TillerModel): Promise<ProjectionProbe[]> {
    if (range != null) {
        assertReadableLayer(range.first, model.shape.nLayer);
        assertReadableLayer(range.last, model.shape.nLayer);
    }
    const names = uniqueNames();
    const probes: ProjectionProbe[] = [];
    for (const file of files) {
        const vector = await loadSteeringVector(file, model);
        let layers: number[] | undefined;
        if (range != null) {
            layers = [...vector.directions.keys()].filter((layer) => layer >= range.first && layer <= range.last).sort((a, b) => a - b);
            if (layers.length === 0)
                throw new TillerError("INVALID_LAYER_RANGE",
                    `probe "${file}" has no direction in layers ${range.first}-${range.last} (it has ${describeLayers(vector)})`);
        }
        probes.push({ name: names(vector.name), vector, layers });
    }
    return probes;
}

function uniqueNames(): (name: string) => string {
    const seen = new Map<string, number>();
    return (name) => {
        const count = (seen.get(name) ?? 0) + 1;
        seen.set(name, count);
        return count === 1 ? name : `${name}#${count}`;
    };
}

function hasLayerIn(vector: SteeringVector, range: LayerRange): boolean {
    return [...vector.directions.keys()].some((layer) => layer >= range.first && layer <= range.last);
}

function describeLayers(vector: SteeringVector): string {
    const layers = [...vector.directions.keys()].sort((a, b) => a - b);
    return layers.length === 0 ? "no directions" : `layers ${layers.join(", ")}`;
}

function toJson(result: GenerationResult, model: TillerModel, loadMs: number) {
    return {
        text: result.text,
        stopReason: result.stopReason,
        model: { path: model.path, shape: model.shape },
        tokens: result.tokens.map((token) => ({
            index: token.index,
            id: token.id,
            piece: token.piece,
            logprob: token.logprob,
            entropy: token.entropy,
            top: token.top.map(({ id, piece, logprob }) => ({ id, piece, logprob })),
            activePatches: token.activePatches,
            projections: token.projections,
            readouts: token.readouts
        })),
        promptTokens: result.promptTokens,
        patchChanges: result.patchChanges.map(({ atToken, activePatches }) => ({ atToken, activePatches })),
        timings: {
            loadMs,
            promptMs: result.timings.promptMs,
            generationMs: result.timings.generationMs,
            tokensPerSecond: result.timings.tokensPerSecond
        }
    };
}
