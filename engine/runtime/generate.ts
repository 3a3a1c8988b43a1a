// Generation as a stream of tokens, steered by a PatchSet that can change mid-run and read out by
// projection probes.
//
// Token indexing: generated token j (0-based) is sampled from the logits of the decode that
// consumed token j-1 (or the prompt, for j = 0). Patches "active at j" are applied to that decode,
// so a patch from token K leaves tokens 0..K-1 exactly as the unsteered run, and K = 0 steers the
// prompt too, like llama.cpp's --control-vector. A token's projections are read at its own
// position, i.e. from the decode that consumes it.
import os from "node:os";
import type { RunStopReason } from "../protocol/runs.js";
import type { TokenInfo, TokenProjectionInfo } from "../protocol/shapes.js";
import { TillerError } from "../protocol/TillerError.js";
import { AsyncQueue } from "./AsyncQueue.js";
import { PatchSet } from "./PatchSet.js";
import { PieceDecoder } from "./PieceDecoder.js";
import { ProjectionReader, type ProjectionProbe } from "./ProjectionReader.js";
import { resolveSamplingOptions, type SamplingOptions } from "./sampling/SamplingOptions.js";
import { TokenSampler } from "./sampling/TokenSampler.js";
import type { SteeringPatch } from "./SteeringPatch.js";
import type { CapturedLayers, TillerContext } from "./TillerContext.js";
import { TriggerTracker, type TriggerEvent } from "./TriggerTracker.js";

export interface GenerateOptions {
    /** tokens to generate at most; default 128 */
    maxTokens?: number;
    /** default: greedy (temperature 0) with seed 0xC0FFEE */
    sampling?: Partial<SamplingOptions>;
    patches?: readonly SteeringPatch[];
    probes?: readonly ProjectionProbe[];
    /** alternatives reported per token; default 5 */
    topAlternatives?: number;
    /** prepend BOS when the model wants one; default true */
    addBos?: boolean;
    /**
     * Planned replacements of the whole patch set, each taking effect exactly at generated token
     * `atToken` (replay of recorded mid-run changes; live changes go through `run.patches`).
     */
    patchSchedule?: readonly { atToken: number; patches: readonly SteeringPatch[] }[];
    signal?: AbortSignal;
    /**
     * Start each decode before building and handing on the previous token's record, so that work
     * overlaps it; default: where a core is free for it (overlapsDecode). The tokens are the same
     * either way.
     */
    overlapDecode?: boolean;
}

export interface PromptToken {
    position: number;
    id: number;
    piece: string;
    projections: TokenProjectionInfo[];
}

/** A change to the patch set, and the first generated token it acted on. */
export interface PatchChangeRecord {
    atToken: number;
    activePatches: string[];
    /** the whole patch set from then on (what a replay re-applies at `atToken`) */
    patches: SteeringPatch[];
}

export interface GenerationResult {
    text: string;
    promptTokens: PromptToken[];
    tokens: TokenInfo[];
    stopReason: RunStopReason;
    /** when the active patch set changed, and what it became */
    patchChanges: PatchChangeRecord[];
    /** when triggered patches engaged and released, and what caused it */
    triggerEvents: TriggerEvent[];
    timings: {
        promptMs: number;
        generationMs: number;
        /** generated tokens per second, excluding the prompt */
        tokensPerSecond: number;
    };
}

export class GenerationRun implements AsyncIterable<TokenInfo> {
    /** Change these while the run goes on; the next token sees the change. */
    public readonly patches: PatchSet;
    /** Resolves when the run ends, however it ends (abort resolves with stopReason "aborted"). */
    public readonly result: Promise<GenerationResult>;

    /** every change of the active patch set so far, with the token it first acted on (grows while running) */
    public readonly patchChanges: PatchChangeRecord[] = [];
    /** engagements and releases of triggered patches so far (grows while running) */
    public readonly triggerEvents: TriggerEvent[];
    private readonly queue = new AsyncQueue<TokenInfo>();
    private readonly abortController = new AbortController();

