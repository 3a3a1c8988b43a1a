// Memory bar (DESIGN.md §6): with a model loaded, the engine's resident memory may grow by at most
// the model file + its KV cache + 15% (weights held once, mmap'd; no activation copies).
// Measured in a fresh process (memoryProbe.ts), so nothing else the bench did is counted.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";

export interface MemoryShape {
    nLayer: number;
    nEmbd: number;
    /** K/V width per layer (n_embd_k_gqa = n_embd_v_gqa) */
    nEmbdKv: number;
}

/** llama.cpp's default F16 K and V cache for `contextSize` tokens. */
export function kvCacheBytes(shape: MemoryShape, contextSize: number): number {
    return 2 * contextSize * shape.nLayer * shape.nEmbdKv * 2;
}

export function benchMemory(modelFile: string, shape: MemoryShape, contextSize: number, threads: number): string[] {
    const probe = fileURLToPath(new URL("./memoryProbe.js", import.meta.url));
    const output = execFileSync(process.execPath, [probe, modelFile, String(contextSize), String(threads)], { encoding: "utf8" });
    const { growth } = JSON.parse(output.trim().split("\n").at(-1)!) as { growth: number };
    const file = fs.statSync(modelFile).size;
    const kv = kvCacheBytes(shape, contextSize);
    const budget = (file + kv) * 1.15;
    const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
    return [
        `memory (context ${contextSize}): resident growth with the model loaded ${mib(growth)}; file ${mib(file)} + KV cache ${mib(kv)} = ${mib(file + kv)}`,
        `resident / (file + KV)                ${(growth / (file + kv)).toFixed(3)}  (target ≤ 1.15: ${growth <= budget ? "met" : "MISSED"})`
    ];
}
