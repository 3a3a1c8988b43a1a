// `tiller thermo`: the temperature scan of a text — S(T), F(T), U(T), C(T) of every completion
// token's next-token distribution (or one token's) from the same logits, optionally under a
// steering vector as a run would apply it.
import type { Command } from "commander";
import { promptCompletionTokens } from "../probes/promptCompletionTokens.js";
import { textTemperatureScan, type TextTemperatureScan } from "../probes/textTemperatureScan.js";
import { parseTemperatureGrid } from "../probes/thermodynamics.js";
import type { LayerRange } from "../runtime/layers.js";
import { loadSteeringVector } from "../runtime/loadSteeringVector.js";
import type { SteeringPatch } from "../runtime/SteeringPatch.js";
import { TillerModel } from "../runtime/TillerModel.js";
import { textProbeContext } from "../runtime/contextShapes.js";
import { parseGpuLayers, parseLayers, parseVectorSpec, wholeNumberParser, type VectorSpec } from "./parseArguments.js";

interface ThermoCliOptions {
    model: string;
    prompt: string;
    completion: string;
    temperatures: string;
    token?: number;
    vector?: VectorSpec;
    layers?: LayerRange;
    fromToken?: number;
    threads?: number;
    gpuLayers: number | "auto";
    json?: boolean;
    csv?: boolean;
}

export function registerThermoCommand(program: Command): void {
    program.command("thermo")
        .description("temperature scan of a text: entropy S(T), free energy F(T), mean energy U(T) and heat capacity C(T) of each token's next-token distribution (teacher-forced)")
        .requiredOption("-m, --model <FILE>", "GGUF model file")
        .requiredOption("-p, --prompt <TEXT>", "the prompt")
        .requiredOption("--completion <TEXT>", "the completion whose tokens are scanned")
        .option("--temperatures <FROM:TO:COUNT>", "the temperature grid (geometric spacing)", "0.05:5:40")
        .option("--token <I>", "scan only completion token I (0-based)", wholeNumberParser(0))
        .option("--vector <FILE[:SCALE]>", "apply a control vector at strength SCALE, as a run would", parseVectorSpec)
        .option("--layers <A-B>", "blocks the vector acts on (default: every layer it has)", parseLayers)
        .option("--from-token <K>", "first generated token the vector acts on (0: from the prompt on)", wholeNumberParser(0))
        .option("-t, --threads <N>", "CPU threads (default: the cores available)", wholeNumberParser(1))
        .option("--gpu-layers <N|auto>", "layers to offload to the GPU", parseGpuLayers, "auto" as const)
        .option("--json", "print one JSON object", false)
        .option("--csv", "print one CSV row per token and temperature", false)
        .action(async (_options: unknown, command: Command) => {
            const options = command.opts<ThermoCliOptions>();
            const temperatures = parseTemperatureGrid(options.temperatures);
            const model = await TillerModel.load(options.model, { gpuLayers: options.gpuLayers });
            try {
                const patches: SteeringPatch[] = [];
                if (options.vector != null) {
                    const vector = await loadSteeringVector(options.vector.path, model);
                    patches.push({ id: vector.name, vector, strength: options.vector.scale, layers: options.layers, fromToken: options.fromToken });
                }
                const { promptTokens, completionTokens } = promptCompletionTokens(model, options.prompt, options.completion);
                const context = await model.createContext({ threads: options.threads, ...textProbeContext("thermo", promptTokens.length + completionTokens.length) });
                const result = await textTemperatureScan(context, promptTokens, completionTokens, { temperatures, patches, index: options.token });
                process.stdout.write(options.json ? JSON.stringify(result) + "\n" : options.csv ? toCsv(result) : toTable(result));
            } finally {
                await model.dispose();
            }
        });
}

function toCsv(result: TextTemperatureScan): string {
    const quote = (text: string) => `"${text.replace(/"/g, '""')}"`;
    const rows = result.tokens.flatMap((token) => token.temperatures.map((temperature, k) =>
        [token.index, token.id, quote(token.piece), temperature, token.entropy[k], token.freeEnergy[k], token.meanEnergy[k], token.heatCapacity[k], token.surprisal?.[k] ?? ""].join(",")));
    return ["index,id,piece,temperature,entropy,free_energy,mean_energy,heat_capacity,surprisal", ...rows].join("\n") + "\n";
}

function toTable(result: TextTemperatureScan): string {
    const at1 = result.temperatures.reduce((best, value, k) => (Math.abs(Math.log(value)) < Math.abs(Math.log(result.temperatures[best]!)) ? k : best), 0);
    const t1 = result.temperatures[at1]!;
    const lines = [
        `temperatures ${result.temperatures[0]!.toPrecision(3)}…${result.temperatures.at(-1)!.toPrecision(3)} (${result.temperatures.length}); read-outs at T=${t1.toPrecision(3)}; F, U relative to the top logit`,
        `${"#".padStart(3)}  ${"token".padEnd(14)} ${"S".padStart(7)} ${"C".padStart(7)} ${"F".padStart(8)} ${"s".padStart(7)} ${"gap".padStart(7)}  C peaks at T`,
        ...result.tokens.map((token) => `${String(token.index).padStart(3)}  ${JSON.stringify(token.piece).padEnd(14)} ${token.entropy[at1]!.toFixed(3).padStart(7)} ` +
            `${token.heatCapacity[at1]!.toFixed(3).padStart(7)} ${token.freeEnergy[at1]!.toFixed(3).padStart(8)} ${(token.surprisal?.[at1] ?? Number.NaN).toFixed(3).padStart(7)} ` +
            `${(token.logitGap ?? Number.NaN).toFixed(3).padStart(7)}  ${token.heatCapacityPeak == null ? "— (outside the grid)" : `${token.heatCapacityPeak.temperature.toFixed(3)} (C=${token.heatCapacityPeak.heatCapacity.toFixed(3)})`}`),
        `mean C(T) peaks at ${result.meanHeatCapacityPeak == null ? "— (outside the grid)" : `T=${result.meanHeatCapacityPeak.temperature.toFixed(3)}`}; ${result.elapsedMs.toFixed(0)} ms`
    ];
    return lines.join("\n") + "\n";
}