    /** @internal use generate() */
    public constructor(context: TillerContext, prompt: string, options: GenerateOptions) {
        const shape = context.model.shape;
        const maxTokens = options.maxTokens ?? 128;
        if (!Number.isInteger(maxTokens) || maxTokens < 0)
            throw new TillerError("INVALID_ARGUMENT", `maxTokens must be a whole number ≥ 0, got ${maxTokens}`);
        let sampling: SamplingOptions;
        try {
            sampling = resolveSamplingOptions({ temperature: 0, ...options.sampling });
        } catch (error) {
            throw new TillerError("INVALID_ARGUMENT", (error as Error).message, { cause: error });
        }
        this.patches = new PatchSet(shape, options.patches ?? []);
        const triggers = new TriggerTracker(this.patches);
        this.patches.engagement = triggers.isEngaged;
        this.triggerEvents = triggers.events;
        const reader = new ProjectionReader(options.probes ?? [], shape);
        const promptTokens = context.model.tokenize(prompt, { addBos: options.addBos ?? true });
        if (promptTokens.length === 0)
            throw new TillerError("INVALID_ARGUMENT", "the prompt is empty and the model adds no BOS token");
        if (promptTokens.length >= context.contextSize)
            throw new TillerError("PROMPT_TOO_LONG",
                `the prompt is ${promptTokens.length} tokens but the context holds ${context.contextSize}; shorten it or use a larger context`);

        const release = context.claim("a generation");
        options.signal?.addEventListener("abort", () => this.abort(), { once: true });
        this.result = runGeneration({
            context, promptTokens, maxTokens, reader, patches: this.patches,
            sampler: new TokenSampler(sampling),
            topAlternatives: options.topAlternatives ?? 5,
            signal: this.abortController.signal,
            patchChanges: this.patchChanges,
            triggers,
            schedule: [...(options.patchSchedule ?? [])].sort((a, b) => a.atToken - b.atToken),
            overlap: options.overlapDecode ?? overlapsDecode(context),
            emit: (token) => this.queue.push(token)
        });
        // release before anyone awaiting the result or the tokens resumes, so they can start another run
        this.result.then(() => {
            release();
            this.queue.close();
        }, (error: unknown) => {
            release();
            this.queue.fail(error);
        });
    }

    /**
     * Stops at the next token; `result` then resolves with stopReason "aborted". A token already
     * handed on stays in the result even when its own decode was cut short (without probes or
     * projection triggers a token is handed on while its decode runs).
     */
    public abort(): void {
        this.abortController.abort();
    }

    public [Symbol.asyncIterator](): AsyncIterator<TokenInfo> {
        return this.queue[Symbol.asyncIterator]();
    }
}

/** Starts generating at once; iterate the run for tokens, or await `run.result`. */
export function generate(context: TillerContext, prompt: string, options: GenerateOptions = {}): GenerationRun {
    return new GenerationRun(context, prompt, options);
}

interface RunInput {
    context: TillerContext;
    promptTokens: Int32Array;
    maxTokens: number;
    reader: ProjectionReader;
    patches: PatchSet;
    sampler: TokenSampler;
    topAlternatives: number;
    signal: AbortSignal;
    patchChanges: PatchChangeRecord[];
    triggers: TriggerTracker;
    schedule: { atToken: number; patches: readonly SteeringPatch[] }[];
    overlap: boolean;
    emit(token: TokenInfo): void;
}

