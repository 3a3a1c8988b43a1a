// Test helper: writes an F32 copy of a quantized GGUF whose weights are exactly the quantized
// file's values (decoded by the engine's own dequantizer, engine/gguf/dequantize.ts, as ggml
// decodes them). The copy and the quantized file then hold the same weights and differ only in how
// llama.cpp computes with them: activations are converted to Q8 inside every matmul with quantized
// weights, never with F32 ones.
import { tensorValues } from "../../engine/gguf/dequantize.js";
import { readGgufFile } from "../../engine/gguf/GgufReader.js";
import { writeGgufFile, type GgufTensorInput } from "../../engine/gguf/GgufWriter.js";

/** Writes `output`: `input` with every tensor decoded to F32 (Q8_0, Q4_K, Q6_K, F16, BF16 or F32). */
export async function dequantizeModel(input: string, output: string): Promise<void> {
    const file = await readGgufFile(input);
    const tensors: GgufTensorInput[] = file.tensors.map((info) =>
        ({ name: info.name, dims: info.dims, type: "f32", data: tensorValues(file, info.name) }));
    const metadata = [...file.metadata].map(([key, value]) => (key === "general.file_type" ? [key, { type: "uint32", value: 0 }] as const : [key, value] as const));
    await writeGgufFile(output, { metadata, tensors, alignment: file.alignment });
}
