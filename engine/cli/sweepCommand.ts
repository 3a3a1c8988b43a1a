// `tiller sweep`: per-token susceptibility of a fixed completion to a steering vector.
import type { Command } from "commander";
import { DEFAULT_RELATIVE_STEP, parseAlphaGrid, susceptibilitySweep, type SweepResult } from "../probes/susceptibilitySweep.js";
import type { LayerRange } from "../runtime/layers.js";
import { loadSteeringVector } from "../runtime/loadSteeringVector.js";
import { TillerModel } from "../runtime/TillerModel.js";
import { FIXED_PROBE_CONTEXT } from "../runtime/contextShapes.js";
import { parseGpuLayers, parseLayers, parseNumber, wholeNumberParser } from "./parseArguments.js";

interface SweepCliOptions {
    model: string;
    prompt: string;
    completion: string;
    vector: string;
    layers?: LayerRange;
    alphas: string;
    alpha0: number;
    fromToken: number;
    step: number | "auto";
    relativeStep?: number;
    perLayer?: boolean;
    linearResponse: boolean;
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
        .option("--from-token <K>", "which run χ is the slope of: the generated token the patch acts from, as in `generate --from-token` (0: from the prompt on)", wholeNumberParser(0), 0)
        .option("--step <H|auto>", "finite-difference step in α; auto: c·‖h_l‖/‖v_l‖, large enough for quantized models", (text: string) => (text === "auto" ? "auto" as const : parseNumber(text)), "auto" as const)
        .option("--relative-step <C>", `c of the automatic step (default: ${DEFAULT_RELATIVE_STEP} for F32 weights, 0.05 for F16, 0.1 for BF16 and quantized weights)`, parseNumber)
        .option("--per-layer", "also the tokens × layers matrix χ_{t,l} (every block at α₀, one moved at a time; Σ_l χ_{t,l} = χ_t)", false)
        .option("--no-linear-response", "skip the Fisher information I_t and the FDT gap (they keep every logit of the stencil)")
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
                const context = await model.createContext({ threads: options.threads, ...FIXED_PROBE_CONTEXT, sequences: 2, precise: true });
                const result = await susceptibilitySweep(context, options.prompt, options.completion, {
                    vector, layers, alphas: parseAlphaGrid(options.alphas), alpha0: options.alpha0, fromToken: options.fromToken,
                    step: options.step, relativeStep: options.relativeStep, perLayer: options.perLayer, linearResponse: options.linearResponse
                });
                process.stdout.write(options.json ? JSON.stringify(result) + "\n" : options.csv ? toCsv(result) : toTable(result));
            } finally {
                await model.dispose();
            }
        });
}

function toCsv(result: SweepResult): string {
    const layers = Object.keys(result.vectorNorms).map(Number);
    const perLayer = result.tokens[0]?.chiPerLayer != null;
    const header = ["index", "id", "piece", "chi", "chi_error", "curvature", "entropy_response", "fisher", "fdt_gap", "fdt_gap_error",
        ...result.alphas.map((alpha) => `logp@${alpha}`), ...(perLayer ? [...layers.map((layer) => `chi_L${layer}`), ...layers.map((layer) => `chi_error_L${layer}`)] : [])];
    const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
    const rows = result.tokens.map((token) => [token.index, token.id, quote(token.piece), token.chi, token.chiError, token.curvature, token.entropyResponse,
        token.fisher ?? "", token.fdtGap ?? "", token.fdtGapError ?? "", ...token.logprobs, ...(token.chiPerLayer ?? []), ...(token.chiPerLayerError ?? [])].join(","));
    return [header.join(","), ...rows].join("\n") + "\n";
}

function toTable(result: SweepResult): string {
    const norms = Object.entries(result.vectorNorms).map(([layer, norm]) => `L${layer} ${norm.toFixed(3)}`).join(", ");
    const run = result.fromToken === 0 ? "steered from the prompt on" : `steered from generated token ${result.fromToken}`;
    const fixed = (value: number | null, digits: number) => (value == null ? "—" : value.toFixed(digits));
    const lines = [
        `χ at α₀=${result.alpha0} of the run ${run}; step h=${result.step.toPrecision(3)} (${result.stepRule}${result.stepRule === "auto" ? `, c=${result.relativeStep}` : ""}); vector norms ${norms}`,
        `${"#".padStart(3)}  ${"token".padEnd(14)} ${"χ".padStart(9)} ${"±".padStart(8)} ${"curv".padStart(9)} ${"dH/dα".padStart(9)} ${"I_t".padStart(8)} ${"FDT gap".padStart(9)}  log p at the grid`,
        ...result.tokens.map((token) => `${String(token.index).padStart(3)}  ${JSON.stringify(token.piece).padEnd(14)} ${token.chi.toFixed(4).padStart(9)} ` +
            `${token.chiError.toExponential(1).padStart(8)} ${token.curvature.toFixed(3).padStart(9)} ${token.entropyResponse.toFixed(4).padStart(9)} ` +
            `${fixed(token.fisher, 4).padStart(8)} ${(token.fdtGap == null ? "—" : token.fdtGap.toExponential(1)).padStart(9)}  ${token.logprobs.map((value) => value.toFixed(3)).join(" ")}`),
        `Σχ = ${result.totalChi.toFixed(4)} ± ${result.totalChiError.toExponential(1)} (activation-space linear response of the completion's log-likelihood)`,
        `Λ(α) = Σ log p: ${result.pathFreeEnergy.map((value) => value.toFixed(3)).join(" ")}; α̂_ML = ${result.alphaML.alpha.toFixed(3)}` +
        `${result.alphaML.onEdge ? " (at the grid's edge: widen the grid)" : ""}`,
        ...(result.sumRule != null ? [`sum rule Σ_l χ_{t,l} = χ_t: worst gap ${result.sumRule.maxGap.toExponential(1)} (${result.sumRule.maxGapInErrors.toFixed(1)} errors)`] : []),
        ...(result.linearResponseNote != null ? [`I_t and the FDT gap: ${result.linearResponseNote}`] : []),
        `${result.decodes.prefix} prefix + ${result.decodes.suffix} suffix decodes in ${result.elapsedMs.toFixed(0)} ms`
    ];
    return lines.join("\n") + "\n";
}
