// `tiller explain`: explaining a known run. Given the patch the run was produced with (--applied),
// its activations are re-created teacher-forced and compared with a clean reference on the same
// tokens: per-token KL and Δ log-prob, and from Δh the onset, first layer, best library vector and
// α̂. This knows the answer by construction; blind detection from a transcript is `tiller detect`.
import type { Command } from "commander";
import { TillerError } from "../protocol/TillerError.js";
import { detectPatch } from "../probes/detectPatch.js";
import { teacherForce } from "../probes/teacherForce.js";
import { loadSteeringVector } from "../runtime/loadSteeringVector.js";
import type { SteeringPatch } from "../runtime/SteeringPatch.js";
import { TillerModel } from "../runtime/TillerModel.js";
import { FIXED_PROBE_CONTEXT } from "../runtime/contextShapes.js";
import { collect, parseGpuLayers, parseLayers, parseVectorSpec, wholeNumberParser, type VectorSpec } from "./parseArguments.js";
import type { LayerRange } from "../runtime/layers.js";

interface ExplainCliOptions {
    model: string;
    prompt?: string;
    completion?: string;
    library: string[];
    applied?: VectorSpec[];
    layers?: LayerRange;
    fromToken?: number;
    threads?: number;
    gpuLayers: number | "auto";
    json?: boolean;
}

export function registerExplainCommand(program: Command): void {
    program.command("explain")
        .description("explain a known run: re-create it with the patch it was produced with (--applied) and compare with a clean reference: KL, Δ log-prob, onset, layer, vector, α̂")
        .requiredOption("-m, --model <FILE>", "GGUF model file")
        .option("-p, --prompt <TEXT>", "the run's prompt")
        .option("--completion <TEXT>", "the run's generated text")
        .option("--library <FILE>", "a control vector the patch may have used; repeatable", collect((text: string) => text), [])
        .option("--applied <FILE[:SCALE]>", "the patch the observed run was produced with (its activations are re-created teacher-forced)", collect(parseVectorSpec))
        .option("--layers <A-B>", "blocks of the applied patch", parseLayers)
        .option("--from-token <K>", "onset of the applied patch (generated-token index)", wholeNumberParser(0))
        .option("-t, --threads <N>", "CPU threads (default: the cores available)", wholeNumberParser(1))
        .option("--gpu-layers <N|auto>", "layers to offload to the GPU", parseGpuLayers, "auto" as const)
        .option("--json", "print one JSON object", false)
        .action(async (_options: unknown, command: Command) => {
            const options = command.opts<ExplainCliOptions>();
            if (options.library.length === 0)
                throw new TillerError("INVALID_ARGUMENT", "give the candidate vectors with --library FILE (repeatable)");
            const model = await TillerModel.load(options.model, { gpuLayers: options.gpuLayers });
            try {
                const library = await Promise.all(options.library.map((file) => loadSteeringVector(file, model)));
                const context = await model.createContext({ threads: options.threads, ...FIXED_PROBE_CONTEXT, precise: true });
                if (options.prompt == null || options.completion == null)
                    throw new TillerError("INVALID_ARGUMENT", "give the run with --prompt and --completion");
                const promptTokens = model.tokenize(options.prompt);
                const tokens = model.tokenize(options.prompt + options.completion);
                const applied: SteeringPatch[] = await Promise.all((options.applied ?? []).map(async (spec, i) => ({
                    id: `applied${i}`, vector: await loadSteeringVector(spec.path, model), strength: spec.scale,
                    layers: options.layers, fromToken: options.fromToken
                })));
                const report = detectPatch(await teacherForce(context, tokens, promptTokens.length, applied),
                    await teacherForce(context, tokens, promptTokens.length, []), library);
                if (options.json) {
                    process.stdout.write(JSON.stringify(report) + "\n");
                    return;
                }
                const best = report.matches[0];
                process.stdout.write([
                    report.steered ? `steered: from generated token ${report.onsetToken} (position ${report.onsetPosition}), first at block ${report.firstLayer}` : "not steered: the run matches the clean reference",
                    ...(best != null ? [`best match: ${best.name} (cosine ${best.cosine.toFixed(4)}), strength α̂ = ${best.strength.toFixed(4)} (vector norm ${best.norm.toFixed(3)} at that block)`] : []),
                    `max KL ${Math.max(0, ...report.kl).toExponential(3)}; per token: ${report.kl.map((value) => value.toExponential(1)).join(" ")}`
                ].join("\n") + "\n");
            } finally {
                await model.dispose();
            }
        });
}
