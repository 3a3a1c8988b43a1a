// A llama.cpp context (KV cache) over a TillerModel, with Tiller's two levers: the control vector
// and residual-stream capture. Operations are serialised: llama.cpp contexts are not re-entrant.
import { TillerError } from "../protocol/TillerError.js";
import type { NativeCapture, NativeContext } from "../native/AddonTypes.js";
import { DEFAULT_BATCH_SIZE, defaultContextSize } from "./contextShapes.js";
import { defaultDecodeThreads, type DecodePriority } from "./decodePriority.js";
import { assertReadableLayer } from "./layers.js";
import type { LoadedModel } from "./loadedModel.js";
import { runRowAnalysis, type RowAnalysis, type RowAnalysisOptions } from "./RowAnalysis.js";
import type { ComposedControlVector } from "./SteeringPatch.js";

export interface ContextOptions {
    /** tokens of KV cache; default min(4096, the model's training context) */
    contextSize?: number;
    /** largest batch handed to one llama_decode; default min(512, contextSize) */
    batchSize?: number;
    /** parallel sequences (sweeps use several); default 1 */
    sequences?: number;
    /** threads for single-token decodes; default: the cores available (backend.defaultThreads), one fewer at background priority (runtime/decodePriority.ts) */
    threads?: number;
    /** threads for batches; default: `threads` */
    threadsBatch?: number;
    /**
     * F32 K/V cache and no flash attention. Default false: llama.cpp's defaults (F16 cache, flash
     * attention auto), which generation parity needs. Analysis that compares log-probs across tiny
     * strength steps needs true: F16 rounding (cache, and Q in CPU flash attention) adds ~1e-3 noise.
     */
    precise?: boolean;
    /** "background": decode on a thread of lowered priority (runtime/decodePriority.ts); default: the model's (LoadModelOptions) */
    decodePriority?: DecodePriority;
}

/** Which rows of a batch keep their logits. */
export type LogitsRequest = "last" | "all" | "none";

export interface EvaluateOptions {
    /** position of the first token; default: after what sequence `seqId` already holds */
    startPosition?: number;
    seqId?: number;
    logits?: LogitsRequest;
    signal?: AbortSignal;
}

/** Captured block outputs of one evaluation: layer → rows × nEmbd (row-major). */
export type CapturedLayers = Map<number, { rows: number; data: Float32Array }>;

let warned = false;
function warnOnce(line: string): void {
    if (!warned)
        process.stderr.write(`${line}\n`);
    warned = true;
}

export class TillerContext {
    public readonly model: LoadedModel;
    public readonly contextSize: number;
    public readonly batchSize: number;
    public readonly threads: number;
    /** parallel sequences this context was created for */
    public readonly sequences: number;
    /** the priority its decodes run at (runtime/decodePriority.ts) */
    public readonly decodePriority: DecodePriority;
    /** the kernel thread id of its background decode thread (Linux, "background" only), else null */
    public readonly decodeThreadId: number | null;

    private native: NativeContext | undefined;
    private queue: Promise<unknown> = Promise.resolve();
    /** the signal passed with the decode that is running, if any (see watchAbort) */
    private decodingFor: AbortSignal | undefined;
    private readonly watchedSignals = new WeakSet<AbortSignal>();
    private readonly disposeListeners: (() => void)[] = [];
    private captureLayers: readonly number[] = [];
    private activeRun: string | undefined;
    private steering: ComposedControlVector | null = null;

    private constructor(model: LoadedModel, native: NativeContext, threads: number, sequences: number) {
        this.model = model;
        this.native = native;
        this.threads = threads;
        this.sequences = sequences;
        const info = native.info();
        this.contextSize = info.contextSize;
        this.batchSize = info.batchSize;
        this.decodePriority = info.decodePriority;
        this.decodeThreadId = info.decodeThreadId;
        if (info.decodePriorityError != null)
            warnOnce(`tiller: decodes run at normal priority: lowering the decode thread's priority failed (${info.decodePriorityError})`);
    }

    /** @internal use TillerModel.createContext */
    public static async create(model: LoadedModel, options: ContextOptions): Promise<TillerContext> {
        const contextSize = options.contextSize ?? defaultContextSize(model.shape.nCtxTrain);
        const decodePriority = options.decodePriority ?? model.decodePriority;
        const threads = options.threads ?? defaultDecodeThreads(decodePriority, model.backend.defaultThreads);
        for (const [name, value] of Object.entries({ contextSize, threads, batchSize: options.batchSize, sequences: options.sequences })) {
            if (value != null && (!Number.isInteger(value) || value < 1))
                throw new TillerError("INVALID_ARGUMENT", `context option ${name} must be a whole number ≥ 1, got ${value}`);
        }
        const batchSize = Math.min(options.batchSize ?? DEFAULT_BATCH_SIZE, contextSize);
        // llama.cpp asserts (and aborts the process) when sequences exceed the batch's outputs
        if ((options.sequences ?? 1) > batchSize)
            throw new TillerError("INVALID_ARGUMENT", `a context of ${options.sequences} sequences needs a batch size of at least that (got ${batchSize})`);
        const native = await model.backend.addon.createContext(model.nativeModel(), {
            contextSize,
            batchSize,
            sequences: options.sequences ?? 1,
            threads,
            threadsBatch: options.threadsBatch ?? threads,
            precise: options.precise ?? false,
            decodePriority
        });
        return new TillerContext(model, native, threads, options.sequences ?? 1);
    }

