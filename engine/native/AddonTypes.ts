// The whole surface of engine/native (tiller_native.node), declared in one place. Everything here
// is a mechanism; policy (patch schedules, sampling, probes) lives in engine/runtime.

export interface AddonBuildInfo {
    /** node-llama-cpp version whose bundled llama.cpp headers the addon was compiled against */
    nodeLlamaCppVersion: string;
    llamaCppCommit: string;
}

export interface AddonBinding {
    llamaPath: string;
    ggmlBasePath: string;
    systemInfo: string;
}

export interface NativeModelInfo {
    nLayer: number;
    nEmbd: number;
    nHead: number;
    nHeadKv: number;
    nCtxTrain: number;
    nVocab: number;
    nParams: number;
    sizeBytes: number;
    description: string;
    architecture: string | null;
    chatTemplate: string | null;
    bos: number;
    eos: number;
    addBos: boolean;
}

export interface NativeModel {
    info(): NativeModelInfo;
    tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
    /** raw bytes of a token's piece (may be a partial UTF-8 sequence) */
    tokenPiece(token: number, special: boolean): Uint8Array;
    isEog(token: number): boolean;
    /** a GGUF metadata value formatted by llama.cpp, or null when absent */
    meta(key: string): string | null;
    /** throws while any context of the model is alive */
    dispose(): void;
}

export interface NativeContextOptions {
    contextSize: number;
    batchSize: number;
    sequences: number;
    threads: number;
    threadsBatch: number;
    /** F32 K/V cache and no flash attention (default false: llama.cpp's F16 cache, flash attention auto) */
    precise?: boolean;
    /** "background": decodes run on a thread of their own at a lowered priority (src/background_thread.h); default "normal" */
    decodePriority?: "normal" | "background";
}

export interface NativeContextInfo {
    contextSize: number;
    batchSize: number;
    decodePriority: "normal" | "background";
    /** the background decode thread's kernel thread id (Linux); null for "normal" or elsewhere */
    decodeThreadId: number | null;
    /** why lowering the background thread's priority failed (it then decodes at the process's priority); null when it worked */
    decodePriorityError: string | null;
}

export interface NativeCapture {
    /** 0-based block index: this is `l_out-<layer>` */
    layer: number;
    rows: number;
    /** rows × nEmbd, row-major, in batch order */
    data: Float32Array;
}

export interface NativeRowSampler {
    temperature: number;
    topK: number;
    topP: number;
    minP: number;
}

export interface NativeRowOptions {
    /** alternatives per row */
    topN: number;
    /** the second read-out temperature (0: the greedy limit) */
    temperature: number;
    /** false: argmax and the sampled token only */
    statistics: boolean;
    /** double-precision exponentials (scoring); false: vectorised float exponentials */
    exact: boolean;
    sampler?: NativeRowSampler;
    /** the widest instruction set allowed (tests pin the fallbacks); default "auto" */
    kernel?: "auto" | "avx2" | "scalar";
    /** a temperature scan: the read-outs at each of these temperatures too (gridFields); needs statistics */
    temperatureGrid?: Float64Array;
}

/** Layout of NativeRowAnalysis.fields (row-major, NATIVE_ROW_FIELDS.count per row); mirrors row_field in src/row_analysis.h. */
export const NATIVE_ROW_FIELDS = {
    logSumExp: 0,
    entropy: 1,
    meanEnergy: 2,
    heatCapacity: 3,
    freeEnergyT: 4,
    meanEnergyT: 5,
    entropyT: 6,
    heatCapacityT: 7,
    gap: 8,
    targetLogprob: 9,
    targetLogprobT: 10,
    ties: 11,
    freeEnergy: 12,
    count: 13
} as const;

/** Layout of NativeRowAnalysis.gridFields (rows × grid × NATIVE_GRID_FIELDS.count); mirrors row_grid_field in src/row_analysis.h. */
export const NATIVE_GRID_FIELDS = {
    freeEnergy: 0,
    meanEnergy: 1,
    entropy: 2,
    heatCapacity: 3,
    targetLogprob: 4,
    count: 5
} as const;

