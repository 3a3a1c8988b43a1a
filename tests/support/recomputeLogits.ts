// An independent check of capture: the logits recomputed in TypeScript from a captured last-block
// output with the file's own output norm and output matrix (dequantized from the GGUF), soft-capping
// included, to compare with the logits llama.cpp computed. Nothing here calls the engine.
import type { GgufFile } from "../../engine/gguf/GgufFile.js";
import { tensorValues } from "../../engine/gguf/dequantize.js";

export interface OutputHead {
    nEmbd: number;
    nVocab: number;
    normWeight: Float32Array;
    eps: number;
    /** [nVocab × nEmbd]: row v is the output direction of token v (output.weight, or token_embd.weight when tied) */
    matrix: Float32Array;
    bias: Float32Array | null;
    /** final_logit_softcapping (gemma2), or null */
    softcap: number | null;
    /** the tensor the matrix came from and its type */
    matrixName: string;
    matrixType: string;
}

export function readOutputHead(file: GgufFile): OutputHead {
    const arch = file.architecture ?? "llama";
    if (file.get(`${arch}.logit_scale`) != null)
        throw new Error(`${arch}.logit_scale is not handled by this check`);
    const matrixName = file.tensor("output.weight") != null ? "output.weight" : "token_embd.weight";
    const info = file.tensor(matrixName)!;
    const [nEmbd, nVocab] = info.dims as [number, number];
    return {
        nEmbd,
        nVocab,
        normWeight: tensorValues(file, "output_norm.weight"),
        eps: file.requireNumber(`${arch}.attention.layer_norm_rms_epsilon`),
        matrix: tensorValues(file, matrixName),
        bias: file.tensor("output.bias") != null ? tensorValues(file, "output.bias") : null,
        softcap: file.getNumber(`${arch}.final_logit_softcapping`) ?? null,
        matrixName,
        matrixType: info.typeName
    };
}

/** logits = softcap(W · (rmsnorm(h) ⊙ g) + b), in float64. */
export function recomputeLogits(head: OutputHead, h: Float32Array, options: { softcap?: boolean } = {}): Float64Array {
    const { nEmbd, nVocab } = head;
    let sumSquares = 0;
    for (let i = 0; i < nEmbd; i++)
        sumSquares += h[i]! * h[i]!;
    const scale = 1 / Math.sqrt(sumSquares / nEmbd + head.eps);
    const x = new Float64Array(nEmbd);
    for (let i = 0; i < nEmbd; i++)
        x[i] = h[i]! * scale * head.normWeight[i]!;
    const logits = new Float64Array(nVocab);
    for (let v = 0; v < nVocab; v++) {
        let z = head.bias?.[v] ?? 0;
        const row = v * nEmbd;
        for (let i = 0; i < nEmbd; i++)
            z += head.matrix[row + i]! * x[i]!;
        if (head.softcap != null && (options.softcap ?? true))
            z = head.softcap * Math.tanh(z / head.softcap);
        logits[v] = z;
    }
    return logits;
}

/** max_v |a_v − b_v| / max_v |b_v| */
export function relativeMaxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < b.length; i++) {
        diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
        scale = Math.max(scale, Math.abs(b[i]!));
    }
    return diff / scale;
}
