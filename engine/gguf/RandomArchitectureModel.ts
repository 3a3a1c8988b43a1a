/**
 * Random-weight models of the architectures people load (llama, qwen2, qwen3, qwen3moe, gemma2,
 * phi3, plamo2), with each architecture's real GGUF keys, tensor names and shapes as the bundled
 * llama.cpp (src/models/<arch>.cpp, load_arch_hparams / load_arch_tensors) reads them:
 *
 *   llama     separate q/k/v, gated FFN (ffn_gate/ffn_up/ffn_down), untied output
 *   qwen2     + q/k/v biases (attn_q.bias …), rope base 1e6
 *   qwen3     + per-head q/k RMS norms (attn_q_norm / attn_k_norm, [head_dim]), key/value_length
 *   qwen3moe  qwen3 attention; the FFN is a router (ffn_gate_inp [n_embd, n_expert]) and stacked
 *             experts (ffn_{gate,up}_exps [n_embd, n_ff_exp, n_expert], ffn_down_exps [n_ff_exp, n_embd, n_expert])
 *   gemma2    extra post-attention / post-FFN norms (post_attention_norm, post_ffw_norm), tied output
 *             (no output.weight: token_embd is the output matrix), embedding scale √n_embd (in the
 *             graph), attention and final logit soft-capping (attn_/final_logit_softcapping), sliding window
 *   phi3      fused attention (attn_qkv [n_embd, n_embd + 2·n_embd_kv]) and fused gate+up
 *             (ffn_up [n_embd, 2·n_ff]); no ffn_gate
 *   plamo2    hybrid: Mamba blocks (ssm_* tensors, head_count_kv = 0 for that block) and attention
 *             blocks (fused attn_qkv, q/k norms [head_dim, heads]), post-mixer and post-FFN norms.
 *             Its graph (src/models/plamo2.cpp) never calls build_cvec and names no block output
 *             `l_out`: llama.cpp ignores control vectors for it, which is why it is here.
 *
 * Matrices are N(0, 0.02²) in F32 or F16; norm weights are 1 + N(0, 0.1²) (not all ones, so a
 * check that forgets a norm weight fails). Tokenizers: a SentencePiece vocabulary (the one of
 * RandomModelFile.ts, "llama") or a byte-level BPE trained on a fixed text ("gpt2", pre "qwen2"),
 * each with the control tokens of the architecture's chat template, which is written too.
 */
import { writeFile } from "node:fs/promises";
import { BpeTokenizer } from "../toyworld/bpeTokenizer.js";
import { encodeFloat16 } from "./Float16.js";
import { GgmlType } from "./GgmlType.js";
import { GgufError } from "./GgufError.js";
import { writeGguf, type GgufTensorInput, type GgufValueInput } from "./GgufWriter.js";
import { buildRandomModelTokenizer, NormalRng, RANDOM_MODEL_WEIGHT_STD } from "./RandomModelFile.js";

export const randomArchitectures = ["llama", "qwen2", "qwen3", "qwen3moe", "gemma2", "phi3", "plamo2"] as const;
export type RandomArchitecture = typeof randomArchitectures[number];

export interface ArchitectureModelOptions {
    architecture: RandomArchitecture;
    /** blocks, ≥ 1 (plamo2: ≥ 2, the first is a Mamba block, the rest attention) */
    nLayer: number;
    /** residual width, a multiple of nHead with an even head size */
    nEmbd: number;
    nHead: number;
    /** default nHead */
    nHeadKv?: number;
    /** feed-forward width (per expert for qwen3moe); default 2 · nEmbd */
    nFf?: number;
    /** qwen3moe: experts (default 4) and experts used per token (default 2) */
    nExpert?: number;
    nExpertUsed?: number;
    /** SentencePiece vocabulary size (≥ 300); BPE vocabularies are 2 + 256 + merges + control tokens. Default 512 */
    nVocab?: number;
    /** BPE merges learned (default 200) */
    bpeMerges?: number;
    /** gemma2's final_logit_softcapping (default 30, as Gemma 2 ships) */
    finalLogitSoftcap?: number;
    contextLength?: number;
    type: "f32" | "f16";
    seed: number;
    /** tokenizer.* keys to use instead of the built-in vocabulary (e.g. copied from a real model's GGUF) */
    tokenizerMetadata?: Array<[string, GgufValueInput]>;
}