export interface NativeRowAnalysis {
    greedy: Int32Array;
    sampled: Int32Array;
    /** rows × NATIVE_ROW_FIELDS.count; NaN when statistics were off */
    fields: Float64Array;
    /** rows × topN, most likely first; -1 / -Infinity past topCounts[row] */
    topIds: Int32Array;
    topLogprobs: Float64Array;
    topCounts: Int32Array;
    /** rows × temperatureGrid.length × NATIVE_GRID_FIELDS.count (empty without a grid) */
    gridFields: Float64Array;
}

export interface NativeContext {
    /**
     * Decodes one batch off the JS thread. One row per token; `wantLogits[i] != 0` keeps row i's
     * logits. Rejects with an Error carrying `decodeStatus` (llama_decode's return code).
     */
    decode(tokens: Int32Array, positions: Int32Array, seqIds: Int32Array, wantLogits: Uint8Array): Promise<void>;
    /** asks a running decode to stop (CPU backend); the decode then rejects with status 2 */
    abort(): void;
    /** copy of the logits of batch row `batchIndex` of the last decode */
    logits(batchIndex: number): Float32Array;
    /**
     * One native pass per logits row of the last decode (src/row_analysis.h): argmax, a sampled
     * token, statistics and thermodynamic read-outs, the target's log-probability and the top
     * alternatives; the logits stay native. `targets[i] < 0` (or no targets) means the sampled
     * token; `uniforms[i]` is row i's draw in [0, 1) (needed when the sampler's temperature > 0).
     * Throws an Error with `invalidLogits: true` for NaN, +∞ or fully masked rows.
     */
    analyzeRows(rows: Int32Array, targets: Int32Array | null, options: NativeRowOptions, uniforms: Float64Array | null): NativeRowAnalysis;
    /**
     * data: (nLayer - 1) × nEmbd floats, chunk il-1 added to the output of block il; always the full
     * buffer. null clears steering.
     */
    setControlVector(data: Float32Array | null, ilStart?: number, ilEnd?: number): void;
    /** blocks whose output the next decodes copy; empty turns capture off (costs nothing then) */
    setCaptureLayers(layers: Int32Array): void;
    /** what the last decode captured; handed over and cleared */
    takeCaptures(): NativeCapture[];
    memoryClear(): void;
    memorySeqRm(seqId: number, p0: number, p1: number): boolean;
    memorySeqCp(srcSeqId: number, dstSeqId: number, p0: number, p1: number): void;
    memorySeqPosMax(seqId: number): number;
    info(): NativeContextInfo;
    dispose(): void;
}

/** How one tensor starts: every element `fill`, or N(0, normalStd²) per element (sharedRow: plus one N(0, 1) component per position along the first dimension, shared by every row). */
export type NativeWeightInit =
    | { name: string; fill: number }
    | { name: string; normalStd: number; sharedRow?: boolean };

export interface NativeTrainerOptions {
    /** seeds the initial weights */
    seed: number;
    threads: number;
    /** tokens per training window (at most the metadata's context length) */
    contextSize: number;
    /** one rule per tensor of the metadata file (a tensor without one is refused); drawn in llama.cpp's creation order */
    initialisation: NativeWeightInit[];
    /**
     * the backward pass's out-product kernel: "tiller" (default: Tiller's register-tiled kernel for
     * this CPU, AVX-512 or AVX2, else ggml's), "ggml" (ggml's own), or one of Tiller's by name
     * (refused where the CPU cannot run it). Every choice trains to the same bytes.
     */
    outProduct?: "tiller" | "ggml" | "avx512" | "avx2";
}

/** AdamW's settings for one train() call; the schedule is the caller's (engine/toyworld/trainingPolicy.ts). */
export interface NativeOptimizerSettings {
    /** one learning rate per window (step), > 0 (ggml's AdamW refuses 0) */
    learningRates: Float32Array;
    beta1: number;
    beta2: number;
    epsilon: number;
    weightDecay: number;
}

export interface NativeTrainingProgress {
    /** steps done in this train() call (1-based) */
    step: number;
    /** cross-entropy of this step's window (the mean over the labels that count) */
    loss: number;
    tokensPerSecond: number;
}

export interface NativeTrainingResult {
    steps: number;
    meanLoss: number;
    seconds: number;
    cancelled: boolean;
}