    private nativeContext(): NativeContext {
        if (this.native == null)
            throw new TillerError("DISPOSED", "the context was disposed");
        return this.native;
    }

    /** Runs `task` after every earlier operation on this context has settled. */
    private exclusive<T>(task: () => Promise<T> | T): Promise<T> {
        const result = this.queue.then(task);
        this.queue = result.catch(() => undefined);
        return result;
    }

    /**
     * Decodes `tokens` into sequence `seqId`, in chunks of at most batchSize. Returns the captured
     * block outputs (when capture is on) for all the tokens, in order. Logits of the rows asked for
     * are then readable with `logits(row)`, row counted within the *last* chunk.
     */
    public evaluate(tokens: Int32Array, options: EvaluateOptions = {}): Promise<CapturedLayers> {
        return this.exclusive(async () => {
            const native = this.nativeContext();
            const seqId = options.seqId ?? 0;
            const start = options.startPosition ?? native.memorySeqPosMax(seqId) + 1;
            if (start + tokens.length > this.contextSize)
                throw new TillerError("PROMPT_TOO_LONG",
                    `${start + tokens.length} tokens do not fit the context of ${this.contextSize} tokens`);
            const captured: NativeCapture[][] = [];
            for (let offset = 0; offset < tokens.length; offset += this.batchSize) {
                if (options.signal?.aborted)
                    throw new TillerError("ABORTED", "evaluation aborted");
                const chunk = tokens.subarray(offset, Math.min(tokens.length, offset + this.batchSize));
                const isLastChunk = offset + chunk.length === tokens.length;
                const want = new Uint8Array(chunk.length);
                if (options.logits === "all")
                    want.fill(1);
                else if ((options.logits ?? "last") === "last" && isLastChunk)
                    want[chunk.length - 1] = 1;
                const positions = new Int32Array(chunk.length);
                for (let i = 0; i < chunk.length; i++)
                    positions[i] = start + offset + i;
                if (options.signal != null)
                    this.watchAbort(options.signal);
                this.decodingFor = options.signal;
                try {
                    await native.decode(chunk, positions, new Int32Array(chunk.length).fill(seqId), want);
                } catch (error) {
                    const status = (error as { decodeStatus?: number }).decodeStatus;
                    if (status === 2)
                        throw new TillerError("ABORTED", "evaluation aborted", { cause: error });
                    if (status === 1)
                        throw new TillerError("PROMPT_TOO_LONG", (error as Error).message, { cause: error });
                    throw new TillerError("INTERNAL", (error as Error).message, { cause: error });
                } finally {
                    this.decodingFor = undefined;
                }
                if (this.captureLayers.length > 0)
                    captured.push(native.takeCaptures());
            }
            return mergeCaptures(captured, this.model.shape.nEmbd);
        });
    }

    /**
     * Makes `signal` stop this context's decodes that it was passed to. One listener per signal,
     * not one per decode: a generation passes its signal with every token's decode. The listener
     * holds the context weakly, so a long-lived signal does not keep disposed contexts alive.
     */
    private watchAbort(signal: AbortSignal): void {
        if (this.watchedSignals.has(signal))
            return;
        this.watchedSignals.add(signal);
        const context = new WeakRef<TillerContext>(this);
        signal.addEventListener("abort", () => context.deref()?.abortDecodeFor(signal), { once: true });
    }

    private abortDecodeFor(signal: AbortSignal): void {
        if (this.decodingFor === signal)
            this.native?.abort();
    }

    /**
     * Decodes one batch whose rows may belong to different sequences (at most batchSize rows).
     * Captured outputs come back in batch order; for the last block only the rows that asked for
     * logits are present (llama.cpp drops the others before that block).
     */
    public decodeBatch(batch: { tokens: Int32Array; positions: Int32Array; seqIds: Int32Array; wantLogits: Uint8Array }): Promise<CapturedLayers> {
        return this.exclusive(async () => {
            const native = this.nativeContext();
            if (batch.tokens.length > this.batchSize)
                throw new TillerError("INVALID_ARGUMENT", `a batch of ${batch.tokens.length} tokens exceeds the context's batch size ${this.batchSize}`);
            try {
                await native.decode(batch.tokens, batch.positions, batch.seqIds, batch.wantLogits);
            } catch (error) {
                const status = (error as { decodeStatus?: number }).decodeStatus;
                throw new TillerError(status === 1 ? "PROMPT_TOO_LONG" : status === 2 ? "ABORTED" : "INTERNAL", (error as Error).message, { cause: error });
            }
            return mergeCaptures(this.captureLayers.length > 0 ? [native.takeCaptures()] : [], this.model.shape.nEmbd);
        });
    }