/** Which tokenizer and chat template each architecture gets by default. */
const tokenizerKinds: Record<RandomArchitecture, "spm" | "bpe"> = {
    llama: "spm", qwen2: "bpe", qwen3: "bpe", qwen3moe: "bpe", gemma2: "spm", phi3: "spm", plamo2: "bpe"
};

interface ChatFormat {
    template: string;
    /** control tokens the template prints */
    controlTokens: string[];
    /** the token generation stops at (by text), when not the tokenizer's own EOS */
    eos?: string;
}

// Short templates of our own in each family's turn format (not copies of the vendors' files).
const chatml: ChatFormat = {
    template: "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    controlTokens: ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    eos: "<|im_end|>"
};
const chatFormats: Record<RandomArchitecture, ChatFormat> = {
    llama: {
        template: "{% for message in messages %}{% if message['role'] == 'system' %}{{ '<<SYS>>\\n' + message['content'] + '\\n<</SYS>>\\n\\n' }}" +
            "{% elif message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}" +
            "{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}",
        controlTokens: []
    },
    qwen2: chatml,
    qwen3: chatml,
    qwen3moe: chatml,
    plamo2: chatml,
    gemma2: {
        template: "{{ bos_token }}{% for message in messages %}{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}" +
            "{{ '<start_of_turn>' + role + '\\n' + message['content'] + '<end_of_turn>\\n' }}{% endfor %}" +
            "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}",
        controlTokens: ["<start_of_turn>", "<end_of_turn>"],
        eos: "<end_of_turn>"
    },
    phi3: {
        template: "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}{% endfor %}" +
            "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}",
        controlTokens: ["<|endoftext|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"],
        eos: "<|end|>"
    }
};

/** The chat template an architecture's random model carries (for tests that render it). */
export function randomModelChatTemplate(architecture: RandomArchitecture): string {
    return chatFormats[architecture].template;
}

const TOKEN_TYPE_CONTROL = 3;

/** Fixed English text the BPE vocabulary is learned from: deterministic, a few hundred merges' worth. */
const BPE_TRAINING_TEXT = [
    "Once upon a time there was a little girl who loved to play in the park with her friends.",
    "The weather today is sunny and warm, and the children are happy to be outside.",
    "Hello world! This is a small model with random weights, made for testing steering.",
    "She said that the answer was right, and he thought about it for a long time.",
    "One day the boy found a big red ball under the old tree near the river.",
    "We are going to the market to buy some bread, milk, apples and cheese.",
    "They wanted to know how the machine worked, so they opened it and looked inside.",
    "It was the best day of the year, and everyone was singing and dancing together."
];

function spmTokenizer(nVocab: number, format: ChatFormat): Array<[string, GgufValueInput]> {
    const base = buildRandomModelTokenizer(nVocab - format.controlTokens.length);
    const tokens = [...base.tokens, ...format.controlTokens];
    const types = [...base.tokenTypes, ...format.controlTokens.map(() => TOKEN_TYPE_CONTROL)];
    const scores = [...base.scores, ...format.controlTokens.map(() => 0)];
    const eos = format.eos != null ? tokens.indexOf(format.eos) : 2;
    return [
        ["tokenizer.ggml.model", "llama"],
        ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: tokens }],
        ["tokenizer.ggml.scores", { type: "array", itemType: "float32", value: scores }],
        ["tokenizer.ggml.token_type", { type: "array", itemType: "int32", value: types }],
        ["tokenizer.ggml.unknown_token_id", { type: "uint32", value: 0 }],
        ["tokenizer.ggml.bos_token_id", { type: "uint32", value: 1 }],
        ["tokenizer.ggml.eos_token_id", { type: "uint32", value: eos }],
        ["tokenizer.ggml.add_bos_token", true],
        ["tokenizer.ggml.add_eos_token", false]
    ];
}

function bpeTokenizer(merges: number, format: ChatFormat): Array<[string, GgufValueInput]> {
    const trained = BpeTokenizer.train(BPE_TRAINING_TEXT, merges);
    const tokens = [...trained.tokens, ...format.controlTokens];
    const types = tokens.map((_, id) => (id < 2 || id >= trained.tokens.length ? TOKEN_TYPE_CONTROL : 1));
    const eos = format.eos != null ? tokens.indexOf(format.eos) : 1;
    return [
        ["tokenizer.ggml.model", "gpt2"],
        ["tokenizer.ggml.pre", "qwen2"],
        ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: tokens }],
        ["tokenizer.ggml.token_type", { type: "array", itemType: "int32", value: types }],
        ["tokenizer.ggml.merges", { type: "array", itemType: "string", value: [...trained.merges] }],
        ["tokenizer.ggml.bos_token_id", { type: "uint32", value: 0 }],
        ["tokenizer.ggml.eos_token_id", { type: "uint32", value: eos }],
        ["tokenizer.ggml.add_bos_token", false],
        ["tokenizer.ggml.add_eos_token", false]
    ];
}

