/**
 * Random-weight llama-architecture models of any shape, for tests and benchmarks: a GGUF file
 * that llama.cpp loads and runs (and that tokenizes text), with deterministic weights from a seed.
 *
 * Tensors, in llama.cpp's GGUF dimension order (ne0, the contiguous dimension, first):
 *
 *     token_embd.weight          [n_embd, n_vocab]
 *     blk.N.attn_norm.weight     [n_embd]                        F32, all ones
 *     blk.N.attn_q.weight        [n_embd, n_head·d_head]         d_head = n_embd / n_head
 *     blk.N.attn_k.weight        [n_embd, n_head_kv·d_head]
 *     blk.N.attn_v.weight        [n_embd, n_head_kv·d_head]
 *     blk.N.attn_output.weight   [n_head·d_head, n_embd]
 *     blk.N.ffn_norm.weight      [n_embd]                        F32, all ones
 *     blk.N.ffn_gate.weight      [n_embd, n_ff]
 *     blk.N.ffn_up.weight        [n_embd, n_ff]
 *     blk.N.ffn_down.weight      [n_ff, n_embd]
 *     output_norm.weight         [n_embd]                        F32, all ones
 *     output.weight              [n_embd, n_vocab]
 *
 * Matrices are F32 or F16 (option `type`) with values drawn from N(0, 0.02²).
 *
 * The tokenizer is a minimal SentencePiece ("llama") vocabulary: `<unk>`, `<s>`, `</s>`, the 256
 * byte tokens `<0x00>` … `<0xFF>` (so any text can be encoded by byte fallback), then unique
 * printable pieces ("▁", "▁a", "a", "▁the", …, then synthetic letter strings) up to `nVocab`.
 */
import { writeFile } from "node:fs/promises";
import { encodeFloat16 } from "./Float16.js";
import { GgmlType } from "./GgmlType.js";
import { GgufError } from "./GgufError.js";
import { writeGguf } from "./GgufWriter.js";
import type { GgufTensorInput, GgufValueInput } from "./GgufWriter.js";

export interface RandomModelOptions {
    /** Number of blocks (`llama.block_count`), ≥ 1. */
    nLayer: number;
    /** Residual width (`llama.embedding_length`), a multiple of `nHead`. */
    nEmbd: number;
    /** Attention heads; `nEmbd / nHead` (the head size) must be even, for RoPE. */
    nHead: number;
    /** KV heads (grouped-query attention); must divide `nHead`. Default: `nHead`. */
    nHeadKv?: number;
    /** Feed-forward width. Default: `4 · nEmbd`. */
    nFf?: number;
    /** Vocabulary size, at least `RANDOM_MODEL_MIN_VOCAB` (260). */
    nVocab: number;
    /** Training context length written to the file. Default: 2048. */
    contextLength?: number;
    /** Storage type of the matrices; norm weights are always F32. */
    type: "f32" | "f16";
    /** PRNG seed (any integer; used modulo 2³²). The same options give the same bytes. */
    seed: number;
    /** `general.name`. Default: `tiller-random-<nLayer>x<nEmbd>`. */
    name?: string;
}

/** Smallest vocabulary: 3 special tokens, 256 byte tokens and the piece "▁". */
export const RANDOM_MODEL_MIN_VOCAB = 260;

/** Standard deviation of the random weights. */
export const RANDOM_MODEL_WEIGHT_STD = 0.02;

/** SentencePiece token types as llama.cpp numbers them (`enum llama_token_type`). */
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

