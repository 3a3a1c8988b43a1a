// The toy world model's architecture, and the GGUF metadata file from which llama.cpp creates it
// (llama_model_init_from_user creates exactly the tensors listed there, so every one is listed).
import { writeGguf, type GgufTensorInput, type GgufValueInput } from "../gguf/GgufWriter.js";
import type { BpeTokenizer } from "./bpeTokenizer.js";

export interface ToyworldShape {
    nLayer: number;
    nEmbd: number;
    nHead: number;
    nFf: number;
    /** training window and the model's context length */
    contextSize: number;
}

/** 4 blocks × 128 wide, 4 heads, FFN 344, context 256, F32: about 0.94 M parameters. */
export const TOYWORLD_SHAPE: ToyworldShape = { nLayer: 4, nEmbd: 128, nHead: 4, nFf: 344, contextSize: 256 };

/** A llama-architecture GGUF with the tokenizer and one zero-filled F32 tensor per weight. */
export function encodeModelMetadata(shape: ToyworldShape, tokenizer: BpeTokenizer, overrides: Readonly<Record<string, GgufValueInput>> = {}): Uint8Array {
    const nVocab = tokenizer.vocabularySize;
    const u32 = (value: number): GgufValueInput => ({ type: "uint32", value });
    const base: Array<[string, GgufValueInput]> = [
        ["general.architecture", "llama"],
        ["general.name", "tiller-toyworld"],
        ["general.file_type", u32(0)],
        ["llama.vocab_size", u32(nVocab)],
        ["llama.context_length", u32(shape.contextSize)],
        ["llama.embedding_length", u32(shape.nEmbd)],
        ["llama.block_count", u32(shape.nLayer)],
        ["llama.feed_forward_length", u32(shape.nFf)],
        ["llama.rope.dimension_count", u32(shape.nEmbd / shape.nHead)],
        ["llama.rope.freq_base", { type: "float32", value: 10000 }],
        ["llama.attention.head_count", u32(shape.nHead)],
        ["llama.attention.head_count_kv", u32(shape.nHead)],
        ["llama.attention.layer_norm_rms_epsilon", { type: "float32", value: 1e-5 }],
        ...tokenizer.ggufMetadata()
    ];
    // overrides replace a key's value (tests write wrong-typed metadata with them)
    const metadata = base.map(([key, value]): [string, GgufValueInput] => [key, overrides[key] ?? value]);
    const tensors: GgufTensorInput[] = modelTensors(shape, nVocab).map(({ name, dims }) =>
        ({ name, dims, type: "f32", data: new Float32Array(dims.reduce((a, b) => a * b, 1)) }));
    return writeGguf({ metadata, tensors });
}

/** Every weight of the model (name and GGUF dims, first dimension fastest), as the metadata file lists them. */
export function modelTensors(shape: ToyworldShape, nVocab: number): Array<{ name: string; dims: number[] }> {
    const tensors = [{ name: "token_embd.weight", dims: [shape.nEmbd, nVocab] }];
    for (let n = 0; n < shape.nLayer; n++) {
        const blk = `blk.${n}`;
        tensors.push(
            { name: `${blk}.attn_norm.weight`, dims: [shape.nEmbd] },
            { name: `${blk}.attn_q.weight`, dims: [shape.nEmbd, shape.nEmbd] },
            { name: `${blk}.attn_k.weight`, dims: [shape.nEmbd, shape.nEmbd] },
            { name: `${blk}.attn_v.weight`, dims: [shape.nEmbd, shape.nEmbd] },
            { name: `${blk}.attn_output.weight`, dims: [shape.nEmbd, shape.nEmbd] },
            { name: `${blk}.ffn_norm.weight`, dims: [shape.nEmbd] },
            { name: `${blk}.ffn_gate.weight`, dims: [shape.nEmbd, shape.nFf] },
            { name: `${blk}.ffn_up.weight`, dims: [shape.nEmbd, shape.nFf] },
            { name: `${blk}.ffn_down.weight`, dims: [shape.nFf, shape.nEmbd] }
        );
    }
    // its own output matrix (untied; llama_opt_epoch never trained token_embd.weight, and the
    // shape stays as it was)
    tensors.push({ name: "output_norm.weight", dims: [shape.nEmbd] }, { name: "output.weight", dims: [shape.nEmbd, nVocab] });
    return tensors;
}