async function runGeneration(input: RunInput): Promise<GenerationResult> {
    const { context, promptTokens, reader, patches, sampler, signal, triggers } = input;
    const model = context.model;
    const pieceOf = (id: number) => model.pieces.get(id);
    const pieces = new PieceDecoder(pieceOf);
    const alternativePiece = (id: number): string => model.pieces.get(id).display;

    const tokens: TokenInfo[] = [];
    const patchChanges = input.patchChanges;
    let appliedRevision = -1;
    let appliedKey = "";
    let captureKey = "";
    // what is captured: the probes' blocks and those of projection triggers (patches can gain
    // triggers mid-run, so this is re-checked whenever the patch set changes)
    const syncCapture = async () => {
        const layers = [...new Set([...reader.layers, ...triggers.layers()])].sort((a, b) => a - b);
        const key = layers.join(",");
        if (key !== captureKey) {
            await context.setCapture(layers);
            captureKey = key;
        }
    };

    // Before the decode that produces token `index`'s logits: bring llama.cpp's control vector in
    // line with the patches active at `index`, touching it only when that set or a patch changed.
    // The common case, a run with no patches at all, returns at once (no promise): nothing to
    // compose, nothing to record.
    const noPatches: string[] = [];
    /** the patches active at the token whose decode is next */
    let active: string[];
    const steerFor = (index: number): string[] | Promise<string[]> =>
        input.schedule.length === 0 && patches.size === 0 && patches.revision === appliedRevision ? noPatches : steerChanged(index);
    const steerChanged = async (index: number): Promise<string[]> => {
        while (input.schedule.length > 0 && input.schedule[0]!.atToken <= index)
            patches.replaceAll(input.schedule.shift()!.patches);
        const active = patches.activeAt(index);
        const key = active.join("\u0000");
        if (patches.revision !== appliedRevision || key !== appliedKey) {
            if (patches.revision !== appliedRevision)
                await syncCapture();
            const composed = patches.composeAt(index);
            if (composed != null || context.currentSteering != null)
                await context.setSteering(composed);
            if (key !== appliedKey || patches.revision !== appliedRevision)
                patchChanges.push({ atToken: index, activePatches: active, patches: patches.list() });
            appliedRevision = patches.revision;
            appliedKey = key;
        }
        return active;
    };

    const promptPieces = new PieceDecoder(pieceOf);
    let stopReason: RunStopReason = "maxTokens";
    let promptMs = 0;
    let generationStart = 0;
    const promptRecords: PromptToken[] = [];

    try {
        await context.clearMemory();
        await syncCapture();
        // the last block keeps only rows with logits; ask for all rows when it is read
        const captureLastBlock = reader.layers.includes(model.shape.nLayer - 1);

        const promptStart = performance.now();
        active = await steerFor(0);
        let captured: CapturedLayers;
        try {
            captured = await context.evaluate(promptTokens, { startPosition: 0, logits: captureLastBlock ? "all" : "last", signal });
        } catch (error) {
            if (error instanceof TillerError && error.code === "ABORTED")
                return finish("aborted");
            throw error;
        }
        triggers.observeResiduals(-1, captured);
        for (let i = 0; i < promptTokens.length; i++) {
            const id = promptTokens[i]!;
            promptRecords.push({
                position: i,
                id,
                piece: promptPieces.next(id),
                projections: reader.empty ? [] : reader.read(captured, i)
            });
        }
        // logits are addressed by the row's index within the prompt's last batch
        const lastBatchStart = Math.floor((promptTokens.length - 1) / context.batchSize) * context.batchSize;
        let logitsRow = promptTokens.length - 1 - lastBatchStart;
        promptMs = performance.now() - promptStart;
        generationStart = performance.now();

        let position = promptTokens.length;
        let generatedText = "";
        for (let index = 0; index < input.maxTokens; index++) {
            if (signal.aborted) {
                stopReason = "aborted";
                break;
            }
            // one native pass over the logits, which stay in the context (RowAnalysis)
            const analysis = context.analyzeRows([logitsRow], { sampler, topAlternatives: input.topAlternatives });
            const id = analysis.sampled[0]!;
            if (model.isEndOfGeneration(id)) {
                stopReason = "eog";
                break;
            }
            const piece = pieces.next(id);
            generatedText += piece;
            triggers.observeText(index, generatedText);
            const activeForToken = active;

            // Decode the token: this gives the next token's logits and this token's read-outs. The
            // last token is decoded only when something reads it.
            const needsDecode = index < input.maxTokens - 1 || !reader.empty;
            const contextFull = needsDecode && position >= context.contextSize;
            let decoded: Promise<CapturedLayers> | undefined;
            // Where a core is free for it, the decode starts before the token's record is built and
            // handed on, so that work overlaps the decode (see overlapsDecode).
            if (needsDecode && !contextFull && input.overlap) {
                decoded = startDecode(index, id, position);
                // handled where it is awaited; this keeps an abort from counting as unhandled meanwhile
                decoded.catch(() => undefined);
            }
            const token: TokenInfo = {
                index,
                position,
                id,
                piece,
                logprob: analysis.logprob(0),
                entropy: analysis.entropy(0),
                top: analysis.top(0, alternativePiece),
                readouts: analysis.readouts(0),
                activePatches: activeForToken,
                projections: []
            };
            // When nothing is captured (no probes, no projection triggers), neither the record nor
            // any trigger event waits for the decode: hand the token on before it ends (overlapping,
            // the consumer's work — events, recording — overlaps the decode too).
            const emitted = !needsDecode || contextFull || captureKey === "";
            if (emitted) {
                tokens.push(token);
                input.emit(token);
            }
            if (contextFull) {
                stopReason = "contextFull";
                break;
            }
            if (needsDecode) {
                try {
                    captured = await (decoded ?? startDecode(index, id, position));
                } catch (error) {
                    if (error instanceof TillerError && error.code === "ABORTED") {
                        stopReason = "aborted";
                        break;
                    }
                    throw error;
                }
                logitsRow = 0;
                if (!reader.empty)
                    token.projections = reader.read(captured, 0);
                triggers.observeResiduals(index, captured);
            }
            position++;
            if (!emitted) {
                tokens.push(token);
                input.emit(token);
            }
        }
    } finally {
        // However the run ends, the context is left unsteered and not capturing.
        if (!context.model.disposed) {
            await context.setSteering(null).catch(() => undefined);
            await context.setCapture([]).catch(() => undefined);
        }
    }
    return finish(stopReason);

    /**
     * Steers for generated token `index + 1`, then decodes token `index` (`id` at `position`),
     * which gives the next token's logits. Without patches the decode is queued at once.
     */
    function startDecode(index: number, id: number, position: number): Promise<CapturedLayers> {
        const steered = steerFor(index + 1);
        if (Array.isArray(steered)) {
            active = steered;
            return context.evaluate(Int32Array.of(id), { startPosition: position, logits: "last", signal });
        }
        return steered.then((list) => {
            active = list;
            return context.evaluate(Int32Array.of(id), { startPosition: position, logits: "last", signal });
        });
    }

    function finish(reason: RunStopReason): GenerationResult {
        const generationMs = generationStart > 0 ? performance.now() - generationStart : 0;
        return {
            text: tokens.map((token) => token.piece).join("") + pieces.end(),
            promptTokens: promptRecords,
            tokens,
            stopReason: reason,
            patchChanges: [...patchChanges],
            triggerEvents: [...triggers.events],
            timings: {
                promptMs,
                generationMs,
                tokensPerSecond: generationMs > 0 ? tokens.length / (generationMs / 1000) : 0
            }
        };
    }
}

/**
 * Whether a run starts each decode before building and handing on the previous token's record.
 * Only where a core is free for that JavaScript: layers on a GPU, or fewer decode threads than
 * cores. When ggml's threads fill every core, JavaScript running beside them delays the threads
 * it preempts, and every other thread waits for those at ggml's barriers: measured here on the
 * 16 × 768 model with 2 threads on 2 cores, full/bare 0.979–0.985 overlapped against 0.992–1.003
 * in turn (interleaved runs; on the 4 × 256 model with 8k tokens the two were alike).
 */
function overlapsDecode(context: TillerContext): boolean {
    return context.model.gpuLayers > 0 || context.threads < os.availableParallelism();
}
