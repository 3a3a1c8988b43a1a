// `tiller locate --endpoint URL -p PROMPT`: which tokens of the prompt switch a hidden patch on, from
// log-probabilities alone (engine/blackbox/locateTrigger.ts), with the queries counted and bounded.
import type { Command } from "commander";
import { HttpCompletionsOracle } from "../blackbox/HttpCompletionsOracle.js";
import { locateTrigger, type LocateResult } from "../blackbox/locateTrigger.js";
import { TillerError } from "../protocol/TillerError.js";
import { wholeNumberParser } from "./parseArguments.js";

interface LocateCliOptions {
    endpoint: string;
    apiKey?: string;
    model?: string;
    prompt: string;
    probe?: string;
    bridge?: string;
    carrier?: string;
    budget: number;
    timeout: number;
    json?: boolean;
}

export function registerLocateCommand(program: Command): void {
    program.command("locate")
        .description("black box: find which prompt tokens switch a hidden patch on, through an OpenAI-compatible /v1/completions endpoint with logprobs")
        .requiredOption("--endpoint <URL>", "e.g. http://127.0.0.1:8080/v1 (llama.cpp server, vLLM, LM Studio, tiller suspect)")
        .option("--api-key <KEY>", "sent as a Bearer token (default: $TILLER_API_KEY)")
        .option("--model <NAME>", "the request's model field, for servers that need one")
        .requiredOption("-p, --prompt <TEXT>", "a prompt the patch is thought to react to")
        .option("--probe <TEXT>", "the continuation whose log-probability is watched (default: the endpoint's own greedy continuation)")
        .option("--bridge <TEXT>", "neutral text put between each tested prefix and the probe")
        .option("--carrier <TEXT>", "neutral text candidate spans are inserted into for the sufficiency test")
        .option("--budget <N>", "most queries to send", wholeNumberParser(1), 400)
        .option("--timeout <S>", "seconds to wait for each answer", wholeNumberParser(1), 30)
        .option("--json", "print one JSON object", false)
        .action(async (options: LocateCliOptions) => {
            const apiKey = options.apiKey ?? process.env.TILLER_API_KEY;
            const oracle = new HttpCompletionsOracle({ endpoint: options.endpoint, apiKey, model: options.model, budget: options.budget, timeoutMs: options.timeout * 1000 });
            const controller = new AbortController();
            const stop = () => controller.abort();
            process.once("SIGINT", stop);
            try {
                const result = await locateTrigger(oracle, {
                    prompt: options.prompt, probe: options.probe, bridge: options.bridge, carrier: options.carrier, signal: controller.signal
                });
                process.stdout.write(options.json ? JSON.stringify(result) + "\n" : formatLocateResult(result));
            } catch (error) {
                if (error instanceof TillerError && error.code === "ABORTED")
                    throw new TillerError("ABORTED", `cancelled after ${oracle.queries} queries`);
                throw error;
            } finally {
                process.off("SIGINT", stop);
            }
        });
}

export function formatLocateResult(result: LocateResult): string {
    const fixed = (value: number | null, digits = 1) => (value == null ? "—" : value.toFixed(digits));
    const lines = [
        `${result.switchFound ? "A switch was found" : "No clear switch"}: ${result.queries} of ${result.budget} queries` +
        `${result.budgetExhausted ? " (budget spent)" : ""}, ${result.mode} oracle, ${(result.wallMs / 1000).toFixed(1)} s`,
        `probe: ${JSON.stringify(result.probe)}`,
        "rank  token            step  step z    drop  drop z",
        ...result.ranking.slice(0, 5).map((index, rank) => {
            const unit = result.units[index]!;
            return `${String(rank + 1).padStart(4)}  ${JSON.stringify(unit.text).padEnd(14)} ${fixed(unit.step).padStart(6)} ${fixed(unit.stepZ).padStart(7)} ${fixed(unit.drop).padStart(7)} ${fixed(unit.dropZ).padStart(7)}`;
        }),
        ...result.spans.map((span) => `span ${JSON.stringify(span.text)} in the carrier: gain ${fixed(span.gain)} → ${span.sufficient == null ? "not tested" : span.sufficient ? "sufficient" : "not sufficient"}`)
    ];
    return lines.join("\n") + "\n";
}
