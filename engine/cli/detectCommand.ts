// `tiller detect`: blind detection from a transcript — was this text written by a patched model?
// The weights are known, the patch is not: the prompt, the emitted tokens (or text) and the claimed
// sampler are all it reads. With --blind N it runs N hidden-patch trials (an honest benchmark).
// Explaining a run whose patch is known is `tiller explain`.
import path from "node:path";
import type { Command } from "commander";
import { detectFromTranscript, type LibraryVector } from "../forensics/detectFromTranscript.js";
import { formatForensicsReport } from "../forensics/formatForensicsReport.js";
import { runHiddenPatchTrials } from "../forensics/hiddenPatchTrials.js";
import { readTranscriptFile } from "../forensics/readTranscriptFile.js";
import { resolveTranscript } from "../forensics/resolveTranscript.js";
import { formatHiddenPatchSummary, summarizeHiddenPatchTrials } from "../forensics/summarizeHiddenPatchTrials.js";
import type { TranscriptParams } from "../protocol/forensics.js";
import { TillerError } from "../protocol/TillerError.js";
import type { LayerRange } from "../runtime/layers.js";
import { loadSteeringVector } from "../runtime/loadSteeringVector.js";
import { TillerModel } from "../runtime/TillerModel.js";
import { HIDDEN_PATCH_TRIAL_CONTEXT_SIZE, textProbeContext } from "../runtime/contextShapes.js";
import { formatChatPrompt } from "../service/formatChatPrompt.js";
import { collect, parseGpuLayers, parseLayers, parseNumber, wholeNumberParser } from "./parseArguments.js";

interface DetectCliOptions {
    model: string;
    prompt?: string;
    completion?: string;
    tokens?: string;
    chat?: boolean;
    transcript?: string;
    library: string[];
    temperature?: number;
    topK?: number;
    topP?: number;
    minP?: number;
    layers?: LayerRange[];
    alphas?: string;
    nullDraws: number;
    significance: number;
    blind?: number;
    seed: number;
    maxTokens: number;
    threads?: number;
    gpuLayers: number | "auto";
    json?: boolean;
}

function parseTokenList(text: string): number[] {
    const ids = text.split(/[\s,]+/).filter((part) => part !== "").map(Number);
    if (ids.length === 0 || ids.some((id) => !Number.isInteger(id)))
        throw new TillerError("INVALID_ARGUMENT", `--tokens must be whole numbers separated by commas, got "${text}"`);
    return ids;
}

function parseAlphaList(text: string): number[] {
    const alphas = text.split(",").map((part) => Number(part.trim()));
    if (alphas.length === 0 || alphas.some((alpha) => !Number.isFinite(alpha) || alpha === 0))
        throw new TillerError("INVALID_ARGUMENT", `--alphas must be non-zero numbers separated by commas, got "${text}"`);
    return alphas;
}

/** The transcript from --transcript FILE, or from -p/--completion/--tokens and the sampler flags (which override the file's). */
function transcriptFrom(options: DetectCliOptions): TranscriptParams {
    const fromFile = options.transcript != null ? readTranscriptFile(options.transcript) : {};
    if (options.transcript != null && (options.prompt != null || options.completion != null || options.tokens != null))
        throw new TillerError("INVALID_ARGUMENT", "give the transcript either as --transcript FILE or with --prompt and --completion/--tokens, not both");
    const sampling = { ...fromFile.sampling };
    for (const key of ["temperature", "topK", "topP", "minP"] as const) {
        if (options[key] != null)
            sampling[key] = options[key];
    }
    return {
        ...fromFile,
        ...(options.prompt != null ? { prompt: options.prompt } : {}),
        ...(options.completion != null ? { completion: options.completion } : {}),
        ...(options.tokens != null ? { tokens: parseTokenList(options.tokens) } : {}),
        ...(options.chat === true ? { promptMode: "chat" as const } : {}),
        sampling
    };
}