export interface NativeTrainer {
    /** outProductKernel: the out-product kernel in use ("avx512", "avx2" or "ggml"), on outProductNodes nodes of the backward pass */
    info(): { contextSize: number; nTensors: number; nVocab: number; outProductKernel: "avx512" | "avx2" | "ggml"; outProductNodes: number };
    /**
     * One AdamW step per window, off the JS thread. windows: n × (contextSize + 1) token ids (inputs are
     * a window's first contextSize tokens, labels its last contextSize). Resolves early, with
     * cancelled: true, after cancel(). Every progress report is delivered before it settles; a callback
     * that throws stops training and the promise rejects with what it threw. labelMask: n × contextSize
     * flags, window w's label i counting when flag w·contextSize + i is not 0 (the others add no loss
     * and no gradient); without it every label counts.
     */
    train(windows: Int32Array, optimizer: NativeOptimizerSettings, onProgress: (progress: NativeTrainingProgress) => void, labelMask?: Uint8Array): Promise<NativeTrainingResult>;
    cancel(): void;
    /** mean cross-entropy over the labels that count (all, without labelMask; a forward pass only) */
    evaluate(windows: Int32Array, labelMask?: Uint8Array): Promise<number>;
    /**
     * The training graph's forward pass over contextSize tokens: contextSize × nVocab logits, row i
     * after token i (on the JS thread; it exists to hold the graph against llama.cpp's own logits).
     */
    logits(tokens: Int32Array): Float32Array;
    /** llama_model_save_to_file: weights, hyperparameters and tokenizer (not custom metadata) */
    save(path: string): void;
    /** frees the model and context now; later calls throw an Error with code "DISPOSED"; a second dispose does nothing */
    dispose(): void;
}

export interface NativeQuantizeOptions {
    /** llama.cpp's `enum llama_ftype`, e.g. 7 = MOSTLY_Q8_0, 15 = MOSTLY_Q4_K_M */
    ftype: number;
    /** quantization threads; ≤ 0 lets llama.cpp use every hardware thread */
    threads: number;
}

/** One tensor written, from llama.cpp's own per-tensor log line. */
export interface NativeQuantizeProgress {
    done: number;
    total: number;
    tensor: string;
}

/** What openLlamaLibraries loads: a prebuilt binary's libraries and the folder its backends are loaded from. */
export interface LlamaLibraryFiles {
    llama: string;
    ggml: string;
    ggmlBase: string;
    backendsDir: string;
    /** llama.cpp log lines at this ggml_log_level or above go to stderr (4 = error) */
    logLevel: number;
}

export interface TillerNativeAddon {
    buildInfo(): AddonBuildInfo;
    /**
     * Loads llama.cpp's libraries by path without node-llama-cpp (engine/runtime/directBackend.ts),
     * loads the ggml backends from `backendsDir` and calls llama_backend_init; call bind() after.
     * Rejects when a libllama is already loaded in the process.
     */
    openLlamaLibraries(files: LlamaLibraryFiles): Promise<{ devices: { name: string; description: string; type: string }[] }>;
    /** the libllama already loaded in this process (by node-llama-cpp or openLlamaLibraries), or null */
    llamaLoadedPath(): string | null;
    /** resolves llama.cpp's functions from the libllama node-llama-cpp loaded; call after getLlama() */
    bind(): AddonBinding;
    /**
     * The row analysis of NativeContext.analyzeRows over logits handed in (rows × nVocab floats):
     * for tests against the reference implementation, and for logits a caller already holds.
     */
    analyzeLogits(logits: Float32Array, nVocab: number, targets: Int32Array | null, options: NativeRowOptions, uniforms: Float64Array | null): NativeRowAnalysis;
    loadModel(path: string, gpuLayers: number, useMmap: boolean): Promise<NativeModel>;
    createContext(model: NativeModel, options: NativeContextOptions): Promise<NativeContext>;
    /** creates a model with seeded random weights from a GGUF metadata file (one tensor info per weight) */
    createTrainer(metadataPath: string, options: NativeTrainerOptions): Promise<NativeTrainer>;
    /** native objects alive now (for tests: dispose() must free at once, not at GC) */
    liveObjects(): { trainers: number };
    /**
     * llama_model_quantize(input → output), off the JS thread; one quantization per process at a
     * time (a second call throws). Rejects with llama.cpp's own reason when it fails.
     */
    quantizeModel(input: string, output: string, options: NativeQuantizeOptions,
        onProgress: (progress: NativeQuantizeProgress) => void): Promise<{ seconds: number }>;
}
