// `tiller suspect --seed N`: a model with a hidden conditional patch drawn from the seed, served as
// an OpenAI-compatible completions endpoint on loopback, to practise black-box localisation on.
// The answer is written only with --reveal FILE.
import fs from "node:fs";
import type { Command } from "commander";
import { drawSuspect } from "../blackbox/drawSuspect.js";
import { HiddenPatchModel } from "../blackbox/HiddenPatchModel.js";
import { startSuspectServer } from "../blackbox/suspectServer.js";
import { DEFAULT_MODEL_FILE, defaultModelPath } from "../models/defaultModel.js";
import { TillerError } from "../protocol/TillerError.js";
import { TillerModel } from "../runtime/TillerModel.js";
import { SUSPECT_CONTEXT_SIZE } from "../runtime/contextShapes.js";
import { wholeNumberParser } from "./parseArguments.js";

interface SuspectCliOptions {
    seed: number;
    model?: string;
    kind?: string;
    port: number;
    host: string;
    threads?: number;
    reveal?: string;
    apiKey?: string;
}

export function registerSuspectCommand(program: Command): void {
    program.command("suspect")
        .description("serve a model with a hidden conditional patch drawn from --seed as an OpenAI-compatible /v1/completions endpoint (loopback only)")
        .requiredOption("--seed <N>", "draws the trigger, layers, patch direction and strength", wholeNumberParser(0))
        .option("-m, --model <FILE>", `GGUF model (default: models/${DEFAULT_MODEL_FILE})`)
        .option("--kind <text|projection>", "the trigger's kind (default: drawn from the seed)")
        .option("--port <n>", "TCP port; 0 picks a free one", wholeNumberParser(0), 0)
        .option("--host <address>", "loopback address to bind", "127.0.0.1")
        .option("-t, --threads <N>", "CPU threads (default: the cores available)", wholeNumberParser(1))
        .option("--reveal <FILE>", "write the hidden patch (the answer) to FILE as JSON")
        .option("--api-key <KEY>", "the key clients must send (default: a random one per launch, printed)")
        .action(async (options: SuspectCliOptions) => {
            if (options.port > 65535)
                throw new TillerError("INVALID_ARGUMENT", `--port must be a port number (0-65535), got ${options.port}`);
            if (options.kind != null && options.kind !== "text" && options.kind !== "projection")
                throw new TillerError("INVALID_ARGUMENT", `--kind must be text or projection, got "${options.kind}"`);
            const file = options.model ?? defaultModelPath();
            if (file == null)
                throw new TillerError("FILE_NOT_FOUND", `no model given and models/${DEFAULT_MODEL_FILE} is absent: pass -m FILE`);
            const model = await TillerModel.load(file);
            try {
                const context = await model.createContext({ threads: options.threads, contextSize: Math.min(SUSPECT_CONTEXT_SIZE, model.shape.nCtxTrain || SUSPECT_CONTEXT_SIZE) });
                const drawn = await drawSuspect(context, options.seed, { kind: options.kind as "text" | "projection" | undefined });
                if (options.reveal != null)
                    fs.writeFileSync(options.reveal, JSON.stringify({ model: file, ...drawn.answer }, null, 2) + "\n");
                const server = await startSuspectServer(new HiddenPatchModel(context, drawn.patch), { host: options.host, port: options.port, token: options.apiKey });
                process.stdout.write(`Suspect (seed ${options.seed}) on ${file}\n`);
                process.stdout.write(`Endpoint: ${server.baseUrl}\nAPI key: ${server.token}\n`);
                if (options.reveal != null)
                    process.stdout.write(`The answer is in ${options.reveal}\n`);
                await new Promise<void>((resolve) => {
                    process.once("SIGINT", () => resolve());
                    process.once("SIGTERM", () => resolve());
                });
                await server.close();
            } finally {
                await model.dispose();
            }
        });
}