/** Encode a random model of `options.architecture`. Throws GgufError (INVALID_ARGUMENT) for bad options. */
export function encodeArchitectureModel(options: ArchitectureModelOptions): Uint8Array {
    const o = checkOptions(options);
    const arch = o.architecture;
    const headDim = o.nEmbd / o.nHead;
    const nEmbdKv = headDim * o.nHeadKv;
    const rng = new NormalRng(o.seed);
    const u32 = (value: number): GgufValueInput => ({ type: "uint32", value });
    const f32 = (value: number): GgufValueInput => ({ type: "float32", value });
    const key = (name: string) => `${arch}.${name}`;
    const format = chatFormats[arch];

    const tokenizer = o.tokenizerMetadata ??
        (tokenizerKinds[arch] === "spm" ? spmTokenizer(o.nVocab, format) : bpeTokenizer(o.bpeMerges, format));
    const tokens = tokenizer.find(([name]) => name === "tokenizer.ggml.tokens")?.[1];
    const nVocab = typeof tokens === "object" && "value" in tokens && Array.isArray(tokens.value) ? tokens.value.length : 0;
    if (nVocab === 0)
        throw new GgufError("INVALID_ARGUMENT", "cannot make a random model: the tokenizer metadata has no tokenizer.ggml.tokens");

    // ---- metadata ---------------------------------------------------------------------------
    const metadata: Array<[string, GgufValueInput]> = [
        ["general.architecture", arch],
        ["general.name", `tiller-random-${arch}-${o.nLayer}x${o.nEmbd}`],
        ["general.file_type", u32(o.type === "f16" ? 1 : 0)],
        [key("vocab_size"), u32(nVocab)],
        [key("context_length"), u32(o.contextLength)],
        [key("embedding_length"), u32(o.nEmbd)],
        [key("block_count"), u32(o.nLayer)],
        [key("feed_forward_length"), u32(o.nFf)],
        [key("attention.head_count"), u32(o.nHead)],
        [key("attention.layer_norm_rms_epsilon"), f32(1e-6)],
        [key("rope.dimension_count"), u32(headDim)],
        [key("rope.freq_base"), f32(arch === "llama" || arch === "gemma2" || arch === "phi3" ? 10000 : 1000000)]
    ];
    if (arch === "plamo2") {
        // one Mamba block first (head_count_kv 0 marks a recurrent block), attention after it
        metadata.push([key("attention.head_count_kv"), { type: "array", itemType: "uint32",
            value: Array.from({ length: o.nLayer }, (_, il) => (il === 0 ? 0 : o.nHeadKv)) }]);
        metadata.push([key("ssm.conv_kernel"), u32(4)], [key("ssm.inner_size"), u32(2 * o.nEmbd)], [key("ssm.state_size"), u32(16)],
            [key("ssm.time_step_rank"), u32(o.nHead)], [key("ssm.group_count"), u32(0)]);
    } else {
        metadata.push([key("attention.head_count_kv"), u32(o.nHeadKv)]);
    }
    if (arch === "qwen3" || arch === "qwen3moe" || arch === "gemma2" || arch === "plamo2")
        metadata.push([key("attention.key_length"), u32(headDim)], [key("attention.value_length"), u32(headDim)]);
    if (arch === "qwen3moe")
        metadata.push([key("expert_count"), u32(o.nExpert)], [key("expert_used_count"), u32(o.nExpertUsed)],
            [key("expert_feed_forward_length"), u32(o.nFf)]);
    if (arch === "gemma2")
        metadata.push([key("attention.sliding_window"), u32(4096)], [key("attn_logit_softcapping"), f32(50)],
            [key("final_logit_softcapping"), f32(o.finalLogitSoftcap)]);
    metadata.push(...tokenizer, ["tokenizer.chat_template", format.template]);

    // ---- tensors, drawn in file order so the bytes depend only on the options -----------------
    const weightType = o.type === "f16" ? GgmlType.F16 : GgmlType.F32;
    const weights = (name: string, dims: number[]): GgufTensorInput => {
        const values = rng.fill(new Float32Array(dims.reduce((a, b) => a * b, 1)), RANDOM_MODEL_WEIGHT_STD);
        return { name, dims, type: "raw", ggmlType: weightType,
            bytes: o.type === "f16" ? encodeFloat16(values) : new Uint8Array(values.buffer) };
    };
    const vector = (name: string, dims: number[], values: (r: NormalRng) => number): GgufTensorInput => {
        const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
        for (let i = 0; i < data.length; i++) data[i] = values(rng);
        return { name, dims, type: "f32", data };
    };
    const norm = (name: string, dims: number[] = [o.nEmbd]) => vector(name, dims, (r) => 1 + 0.1 * r.normal());
    const bias = (name: string, length: number) => vector(name, [length], (r) => 0.02 * r.normal());

    const tensors: GgufTensorInput[] = [weights("token_embd.weight", [o.nEmbd, nVocab])];
    for (let il = 0; il < o.nLayer; il++) {
        const blk = (name: string) => `blk.${il}.${name}`;
        tensors.push(norm(blk("attn_norm.weight")));
        if (arch === "plamo2" && il === 0) {
            const dInner = 2 * o.nEmbd;
            const dtDim = Math.max(64, Math.floor(o.nEmbd / 16));
            tensors.push(
                weights(blk("ssm_in.weight"), [o.nEmbd, 2 * dInner]),
                vector(blk("ssm_conv1d.weight"), [4, dInner], (r) => 0.2 * r.normal()),
                weights(blk("ssm_x.weight"), [dInner, dtDim + 2 * 16]),
                weights(blk("ssm_dt.weight"), [dtDim, o.nHead]),
                bias(blk("ssm_dt.bias"), o.nHead),
                vector(blk("ssm_a"), [o.nHead], (r) => -Math.exp(0.5 * r.normal())),
                vector(blk("ssm_d"), [o.nHead], (r) => 1 + 0.1 * r.normal()),
                weights(blk("ssm_out.weight"), [dInner, o.nEmbd]),
                norm(blk("ssm_dt_norm"), [dtDim]),
                norm(blk("ssm_b_norm"), [16]),
                norm(blk("ssm_c_norm"), [16])
            );
        } else if (arch === "phi3" || arch === "plamo2") {
            tensors.push(weights(blk("attn_qkv.weight"), [o.nEmbd, o.nEmbd + 2 * nEmbdKv]));
            if (arch === "plamo2")
                tensors.push(norm(blk("attn_q_norm.weight"), [headDim, o.nHead]), norm(blk("attn_k_norm.weight"), [headDim, o.nHeadKv]));
            tensors.push(weights(blk("attn_output.weight"), [o.nEmbd, o.nEmbd]));
        } else {
            tensors.push(
                weights(blk("attn_q.weight"), [o.nEmbd, o.nEmbd]),
                weights(blk("attn_k.weight"), [o.nEmbd, nEmbdKv]),
                weights(blk("attn_v.weight"), [o.nEmbd, nEmbdKv])
            );
            if (arch === "qwen2")
                tensors.push(bias(blk("attn_q.bias"), o.nEmbd), bias(blk("attn_k.bias"), nEmbdKv), bias(blk("attn_v.bias"), nEmbdKv));
            tensors.push(weights(blk("attn_output.weight"), [o.nEmbd, o.nEmbd]));
            if (arch === "qwen3" || arch === "qwen3moe")
                tensors.push(norm(blk("attn_k_norm.weight"), [headDim]), norm(blk("attn_q_norm.weight"), [headDim]));
        }
        if (arch === "gemma2")
            tensors.push(norm(blk("post_attention_norm.weight")));
        if (arch === "plamo2")
            tensors.push(norm(blk("post_attention_norm")));
        tensors.push(norm(blk("ffn_norm.weight")));
        if (arch === "qwen3moe") {
            tensors.push(
                weights(blk("ffn_gate_inp.weight"), [o.nEmbd, o.nExpert]),
                weights(blk("ffn_gate_exps.weight"), [o.nEmbd, o.nFf, o.nExpert]),
                weights(blk("ffn_down_exps.weight"), [o.nFf, o.nEmbd, o.nExpert]),
                weights(blk("ffn_up_exps.weight"), [o.nEmbd, o.nFf, o.nExpert])
            );
        } else if (arch === "phi3" || arch === "plamo2") {
            tensors.push(weights(blk("ffn_down.weight"), [o.nFf, o.nEmbd]), weights(blk("ffn_up.weight"), [o.nEmbd, 2 * o.nFf]));
        } else {
            tensors.push(
                weights(blk("ffn_gate.weight"), [o.nEmbd, o.nFf]),
                weights(blk("ffn_up.weight"), [o.nEmbd, o.nFf]),
                weights(blk("ffn_down.weight"), [o.nFf, o.nEmbd])
            );
        }
        if (arch === "gemma2")
            tensors.push(norm(blk("post_ffw_norm.weight")));
        if (arch === "plamo2")
            tensors.push(norm(blk("post_ffw_norm")));
    }
    tensors.push(norm("output_norm.weight"));
    if (arch !== "gemma2") // gemma2 ties the output to token_embd
        tensors.push(weights("output.weight", [o.nEmbd, nVocab]));

    return writeGguf({ metadata, tensors });
}

