// `tiller quantize IN OUT --type TYPE`: writes a quantized copy of a model through libllama's own
// llama_model_quantize, with per-tensor progress on stderr and a one-line summary on stdout.
import { InvalidArgumentError, type Command } from "commander";
import { TillerError } from "../protocol/TillerError.js";
import { parseQuantizationType, quantizationTypes, quantizeModel, type QuantizationType } from "../runtime/quantizeModel.js";
import { wholeNumberParser } from "./parseArguments.js";
import { progressLine } from "./progressLine.js";

interface QuantizeCliOptions {
    type: QuantizationType;
    threads?: number;
    json?: boolean;
}

export function registerQuantizeCommand(program: Command): void {
    program.command("quantize")
        .description("write a quantized copy of an F32/F16/BF16 model with llama.cpp's own quantizer (the original is kept)")
        .argument("<IN>", "the model to quantize (F32, F16 or BF16 weights)")
        .argument("<OUT>", "the quantized GGUF to write (replaced only once it is complete)")
        .requiredOption("--type <TYPE>", `quantization type: ${Object.keys(quantizationTypes).join(", ")}`, parseTypeOption)
        .option("-t, --threads <N>", "quantization threads (default: the cores available)", wholeNumberParser(1))
        .option("--json", "print one JSON object instead of the summary line", false)
        .action(async (input: string, output: string, options: QuantizeCliOptions) => {
            const progress = progressLine("quantizing", "tensors");
            const result = await quantizeModel(input, output, {
                type: options.type,
                threads: options.threads,
                onProgress: ({ done, total }) => progress.update(done, total)
            }).finally(() => progress.finish());
            if (options.json === true) {
                process.stdout.write(`${JSON.stringify(result)}\n`);
                return;
            }
            const types = Object.entries(result.tensorTypes).map(([name, count]) => `${count} ${name}`).join(", ");
            process.stdout.write(`wrote ${result.output}: ${result.type}, ${result.tensorCount} tensors (${types}), ` +
                `${result.inputBytes.toLocaleString("en-US")} → ${result.outputBytes.toLocaleString("en-US")} bytes, ` +
                `${result.seconds.toFixed(2)} s\n`);
        });
}

function parseTypeOption(text: string): QuantizationType {
    try {
        return parseQuantizationType(text);
    } catch (error) {
        throw new InvalidArgumentError(error instanceof TillerError ? error.message : String(error));
    }
}