/** Encode a random model as GGUF bytes. Throws `GgufError` (`INVALID_ARGUMENT`) for bad options. */
export function encodeRandomModel(options: RandomModelOptions): Uint8Array {
    const o = checkOptions(options);
    const headDim = o.nEmbd / o.nHead;
    const nEmbdKv = headDim * o.nHeadKv;
    const rng = new NormalRng(o.seed);
    const tokenizer = buildRandomModelTokenizer(o.nVocab);

    // --- Metadata: what llama.cpp's loader reads for arch "llama" --------------------------
    const u32 = (value: number): GgufValueInput => ({ type: "uint32", value });
    const metadata: Array<[string, GgufValueInput]> = [
        ["general.architecture", "llama"],
        ["general.name", o.name],
        // llama_ftype: 0 = all F32, 1 = mostly F16.
        ["general.file_type", u32(o.type === "f16" ? 1 : 0)],
        ["llama.vocab_size", u32(o.nVocab)],
        ["llama.context_length", u32(o.contextLength)],
        ["llama.embedding_length", u32(o.nEmbd)],
        ["llama.block_count", u32(o.nLayer)],
        ["llama.feed_forward_length", u32(o.nFf)],
        ["llama.rope.dimension_count", u32(headDim)],
        ["llama.rope.freq_base", { type: "float32", value: 10000 }],
        ["llama.attention.head_count", u32(o.nHead)],
        ["llama.attention.head_count_kv", u32(o.nHeadKv)],
        ["llama.attention.layer_norm_rms_epsilon", { type: "float32", value: 1e-5 }],
        ["tokenizer.ggml.model", "llama"],
        ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: tokenizer.tokens }],
        ["tokenizer.ggml.scores", { type: "array", itemType: "float32", value: tokenizer.scores }],
        ["tokenizer.ggml.token_type", { type: "array", itemType: "int32", value: tokenizer.tokenTypes }],
        ["tokenizer.ggml.unknown_token_id", u32(0)],
        ["tokenizer.ggml.bos_token_id", u32(1)],
        ["tokenizer.ggml.eos_token_id", u32(2)],
        ["tokenizer.ggml.add_bos_token", true],
        ["tokenizer.ggml.add_eos_token", false]
    ];

    // --- Tensors, drawn in file order so the bytes depend only on the options ---------------
    // Matrices are encoded right away (as raw F16/F32 bytes), so that the float32 values of a
    // large model are never all in memory at once.
    const matrix = (name: string, ne0: number, ne1: number): GgufTensorInput => {
        const values = rng.fill(new Float32Array(ne0 * ne1), RANDOM_MODEL_WEIGHT_STD);
        return o.type === "f16"
            ? { name, dims: [ne0, ne1], type: "raw", ggmlType: GgmlType.F16, bytes: encodeFloat16(values) }
            : // F32 bytes as they are in memory: little-endian, as on every platform Node runs on.
              { name, dims: [ne0, ne1], type: "raw", ggmlType: GgmlType.F32, bytes: new Uint8Array(values.buffer) };
    };
    const norm = (name: string): GgufTensorInput => ({
        name,
        dims: [o.nEmbd],
        type: "f32",
        data: new Float32Array(o.nEmbd).fill(1)
    });
    const tensors: GgufTensorInput[] = [matrix("token_embd.weight", o.nEmbd, o.nVocab)];
    for (let n = 0; n < o.nLayer; n++) {
        const blk = `blk.${n}`;
        tensors.push(
            norm(`${blk}.attn_norm.weight`),
            matrix(`${blk}.attn_q.weight`, o.nEmbd, o.nEmbd),
            matrix(`${blk}.attn_k.weight`, o.nEmbd, nEmbdKv),
            matrix(`${blk}.attn_v.weight`, o.nEmbd, nEmbdKv),
            matrix(`${blk}.attn_output.weight`, o.nEmbd, o.nEmbd),
            norm(`${blk}.ffn_norm.weight`),
            matrix(`${blk}.ffn_gate.weight`, o.nEmbd, o.nFf),
            matrix(`${blk}.ffn_up.weight`, o.nEmbd, o.nFf),
            matrix(`${blk}.ffn_down.weight`, o.nFf, o.nEmbd)
        );
    }
    tensors.push(norm("output_norm.weight"), matrix("output.weight", o.nEmbd, o.nVocab));

    return writeGguf({ metadata, tensors });
}

/** Encode a random model and write it to `path`. Throws `GgufError` (`INVALID_ARGUMENT`, `IO`). */
export async function writeRandomModelFile(path: string, options: RandomModelOptions): Promise<void> {
    const bytes = encodeRandomModel(options);
    try {
        await writeFile(path, bytes);
    } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new GgufError("IO", `cannot write "${path}": ${reason}`, { cause });
    }
}

/** The tokenizer arrays of a random model (exported for tests). */
export interface RandomModelTokenizer {
    tokens: string[];
    scores: number[];
    tokenTypes: number[];
}

/**
 * Build the minimal SentencePiece vocabulary of `nVocab` unique pieces. Scores decrease with the
 * piece's rank, so that earlier (more "common") pieces win SentencePiece's merges.
 */
export function buildRandomModelTokenizer(nVocab: number): RandomModelTokenizer {
    const tokens: string[] = ["<unk>", "<s>", "</s>"];
    const tokenTypes: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
    const scores: number[] = [0, 0, 0];
    for (let b = 0; b < 256; b++) {
        tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
        tokenTypes.push(TOKEN_TYPE.byte);
        scores.push(0);
    }

    const seen = new Set(tokens);
    let rank = 0;
    const add = (piece: string): boolean => {
        if (tokens.length >= nVocab) return false;
        if (seen.has(piece)) return true;
        seen.add(piece);
        tokens.push(piece);
        tokenTypes.push(TOKEN_TYPE.normal);
        scores.push(-rank++);
        return true;
    };

    const lower = "abcdefghijklmnopqrstuvwxyz";
    const upper = lower.toUpperCase();
    const SPACE = "\u2581"; // "▁", SentencePiece's word boundary
    const seeds = [
        SPACE,
        ...[...lower].flatMap((c) => [SPACE + c, c]),
        ..."0123456789.,!?'\":;-()",
        ...[...upper].flatMap((c) => [SPACE + c, c]),
        ...["the", "hello", "world", "and", "a", "to", "of", "in", "is", "it", "was", "on", "for", "with", "that"].map((w) => SPACE + w),
        ...["he", "she", "they", "once", "upon", "time", "there", "little", "big", "day", "one", "said", "girl", "boy"].map((w) => SPACE + w),
        "hello",
        "world",
        "ll",
        "lo",
        "or",
        "ld",
        "er",
        "in",
        "th",
        "an"
    ];
    for (const piece of seeds) if (!add(piece)) break;

    // Synthetic pieces: all letter strings of length 2, 3, … with and without "▁".
    for (let length = 2; tokens.length < nVocab; length++) {
        const count = 26 ** length;
        for (let i = 0; i < count && tokens.length < nVocab; i++) {
            let s = "";
            for (let k = 0, v = i; k < length; k++, v = Math.floor(v / 26)) s = lower[v % 26]! + s;
            add(SPACE + s);
            add(s);
        }
    }
    return { tokens, scores, tokenTypes };
}