/** Encode and write to `path`. Throws GgufError (INVALID_ARGUMENT, IO). */
export async function writeArchitectureModelFile(path: string, options: ArchitectureModelOptions): Promise<void> {
    const bytes = encodeArchitectureModel(options);
    try {
        await writeFile(path, bytes);
    } catch (cause) {
        throw new GgufError("IO", `cannot write "${path}": ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    }
}

interface CheckedOptions {
    architecture: RandomArchitecture;
    nLayer: number;
    nEmbd: number;
    nHead: number;
    nHeadKv: number;
    nFf: number;
    nExpert: number;
    nExpertUsed: number;
    nVocab: number;
    bpeMerges: number;
    finalLogitSoftcap: number;
    contextLength: number;
    type: "f32" | "f16";
    seed: number;
    tokenizerMetadata: Array<[string, GgufValueInput]> | undefined;
}

function checkOptions(options: ArchitectureModelOptions): CheckedOptions {
    const bad = (message: string) => new GgufError("INVALID_ARGUMENT", `cannot make a random model: ${message}`);
    const positive = (name: string, value: unknown): number => {
        if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > 0x7fffffff)
            throw bad(`${name} must be a positive integer, not ${String(value)}`);
        return value;
    };
    if (!randomArchitectures.includes(options.architecture))
        throw bad(`unknown architecture "${String(options.architecture)}"; choose one of ${randomArchitectures.join(", ")}`);
    const nEmbd = positive("nEmbd", options.nEmbd);
    const nHead = positive("nHead", options.nHead);
    const nHeadKv = positive("nHeadKv", options.nHeadKv ?? nHead);
    const nLayer = positive("nLayer", options.nLayer);
    const nExpert = positive("nExpert", options.nExpert ?? 4);
    const nExpertUsed = positive("nExpertUsed", options.nExpertUsed ?? 2);
    const nVocab = positive("nVocab", options.nVocab ?? 512);
    if (nEmbd % nHead !== 0) throw bad(`nEmbd ${nEmbd} is not a multiple of nHead ${nHead}`);
    if ((nEmbd / nHead) % 2 !== 0) throw bad(`the head size nEmbd/nHead = ${nEmbd / nHead} must be even (RoPE rotates pairs)`);
    if (nHead % nHeadKv !== 0) throw bad(`nHeadKv ${nHeadKv} does not divide nHead ${nHead}`);
    if (nExpertUsed > nExpert) throw bad(`nExpertUsed ${nExpertUsed} exceeds nExpert ${nExpert}`);
    if (options.architecture === "plamo2" && nLayer < 2) throw bad("plamo2 needs at least 2 blocks (a Mamba block and an attention block)");
    if (nVocab < 300) throw bad(`nVocab ${nVocab} is too small (at least 300)`);
    if (options.type !== "f32" && options.type !== "f16") throw bad(`type must be "f32" or "f16", not ${String(options.type)}`);
    if (typeof options.seed !== "number" || !Number.isSafeInteger(options.seed)) throw bad(`seed must be an integer, not ${String(options.seed)}`);
    const softcap = options.finalLogitSoftcap ?? 30;
    if (!Number.isFinite(softcap) || softcap <= 0) throw bad(`finalLogitSoftcap must be a positive number, not ${softcap}`);
    return {
        architecture: options.architecture,
        nLayer, nEmbd, nHead, nHeadKv, nExpert, nExpertUsed, nVocab,
        nFf: positive("nFf", options.nFf ?? 2 * nEmbd),
        bpeMerges: positive("bpeMerges", options.bpeMerges ?? 200),
        finalLogitSoftcap: softcap,
        contextLength: positive("contextLength", options.contextLength ?? 2048),
        type: options.type,
        seed: Number(BigInt.asUintN(32, BigInt(options.seed))),
        tokenizerMetadata: options.tokenizerMetadata
    };
}