    /** Logits of batch row `row` of the last decode (a copy, length nVocab). */
    public logits(row: number): Float32Array {
        return this.nativeContext().logits(row);
    }

    /**
     * The per-token statistics of batch rows `rows` of the last decode, computed natively in one
     * pass per row (see RowAnalysis): the logits never cross into JavaScript. Synchronous; call it
     * between decodes of the run that owns the context.
     */
    public analyzeRows(rows: Int32Array | readonly number[], options: RowAnalysisOptions = {}): RowAnalysis {
        const native = this.nativeContext();
        const rowIds = rows instanceof Int32Array ? rows : Int32Array.from(rows);
        return runRowAnalysis(rowIds.length, options, (targets, nativeOptions, uniforms) => native.analyzeRows(rowIds, targets, nativeOptions, uniforms));
    }

    /**
     * Applies a composed control vector from the next decode on; null restores the unsteered model
     * exactly. Each change costs a scheduler re-reserve (~ms on CPU), so call it when the vector
     * changes, not every token.
     */
    public async setSteering(steering: ComposedControlVector | null, options: { probe?: boolean } = {}): Promise<void> {
        // refused up front (a rejected promise), not inside the queue, so no run proceeds without effect
        if (steering != null && options.probe !== true)
            this.model.assertSteerable();
        return this.exclusive(() => {
            const native = this.nativeContext();
            if (steering == null)
                native.setControlVector(null);
            else
                native.setControlVector(steering.data, steering.firstLayer, steering.lastLayer);
            this.steering = steering;
        });
    }

    public get currentSteering(): ComposedControlVector | null {
        return this.steering;
    }

    /** Blocks whose output the following evaluations capture (llama.cpp numbering); [] turns capture off. */
    public setCapture(layers: readonly number[]): Promise<void> {
        return this.exclusive(() => {
            for (const layer of layers)
                assertReadableLayer(layer, this.model.shape.nLayer);
            this.model.assertCapturable(layers);
            const sorted = [...new Set(layers)].sort((a, b) => a - b);
            this.nativeContext().setCaptureLayers(Int32Array.from(sorted));
            this.captureLayers = sorted;
        });
    }

    public get capturedLayers(): readonly number[] {
        return this.captureLayers;
    }

    /** Forgets every token of every sequence. */
    public clearMemory(): Promise<void> {
        return this.exclusive(() => this.nativeContext().memoryClear());
    }

    /** Drops positions [from, to) of a sequence (to = -1: to the end). */
    public removeTokens(seqId: number, from: number, to = -1): Promise<boolean> {
        return this.exclusive(() => this.nativeContext().memorySeqRm(seqId, from, to));
    }

    /** Makes sequence `dst` share positions [from, to) of `src` (no copy; KV cells are shared). */
    public copySequence(src: number, dst: number, from = -1, to = -1): Promise<void> {
        return this.exclusive(() => this.nativeContext().memorySeqCp(src, dst, from, to));
    }

    /**
     * Claims the context for a run (a generation, a sweep): runs interleaved on one KV cache would
     * corrupt each other, so a second claim fails with BUSY until `release` is called.
     */
    public claim(what: string): () => void {
        this.nativeContext();
        if (this.activeRun != null)
            throw new TillerError("BUSY", `the context is busy with ${this.activeRun}; stop it or wait for it to finish`);
        this.activeRun = what;
        let released = false;
        return () => {
            if (!released) {
                released = true;
                this.activeRun = undefined;
            }
        };
    }

    public onDispose(listener: () => void): void {
        this.disposeListeners.push(listener);
    }

    /** Waits for running work, then frees the KV cache. Idempotent. */
    public async dispose(): Promise<void> {
        if (this.native == null)
            return;
        this.native.abort();
        await this.queue;
        this.native?.dispose();
        this.native = undefined;
        for (const listener of this.disposeListeners.splice(0))
            listener();
    }
}

function mergeCaptures(chunks: NativeCapture[][], nEmbd: number): CapturedLayers {
    const merged: CapturedLayers = new Map();
    if (chunks.length === 1) {
        for (const capture of chunks[0]!)
            merged.set(capture.layer, { rows: capture.rows, data: capture.data });
        return merged;
    }
    const byLayer = new Map<number, NativeCapture[]>();
    for (const chunk of chunks) {
        for (const capture of chunk)
            byLayer.set(capture.layer, [...(byLayer.get(capture.layer) ?? []), capture]);
    }
    for (const [layer, parts] of byLayer) {
        const rows = parts.reduce((sum, part) => sum + part.rows, 0);
        const data = new Float32Array(rows * nEmbd);
        let offset = 0;
        for (const part of parts) {
            data.set(part.data, offset);
            offset += part.data.length;
        }
        merged.set(layer, { rows, data });
    }
    return merged;
}
