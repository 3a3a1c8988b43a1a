// `tiller sweep`: per-token susceptibility of a fixed completion to a steering vector.
import type { Command } from "commander";
import { parseAlphaGrid, susceptibilitySweep, type SweepResult } from "../probes/susceptibilitySweep.js";
import type { LayerRange } from "../runtime/layers.js";
import { loadSteeringVector } from "../runtime/loadSteeringVector.js";
import { TillerModel } from "../runtime/TillerModel.js";
import { parseGpuLayers, parseLayers, parseNumber, wholeNumberParser } from "./parseArguments.js";

interface SweepCliOptions {
    model: string;
    prompt: string;
    completion: string;
    vector: string;
    layers?: LayerRange;
    alphas: string;
    alpha0: number;
    step: number;
    perLayer?: boolean;
    threads?: number;
    gpuLayers: number | "auto";
    json?: boolean;
    csv?: boolean;
}

export function registerSweepCommand(program: Command): void {
    program.command("sweep")
        .description("per-token susceptibility: how each completion token's log-probability responds to a vector's strength (teacher-forced)")
        .requiredOption("-m, --model <FILE>", "GGUF model file")
        .requiredOption("-p, --prompt <TEXT>", "the prompt (unsteered; decoded once)")
        .requiredOption("--completion <TEXT>", "the completion whose tokens are measured")
        .requiredOption("--vector <FILE>", "control-vector GGUF")
        .option("--layers <A-B>", "blocks the patch acts on, inclusive, llama.cpp numbering (default: every layer the vector has)", parseLayers)
        .option("--alphas <FROM:TO:COUNT>", "the strength grid of the curves", "-2:2:9")
        .option("--alpha0 <A>", "where χ, curvature and the entropy response are taken", parseNumber, 0)
        .option("--step <H>", "finite-difference step", parseNumber, 0.01)
        .option("--per-layer", "also the tokens × layers matrix χ_{t,l} (the patch at one block at a time)", false)
        .option("-t, --threads <N>", "CPU threads (default: the cores available)", wholeNumberParser(1))
        .option("--gpu-layers <N|auto>", "layers to offload to the GPU", parseGpuLayers, "auto" as const)
        .option("--json", "print one JSON object", false)
        .option("--csv", "print one CSV row per token", false)
        .action(async (_options: unknown, command: Command) => {
            const options = command.opts<SweepCliOptions>();
            const model = await TillerModel.load(options.model, { gpuLayers: options.gpuLayers });
            try {
                const vector = await loadSteeringVector(options.vector, model);
                const layerKeys = [...vector.directions.keys()].sort((a, b) => a - b);
                const layers = options.layers ?? { first: layerKeys[0] ?? 1, last: layerKeys.at(-1) ?? 1 };
                // precise: F16 rounding would swamp the small finite differences
                const context = await model.createContext({ threads: options.threads, contextSize: 4096, batchSize: 2048, sequences: 2, precise: true });
                const result = await susceptibilitySweep(context, options.prompt, options.completion, {
                    vector, layers, alphas: parseAlphaGrid(options.alphas), alpha0: options.alpha0, step: options.step, perLayer: options.perLayer
                });
                process.stdout.write(options.json ? JSON.stringify(result) + "\n" : options.csv ? toCsv(result) : toTable(result));
            } finally {
                await model.dispose();
            }
        });
}

function toCsv(result: SweepResult): string {
    const layers = Object.keys(result.vectorNorms).map(Number);
    const header = ["index", "id", "piece", "chi", "curvature", "entropy_response",
        ...result.alphas.map((alpha) => `logp@${alpha}`), ...(result.tokens[0]?.chiPerLayer != null ? layers.map((layer) => `chi_L${layer}`) : [])];
    const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
    const rows = result.tokens.map((token) => [token.index, token.id, quote(token.piece), token.chi, token.curvature, token.entropyResponse,
        ...token.logprobs, ...(token.chiPerLayer ?? [])].join(","));
    return [header.join(","), ...rows].join("\n") + "\n";
}

function toTable(result: SweepResult): string {
    const norms = Object.entries(result.vectorNorms).map(([layer, norm]) => `L${layer} ${norm.toFixed(3)}`).join(", ");
    const lines = [
        `α grid ${result.alphas.map((alpha) => alpha.toFixed(2)).join(" ")}; χ at α₀=${result.alpha0} (step ${result.step}); vector norms ${norms}`,
        `${"#".padStart(3)}  ${"token".padEnd(14)} ${"χ".padStart(9)} ${"curv".padStart(9)} ${"dH/dα".padStart(9)}  log p at the grid`,
        ...result.tokens.map((token) => `${String(token.index).padStart(3)}  ${JSON.stringify(token.piece).padEnd(14)} ${token.chi.toFixed(4).padStart(9)} ` +
            `${token.curvature.toFixed(3).padStart(9)} ${token.entropyResponse.toFixed(4).padStart(9)}  ${token.logprobs.map((value) => value.toFixed(3)).join(" ")}`),
        `Σχ = ${result.totalChi.toFixed(4)} (activation-space linear response of the completion's log-likelihood); ` +
        `${result.decodes.prefix} prefix + ${result.decodes.suffix} suffix decodes in ${result.elapsedMs.toFixed(0)} ms`
    ];
    return lines.join("\n") + "\n";
}