// ---------------------------------------------------------------------------------------------

interface CheckedOptions {
    nLayer: number;
    nEmbd: number;
    nHead: number;
    nHeadKv: number;
    nFf: number;
    nVocab: number;
    contextLength: number;
    type: "f32" | "f16";
    seed: number;
    name: string;
}

function checkOptions(options: RandomModelOptions): CheckedOptions {
    const bad = (message: string) => new GgufError("INVALID_ARGUMENT", `cannot make a random model: ${message}`);
    const positive = (name: string, value: unknown): number => {
        if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > 0x7fffffff) {
            throw bad(`${name} must be a positive integer, not ${String(value)}`);
        }
        return value;
    };
    const nLayer = positive("nLayer", options.nLayer);
    const nEmbd = positive("nEmbd", options.nEmbd);
    const nHead = positive("nHead", options.nHead);
    const nHeadKv = positive("nHeadKv", options.nHeadKv ?? nHead);
    const nFf = positive("nFf", options.nFf ?? 4 * nEmbd);
    const nVocab = positive("nVocab", options.nVocab);
    const contextLength = positive("contextLength", options.contextLength ?? 2048);
    if (nEmbd % nHead !== 0) throw bad(`nEmbd ${nEmbd} is not a multiple of nHead ${nHead}`);
    if ((nEmbd / nHead) % 2 !== 0) throw bad(`the head size nEmbd/nHead = ${nEmbd / nHead} must be even (RoPE rotates pairs)`);
    if (nHead % nHeadKv !== 0) throw bad(`nHeadKv ${nHeadKv} does not divide nHead ${nHead}`);
    if (nVocab < RANDOM_MODEL_MIN_VOCAB) {
        throw bad(`nVocab ${nVocab} is too small: the tokenizer needs at least ${RANDOM_MODEL_MIN_VOCAB} tokens (3 special, 256 bytes, "▁")`);
    }
    if (options.type !== "f32" && options.type !== "f16") throw bad(`type must be "f32" or "f16", not ${String(options.type)}`);
    if (typeof options.seed !== "number" || !Number.isSafeInteger(options.seed)) throw bad(`seed must be an integer, not ${String(options.seed)}`);
    return {
        nLayer,
        nEmbd,
        nHead,
        nHeadKv,
        nFf,
        nVocab,
        contextLength,
        type: options.type,
        seed: Number(BigInt.asUintN(32, BigInt(options.seed))),
        name: options.name ?? `tiller-random-${nLayer}x${nEmbd}`
    };
}

/**
 * A small deterministic PRNG (shared with RandomArchitectureModel.ts): a 32-bit counter advanced by the golden-ratio increment and
 * scrambled by multiply–xorshift rounds (splitmix-style), turned into normals by Box–Muller.
 */
export class NormalRng {
    #state: number;
    #spare: number | undefined;

    constructor(seed: number) {
        this.#state = seed >>> 0;
    }

    /** Uniform in (0, 1): never 0, so the logarithm below is finite. */
    #uniform(): number {
        this.#state = (this.#state + 0x9e3779b9) >>> 0;
        let z = this.#state;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
        z = (z ^ (z >>> 16)) >>> 0;
        return (z + 0.5) / 4294967296;
    }

    /** A standard normal sample. */
    normal(): number {
        if (this.#spare !== undefined) {
            const s = this.#spare;
            this.#spare = undefined;
            return s;
        }
        const r = Math.sqrt(-2 * Math.log(this.#uniform()));
        const theta = 2 * Math.PI * this.#uniform();
        this.#spare = r * Math.sin(theta);
        return r * Math.cos(theta);
    }

    /** Fill `out` with N(0, std²) samples and return it. */
    fill(out: Float32Array, std: number): Float32Array {
        for (let i = 0; i < out.length; i++) out[i] = std * this.normal();
        return out;
    }
}
