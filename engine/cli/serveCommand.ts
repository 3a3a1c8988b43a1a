// `tiller serve`: the engine and the built renderer for a browser, on loopback, behind a per-launch
// token. Used for headless GPU boxes, end-to-end tests, and `npm start` where Electron is absent.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { DEFAULT_MODEL_FILE, defaultModelPath } from "../models/defaultModel.js";
import { parseGpuChoice } from "../runtime/TillerBackend.js";
import { decodePriorityFromEnv, parseDecodePriority, type DecodePriority } from "../runtime/decodePriority.js";
import { EngineProcessHost } from "../service/transport/EngineProcessHost.js";
import { startLoopbackServer } from "../service/transport/loopbackServer.js";
import { wholeNumberParser } from "./parseArguments.js";

/** dist/renderer of this checkout, found from source (engine/cli) or compiled (dist/engine/cli) code */
export function rendererBuildDir(): string | undefined {
    let dir = path.dirname(fileURLToPath(import.meta.url));
    for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string }).name === "tiller") {
            const built = path.join(dir, "dist", "renderer");
            return fs.existsSync(path.join(built, "index.html")) ? built : undefined;
        }
    }
    return undefined;
}

interface ServeOptions {
    port: number;
    host: string;
    /** a path; false with --no-model; absent: the default model (the toy world) when it is there */
    model?: string | false;
    threads?: number;
    dataDir?: string;
    exportDir?: string;
    gpu?: string;
    decodePriority?: DecodePriority;
}

export function registerServeCommand(program: Command): void {
    program.command("serve")
        .description("serve the lab to a browser on this machine (loopback only, per-launch token)")
        .option("--port <n>", "TCP port; 0 picks a free one", wholeNumberParser(0), 7860)
        .option("--host <address>", "loopback address to bind (127.0.0.1, ::1 or localhost)", "127.0.0.1")
        .option("-m, --model <file>", `load this GGUF model at start (default: models/${DEFAULT_MODEL_FILE}, the toy world, when present)`)
        .option("--no-model", "start without a model")
        .option("--gpu <backend>", "the engine's llama.cpp backend: auto, cuda, vulkan, metal or cpu (default: auto, or $TILLER_GPU)")
        .option("--threads <n>", "threads per context (default: the cores available, one fewer at --decode-priority background)", wholeNumberParser(1))
        .option("--decode-priority <p>", "normal, or background: decode at a lowered priority, on one core fewer by default, so the UI finds a core (default: background, or $TILLER_DECODE_PRIORITY)", parseDecodePriority)
        .option("--data-dir <dir>", "where the vector library lives (default: ~/.tiller, or $TILLER_DATA_DIR)")
        .option("--export-dir <dir>", "the folder exports requested from the browser may be written to (default: your home and temp folders, or $TILLER_EXPORT_DIRS)")
        .action(async (options: ServeOptions) => {
            const port = options.port;
            if (port > 65535)
                throw new Error(`--port must be a port number (0-65535), got ${port}`);
            // the engine runs in a child process: a native crash restarts it, the server stays up
            const model = options.model === false ? undefined : options.model ?? defaultModelPath() ?? undefined;
            if (options.gpu != null)
                parseGpuChoice(options.gpu); // a clear error here, not a dead engine later
            if (options.exportDir != null)
                process.env.TILLER_EXPORT_DIRS = path.resolve(options.exportDir); // the engine child inherits it (writePolicy.ts)
            // a bad $TILLER_DECODE_PRIORITY is a clear error here, not an engine that fails at every restart
            const decodePriority = options.decodePriority ?? decodePriorityFromEnv();
            const engine = await EngineProcessHost.start({ dataDir: options.dataDir, threads: options.threads, model, gpu: options.gpu, decodePriority });
            const staticDir = rendererBuildDir();
            const server = await startLoopbackServer(engine, { host: options.host, port, staticDir }).catch(async (error: unknown) => {
                await engine.dispose();
                throw error;
            });
            if (model != null)
                process.stdout.write(`Model: ${model}\n`);
            process.stdout.write(`Tiller is serving at ${server.url}\n`);
            if (staticDir == null)
                process.stdout.write("(the renderer is not built: run `npm run build`; the RPC endpoint works without it)\n");
            await new Promise<void>((resolve) => {
                const stop = () => resolve();
                process.once("SIGINT", stop);
                process.once("SIGTERM", stop);
            });
            await server.close();
            await engine.dispose();
        });
}
