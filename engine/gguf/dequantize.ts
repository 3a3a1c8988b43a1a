/**
 * Quantized GGUF tensors back to float32, for checks that recompute what llama.cpp computes
 * (e.g. logits from a captured block output). Block layouts are ggml's (`ggml-common.h`):
 *
 *   Q8_0  32 values:  d (f16) · qs[32] (int8)                       x = d·q
 *   Q4_K  256 values: d, dmin (f16) · scales[12] (6-bit scale/min pairs for 8 sub-blocks of 32)
 *                     · qs[128] (4-bit; a byte holds value l of sub-block 2j and 2j+1)   x = d·sc·q − dmin·m
 *   Q6_K  256 values: ql[128] (low 4 bits) · qh[64] (high 2 bits) · scales[16] (int8, one per 16 values)
 *                     · d (f16)                                     x = d·sc·(q − 32)
 *
 * F32, F16 and BF16 go through GgufFile.tensorFloat32.
 */
import { float16BitsToFloat32 } from "./Float16.js";
import type { GgufFile } from "./GgufFile.js";
import { GgufError } from "./GgufError.js";

/** A tensor's values as float32, whatever its type among F32, F16, BF16, Q8_0, Q4_K, Q6_K. */
export function tensorValues(file: GgufFile, name: string): Float32Array {
    const info = file.tensor(name);
    if (info === undefined)
        throw new GgufError("NOT_FOUND", `tensor "${name}" is not in the file`);
    if (info.typeName === "F32" || info.typeName === "F16" || info.typeName === "BF16")
        return file.tensorFloat32(name);
    const bytes = file.tensorBytes(name);
    const out = new Float32Array(info.nElements);
    switch (info.typeName) {
        case "Q8_0": dequantizeQ8_0(bytes, out); break;
        case "Q4_K": dequantizeQ4_K(bytes, out); break;
        case "Q6_K": dequantizeQ6_K(bytes, out); break;
        default:
            throw new GgufError("UNSUPPORTED_TYPE", `tensor "${name}" has type ${info.typeName}, which this reader cannot dequantize (F32, F16, BF16, Q8_0, Q4_K, Q6_K)`);
    }
    return out;
}

function half(bytes: Uint8Array, at: number): number {
    return float16BitsToFloat32(bytes[at]! | (bytes[at + 1]! << 8));
}

export function dequantizeQ8_0(bytes: Uint8Array, out: Float32Array): void {
    const blocks = out.length / 32;
    for (let b = 0; b < blocks; b++) {
        const base = b * 34;
        const d = half(bytes, base);
        for (let i = 0; i < 32; i++)
            out[b * 32 + i] = d * ((bytes[base + 2 + i]! << 24) >> 24);
    }
}

/** The 6-bit scale and min of sub-block j (0..7) from Q4_K's 12 packed bytes. */
function scaleMinK4(scales: Uint8Array, at: number, j: number): [number, number] {
    if (j < 4)
        return [scales[at + j]! & 63, scales[at + j + 4]! & 63];
    return [
        (scales[at + j + 4]! & 0xf) | ((scales[at + j - 4]! >> 6) << 4),
        (scales[at + j + 4]! >> 4) | ((scales[at + j]! >> 6) << 4)
    ];
}

export function dequantizeQ4_K(bytes: Uint8Array, out: Float32Array): void {
    const blocks = out.length / 256;
    for (let b = 0; b < blocks; b++) {
        const base = b * 144;
        const d = half(bytes, base);
        const dmin = half(bytes, base + 2);
        const scalesAt = base + 4;
        const qsAt = base + 16;
        let y = b * 256;
        for (let chunk = 0; chunk < 4; chunk++) { // 64 values: the low then the high nibbles of 32 bytes
            const [sc1, m1] = scaleMinK4(bytes, scalesAt, 2 * chunk);
            const [sc2, m2] = scaleMinK4(bytes, scalesAt, 2 * chunk + 1);
            const q = qsAt + 32 * chunk;
            for (let l = 0; l < 32; l++) out[y++] = d * sc1 * (bytes[q + l]! & 0xf) - dmin * m1;
            for (let l = 0; l < 32; l++) out[y++] = d * sc2 * (bytes[q + l]! >> 4) - dmin * m2;
        }
    }
}

export function dequantizeQ6_K(bytes: Uint8Array, out: Float32Array): void {
    const blocks = out.length / 256;
    for (let b = 0; b < blocks; b++) {
        const base = b * 210;
        const d = half(bytes, base + 208);
        for (let half128 = 0; half128 < 2; half128++) {
            const ql = base + 64 * half128;
            const qh = base + 128 + 32 * half128;
            const sc = base + 192 + 8 * half128;
            const y = b * 256 + 128 * half128;
            for (let l = 0; l < 32; l++) {
                const is = l >> 4;
                const scale = (k: number) => (bytes[sc + is + k]! << 24) >> 24;
                const q1 = ((bytes[ql + l]! & 0xf) | (((bytes[qh + l]! >> 0) & 3) << 4)) - 32;
                const q2 = ((bytes[ql + l + 32]! & 0xf) | (((bytes[qh + l]! >> 2) & 3) << 4)) - 32;
                const q3 = ((bytes[ql + l]! >> 4) | (((bytes[qh + l]! >> 4) & 3) << 4)) - 32;
                const q4 = ((bytes[ql + l + 32]! >> 4) | (((bytes[qh + l]! >> 6) & 3) << 4)) - 32;
                out[y + l] = d * scale(0) * q1;
                out[y + l + 32] = d * scale(2) * q2;
                out[y + l + 64] = d * scale(4) * q3;
                out[y + l + 96] = d * scale(6) * q4;
            }
        }
    }
}