export function registerDetectCommand(program: Command): void {
    program.command("detect")
        .description("blind detection: was this text written by a patched model? (prompt + emitted tokens + sampler; never the patch)")
        .requiredOption("-m, --model <FILE>", "GGUF model file")
        .option("--transcript <FILE>", "a JSON transcript: {prompt, promptMode?, tokens? and/or completion (or text), sampling?}")
        .option("-p, --prompt <TEXT>", "the prompt the text continues")
        .option("--completion <TEXT>", "the emitted text")
        .option("--tokens <IDS>", "the emitted token ids, comma-separated (preferred: re-tokenizing text can differ from what was generated)")
        .option("--chat", "the prompt is a user message laid out with the model's chat template", false)
        .option("--library <FILE>", "a control vector the patch may have used; repeatable (none: only the library-free test)", collect((text: string) => text), [])
        .option("--temperature <T>", "the sampler's temperature (default 0: greedy)", parseNumber)
        .option("--top-k <K>", "the sampler's top-k (default 40 when sampled)", wholeNumberParser(0))
        .option("--top-p <P>", "the sampler's top-p (default 0.95 when sampled)", parseNumber)
        .option("--min-p <P>", "the sampler's min-p (default 0.05 when sampled)", parseNumber)
        .option("--layers <A-B>", "a layer range to try; repeatable (default: single blocks and the full range)", collect(parseLayers))
        .option("--alphas <LIST>", "strengths to try, comma-separated (default -4,-2,-1,-0.5,0.5,1,2,4)")
        .option("--null-draws <N>", "draws per token from the clean sampler that calibrate the p-values", wholeNumberParser(20), 200)
        .option("--significance <P>", "call it steered below this p-value", parseNumber, 0.01)
        .option("--blind <N>", "run N hidden-patch trials instead (an honest benchmark on this model and library)", wholeNumberParser(1))
        .option("--seed <S>", "seed of the hidden-patch generator (--blind)", wholeNumberParser(0), 2026)
        .option("-n, --max-tokens <N>", "tokens per hidden-patch trial (--blind)", wholeNumberParser(2), 32)
        .option("-t, --threads <N>", "CPU threads (default: the cores available)", wholeNumberParser(1))
        .option("--gpu-layers <N|auto>", "layers to offload to the GPU", parseGpuLayers, "auto" as const)
        .option("--json", "print one JSON object", false)
        .action(async (_options: unknown, command: Command) => {
            const options = command.opts<DetectCliOptions>();
            const model = await TillerModel.load(options.model, { gpuLayers: options.gpuLayers });
            try {
                const library: LibraryVector[] = await Promise.all(options.library.map(async (file) => {
                    const vector = await loadSteeringVector(file, model);
                    return { id: path.basename(file), name: vector.name, vector };
                }));
                const detector = {
                    layerRanges: options.layers, alphas: options.alphas != null ? parseAlphaList(options.alphas) : undefined,
                    nullDraws: options.nullDraws, significance: options.significance
                };
                if (options.blind != null) {
                    if (library.length === 0)
                        throw new TillerError("INVALID_ARGUMENT", "--blind draws hidden patches from the library: give at least one --library FILE");
                    const generationContext = await model.createContext({ threads: options.threads, contextSize: HIDDEN_PATCH_TRIAL_CONTEXT_SIZE });
                    const context = await model.createContext({ threads: options.threads, contextSize: HIDDEN_PATCH_TRIAL_CONTEXT_SIZE,
                        batchSize: HIDDEN_PATCH_TRIAL_CONTEXT_SIZE, sequences: 2, precise: true });
                    const trials = await runHiddenPatchTrials(context, {
                        trials: options.blind, seed: options.seed, maxTokens: options.maxTokens, generationContext,
                        prompts: options.prompt != null ? [options.prompt] : ["Once upon a time", "One day, Tom went to the park.", "The cat sat by the door.", "Lily had a new doll."],
                        pool: library.map((entry) => entry.vector), detector
                    });
                    const summary = summarizeHiddenPatchTrials(trials);
                    process.stdout.write((options.json ? JSON.stringify({ summary, trials }) : formatHiddenPatchSummary(summary).join("\n")) + "\n");
                    return;
                }
                const params = transcriptFrom(options);
                if (params.prompt == null)
                    throw new TillerError("INVALID_ARGUMENT", "give the transcript: --transcript FILE, or --prompt with --completion and/or --tokens (or --blind N)");
                const prompt = params.promptMode === "chat" ? await formatChatPrompt(model, params.prompt) : params.prompt;
                const transcript = resolveTranscript(model, { prompt, tokens: params.tokens, completion: params.completion, sampling: params.sampling });
                const shape = textProbeContext("forensics", transcript.promptTokens.length + transcript.emitted.length);
                const context = await model.createContext({ threads: options.threads, ...shape, precise: true });
                const report = await detectFromTranscript(context, transcript, library, detector);
                process.stdout.write((options.json ? JSON.stringify(report) : formatForensicsReport(report)) + "\n");
            } finally {
                await model.dispose();
            }
        });
}
