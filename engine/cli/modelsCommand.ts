// `tiller models list|download|catalog` and `tiller backends`: the models already on this machine,
// downloading one (with resume and checks), the recommended catalog, and which llama.cpp backends
// node-llama-cpp can use here.
import type { Command } from "commander";
import { backendInfo, type BackendInfo } from "../models/backendInfo.js";
import { downloadModel } from "../models/downloadModel.js";
import { loadModelCatalog } from "../models/modelCatalog.js";
import { scanModels, type ScannedModel } from "../models/scanModels.js";
import { TillerError } from "../protocol/TillerError.js";
import { getTillerBackend, type TillerBackend } from "../runtime/TillerBackend.js";
import { formatLabelledRows } from "./infoCommand.js";
import { formatTable } from "./formatTable.js";
import { wholeNumberParser } from "./parseArguments.js";
import { progressLine } from "./progressLine.js";

interface ListOptions {
    json?: boolean;
    ramOnly?: boolean;
    context?: number;
}

interface DownloadOptions {
    output?: string;
    sha256?: string;
    json?: boolean;
}

export function registerModelsCommand(program: Command): void {
    const models = program.command("models")
        .description("GGUF models on this machine (list), downloading one (download), recommended models (catalog)");

    models.command("list")
        .description("list the GGUF models in models/, node-llama-cpp's, LM Studio's, the Hugging Face cache and Ollama's store, with shape and fit")
        .option("--json", "print one JSON array instead of a table", false)
        .option("--ram-only", "judge the fit against free RAM only, without loading the llama.cpp backend", false)
        .option("--context <n>", "context size (tokens) the fit estimate includes", wholeNumberParser(1), 4096)
        .action(async (options: ListOptions) => {
            const backend = options.ramOnly ? undefined : await tryBackend();
            const list = await scanModels({ ...(backend != null ? { backend } : {}), ...(options.context != null ? { contextSize: options.context } : {}) });
            if (options.json) {
                process.stdout.write(`${JSON.stringify(list)}\n`);
                return;
            }
            if (list.length === 0) {
                process.stdout.write("no GGUF models found (see `tiller models catalog` for some to download)\n");
                return;
            }
            process.stdout.write(formatTable(
                ["source", "name", "quant", "architecture", "layers", "width", "size", "fits", "path / problem"],
                list.map(listRow),
                ["left", "left", "left", "left", "right", "right", "right", "left", "left"]));
        });

    models.command("download")
        .description("download a model (hf:<user>/<repo>:<quant>, hf:<user>/<repo>/<file>.gguf or a URL), resuming a cancelled download, then check it")
        .argument("<URI>", "model URI or URL")
        .option("-o, --output <dir>", "folder to save into (default: the project's models/, or $TILLER_MODELS_DIR)")
        .option("--sha256 <hex>", "expected SHA-256 of the file; a mismatch moves the file aside as .corrupt")
        .option("--json", "print the result as one JSON object instead of the path", false)
        .action(async (uri: string, options: DownloadOptions) => {
            const progress = progressLine("downloading", "MiB");
            let shown = "";
            const controller = new AbortController();
            const onSigint = () => controller.abort();
            process.once("SIGINT", onSigint);
            try {
                const result = await downloadModel(uri, {
                    ...(options.output != null ? { directory: options.output } : {}),
                    ...(options.sha256 != null ? { sha256: options.sha256 } : {}),
                    signal: controller.signal,
                    onProgress: ({ downloaded, total }) => {
                        // ipull repeats events; report each new tenth of a MiB once, and nothing before the size is known
                        const [done, all] = [mebibytes(downloaded), mebibytes(total)];
                        if (total === 0 || `${done}/${all}` === shown)
                            return;
                        shown = `${done}/${all}`;
                        progress.update(done, all);
                    }
                });
                progress.finish();
                process.stdout.write(options.json ? `${JSON.stringify(result)}\n` : `${result.path}\n`);
            } finally {
                progress.finish();
                process.off("SIGINT", onSigint);
            }
        });

    models.command("catalog")
        .description("recommended small chat models to download (models/catalog.json)")
        .option("--json", "print the catalog as JSON", false)
        .action(async (options: { json?: boolean }) => {
            const catalog = await loadModelCatalog();
            if (options.json) {
                process.stdout.write(`${JSON.stringify(catalog)}\n`);
                return;
            }
            process.stdout.write(formatTable(["id", "params", "layers", "size", "licence", "uri"],
                catalog.models.map((entry) => [entry.id, entry.parameters, entry.layers == null ? "-" : String(entry.layers),
                    formatBytes(entry.approxSizeBytes, "~"), entry.licence, entry.uri]),
                ["left", "right", "right", "right", "left", "left"]));
            process.stdout.write(`\n${catalog.models.map((entry) => `${entry.id}: ${entry.why}`).join("\n")}\n`);
            process.stdout.write("\ndownload one with: tiller models download <uri>\n");
        });

    program.command("backends")
        .description("llama.cpp backends node-llama-cpp can use here, the one loaded, its devices and memory")
        .option("--json", "print one JSON object", false)
        .action(async (options: { json?: boolean }) => {
            const info = await backendInfo();
            process.stdout.write(options.json ? `${JSON.stringify(info)}\n` : formatBackendInfo(info));
        });
}

/** The process's backend, or undefined (with a note on stderr) when it cannot be loaded here. */
async function tryBackend(): Promise<TillerBackend | undefined> {
    try {
        return await getTillerBackend();
    } catch (error) {
        const reason = error instanceof TillerError ? `[${error.code}] ${error.message}` : (error as Error).message;
        process.stderr.write(`tiller: note: judging fit against RAM only (the llama.cpp backend did not load: ${reason.replace(/\s*\n\s*/g, " ")})\n`);
        return undefined;
    }
}

function listRow(model: ScannedModel): string[] {
    const header = model.header;
    const show = (value: number | null | undefined) => value == null ? "-" : String(value);
    let fits = "-";
    if (model.fit != null)
        fits = model.fit.gpu?.fitsInGpu ? "gpu" : model.fit.fitsInRam ? "ram" : "no";
    const name = model.parts > 1 ? `${model.name} (${model.parts} parts)` : model.name;
    return [model.source, name, header?.quantization ?? "-", header?.architecture ?? "-", show(header?.layers), show(header?.embeddingLength),
        formatBytes(model.sizeBytes), fits, model.problem != null ? `problem: ${model.problem}` : model.path];
}

function formatBackendInfo(info: BackendInfo): string {
    const rows: [string, string][] = [
        ["loaded", info.loaded.backend],
        ["usable here", info.usable.join(", ")],
        ["installed binaries", info.installedBinaries.length > 0 ? info.installedBinaries.join(", ") : "none"],
        ["devices", info.devices.length > 0 ? info.devices.join("; ") : "-"],
        ["VRAM", info.vram == null ? "-" : `${formatBytes(info.vram.free)} free of ${formatBytes(info.vram.total)}`],
        ["RAM", `${formatBytes(info.ram.free)} free of ${formatBytes(info.ram.total)}`],
        ["GPU offloading", info.loaded.supportsGpuOffloading ? "yes" : "no"],
        ["llama.cpp", `${info.loaded.llamaCppRelease} (${info.loaded.buildType})`],
        ["threads", `${info.loaded.defaultThreads} (math cores ${info.loaded.cpuMathCores})`]
    ];
    return formatLabelledRows(rows);
}

function mebibytes(bytes: number): number {
    return Math.round(bytes / (1 << 20) * 10) / 10;
}

function formatBytes(bytes: number, prefix = ""): string {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit++;
    }
    return `${prefix}${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
