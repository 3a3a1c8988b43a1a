// Test helper: writes an F32 copy of a quantized GGUF whose weights are exactly the quantized
// file's values (Q8_0, Q4_K and Q6_K blocks decoded as ggml decodes them). The copy and the
// quantized file then hold the same weights and differ only in how llama.cpp computes with them:
// activations are converted to Q8 inside every matmul with quantized weights, never with F32 ones.
import { float16BitsToFloat32 } from "../../engine/gguf/Float16.js";
import { GgmlType } from "../../engine/gguf/GgmlType.js";
import { readGgufFile } from "../../engine/gguf/GgufReader.js";
import { writeGgufFile, type GgufTensorInput } from "../../engine/gguf/GgufWriter.js";

const Q8_0 = 8, Q4_K = 12, Q6_K = 14;

function half(bytes: Uint8Array, offset: number): number {
    return float16BitsToFloat32(bytes[offset]! | (bytes[offset + 1]! << 8));
}

function dequantizeQ8_0(bytes: Uint8Array, count: number): Float32Array {
    const out = new Float32Array(count);
    for (let block = 0; block < count / 32; block++) {
        const base = block * 34;
        const d = half(bytes, base);
        for (let i = 0; i < 32; i++)
            out[block * 32 + i] = d * ((bytes[base + 2 + i]! << 24) >> 24);
    }
    return out;
}

/** ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j from the 12 packed bytes. */
function scaleMinK4(j: number, scales: Uint8Array): [number, number] {
    if (j < 4)
        return [scales[j]! & 63, scales[j + 4]! & 63];
    return [(scales[j + 4]! & 0x0f) | ((scales[j - 4]! >> 6) << 4), (scales[j + 4]! >> 4) | ((scales[j]! >> 6) << 4)];
}

function dequantizeQ4_K(bytes: Uint8Array, count: number): Float32Array {
    const out = new Float32Array(count);
    for (let block = 0; block < count / 256; block++) {
        const base = block * 144;
        const d = half(bytes, base), dmin = half(bytes, base + 2);
        const scales = bytes.subarray(base + 4, base + 16);
        const qs = bytes.subarray(base + 16, base + 144);
        let y = block * 256;
        for (let j = 0, is = 0, q = 0; j < 256; j += 64, is += 2, q += 32) {
            const [sc1, m1] = scaleMinK4(is, scales), [sc2, m2] = scaleMinK4(is + 1, scales);
            for (let l = 0; l < 32; l++)
                out[y + l] = d * sc1 * (qs[q + l]! & 0x0f) - dmin * m1;
            for (let l = 0; l < 32; l++)
                out[y + 32 + l] = d * sc2 * (qs[q + l]! >> 4) - dmin * m2;
            y += 64;
        }
    }
    return out;
}

function dequantizeQ6_K(bytes: Uint8Array, count: number): Float32Array {
    const out = new Float32Array(count);
    for (let block = 0; block < count / 256; block++) {
        const base = block * 210;
        const d = half(bytes, base + 208);
        let y = block * 256, ql = base, qh = base + 128, sc = base + 192;
        for (let n = 0; n < 256; n += 128) {
            for (let l = 0; l < 32; l++) {
                const is = Math.floor(l / 16);
                const scale = (k: number) => (bytes[sc + is + k]! << 24) >> 24;
                const q1 = ((bytes[ql + l]! & 0x0f) | (((bytes[qh + l]! >> 0) & 3) << 4)) - 32;
                const q2 = ((bytes[ql + l + 32]! & 0x0f) | (((bytes[qh + l]! >> 2) & 3) << 4)) - 32;
                const q3 = ((bytes[ql + l]! >> 4) | (((bytes[qh + l]! >> 4) & 3) << 4)) - 32;
                const q4 = ((bytes[ql + l + 32]! >> 4) | (((bytes[qh + l]! >> 6) & 3) << 4)) - 32;
                out[y + l] = d * scale(0) * q1;
                out[y + l + 32] = d * scale(2) * q2;
                out[y + l + 64] = d * scale(4) * q3;
                out[y + l + 96] = d * scale(6) * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
    return out;
}

/** Writes `output`: `input` with every Q8_0 / Q4_K / Q6_K tensor decoded to F32 (other types copied). */
export async function dequantizeModel(input: string, output: string): Promise<void> {
    const file = await readGgufFile(input);
    const tensors: GgufTensorInput[] = file.tensors.map((info) => {
        const bytes = file.tensorBytes(info.name);
        const decode = info.type === Q8_0 ? dequantizeQ8_0 : info.type === Q4_K ? dequantizeQ4_K : info.type === Q6_K ? dequantizeQ6_K : null;
        if (decode != null)
            return { name: info.name, dims: info.dims, type: "f32", data: decode(bytes, info.nElements) };
        if (info.type === GgmlType.F32)
            return { name: info.name, dims: info.dims, type: "f32", data: file.tensorFloat32(info.name) };
        throw new Error(`dequantizeModel: tensor ${info.name} has type ${info.typeName}, which this helper does not decode`);
    });
    const metadata = [...file.metadata].map(([key, value]) => (key === "general.file_type" ? [key, { type: "uint32", value: 0 }] as const : [key, value] as const));
    await writeGgufFile(output, { metadata, tensors, alignment: file.alignment });
}
