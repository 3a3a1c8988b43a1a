// `tiller info FILE`: what a GGUF holds, read from its header alone (no weights are loaded).
// A model gives its shape and metadata; a control vector gives its hint, layers, width and norms.
import type { Command } from "commander";
import { readControlVectorFile } from "../gguf/ControlVectorFile.js";
import type { GgufFile } from "../gguf/GgufFile.js";
import { readGgufFile } from "../gguf/GgufReader.js";
import { summarizeModelHeader } from "../models/readModelHeader.js";
import type { ModelHeaderInfo } from "../protocol/models.js";
import { ggufErrorToTillerError } from "../runtime/ggufErrors.js";
import { vectorNorm } from "../runtime/SteeringVector.js";
import { knownSteeringSupport } from "../runtime/knownSteeringSupport.js";
import { TillerModel } from "../runtime/TillerModel.js";
import type { SteeringSupportInfo } from "../protocol/steeringSupport.js";

interface InfoCliOptions {
    json?: boolean;
    probe?: boolean;
}

/** `tiller info` of a model: the model summary (engine/models/readModelHeader.ts) with the file and steering support. */
export interface ModelInfo extends ModelHeaderInfo {
    kind: "model";
    path: string;
    /** steering support: from the architecture (header only), or measured with --probe */
    steering: { supported: boolean | null; note: string; measured?: SteeringSupportInfo };
}

export interface ControlVectorInfo {
    kind: "controlvector";
    path: string;
    modelHint: string;
    layerCount: number | null;
    layers: number[];
    width: number;
    norms: Record<string, number>;
}

export function registerInfoCommand(program: Command): void {
    program.command("info")
        .description("show the shape and metadata of a GGUF model, or the layers and norms of a control vector (reads the header only)")
        .argument("<FILE>", "a GGUF model or control-vector file")
        .option("--json", "print one JSON object instead of text", false)
        .option("--probe", "load the model (CPU) and measure whether steering and capture work on it", false)
        .action(async (file: string, options: InfoCliOptions) => {
            const info = await readInfo(file);
            if (options.probe === true && info.kind === "model")
                await measureSteering(file, info);
            process.stdout.write(options.json ? `${JSON.stringify(info)}\n` : formatInfo(info));
        });
}

export async function readInfo(file: string): Promise<ModelInfo | ControlVectorInfo> {
    try {
        const header = await readGgufFile(file, { tensorData: false });
        if (header.architecture === "controlvector")
            return await controlVectorInfo(file, header);
        return modelInfo(file, header);
    } catch (error) {
        throw ggufErrorToTillerError(error, file, "GGUF");
    }
}

async function controlVectorInfo(file: string, header: GgufFile): Promise<ControlVectorInfo> {
    const cv = await readControlVectorFile(file);
    const layers = [...cv.directions.keys()].sort((a, b) => a - b);
    const norms: Record<string, number> = {};
    for (const layer of layers)
        norms[String(layer)] = vectorNorm(cv.directions.get(layer)!);
    return {
        kind: "controlvector",
        path: file,
        modelHint: cv.modelHint,
        layerCount: header.getNumber("controlvector.layer_count") ?? null,
        layers,
        width: cv.nEmbd,
        norms
    };
}

function modelInfo(file: string, header: GgufFile): ModelInfo {
    const summary = summarizeModelHeader([header]);
    const { steering, note } = knownSteeringSupport(summary.architecture);
    return { kind: "model", path: file, ...summary, steering: { supported: steering, note } };
}

/** --probe: the load-time check of the engine, on this file (CPU, weights mmap'd). */
async function measureSteering(file: string, info: ModelInfo): Promise<void> {
    const model = await TillerModel.load(file, { gpuLayers: 0 });
    try {
        const measured = model.support!;
        info.steering = {
            supported: measured.steering && measured.capture,
            note: measured.message ?? "supported: a control vector changes the logits and every block's output is captured (measured)",
            measured
        };
    } finally {
        await model.dispose();
    }
}

function formatInfo(info: ModelInfo | ControlVectorInfo): string {
    return formatLabelledRows(infoRows(info));
}

/** The `label: value` rows `tiller info` prints for a model or a control vector (shared with `tiller vector info`). */
export function infoRows(info: ModelInfo | ControlVectorInfo): [string, string][] {
    const rows: [string, string][] = [];
    const show = (value: unknown): string => value == null ? "-" : Array.isArray(value) ? value.join(",") : String(value);
    if (info.kind === "controlvector") {
        rows.push(
            ["file", info.path],
            ["kind", "control vector"],
            ["model hint", info.modelHint],
            ["layer count", show(info.layerCount)],
            ["layers", info.layers.length === 0 ? "none" : info.layers.join(",")],
            ["width", String(info.width)],
            ...info.layers.map((layer): [string, string] => [`norm ${layer}`, info.norms[String(layer)]!.toPrecision(6)])
        );
    } else {
        rows.push(
            ["file", info.path],
            ["kind", "model"],
            ["name", show(info.name)],
            ["architecture", info.architecture],
            ["layers", show(info.layers)],
            ["width", show(info.embeddingLength)],
            ["heads", `${show(info.heads)} (kv ${show(info.headsKv)})`],
            ["feed-forward", show(info.feedForwardLength)],
            ["vocab size", show(info.vocabSize)],
            ["context length", show(info.contextLength)],
            ["file type", info.fileType],
            ["tensors", `${info.tensorCount} (${Object.entries(info.tensorTypes).map(([type, count]) => `${type}×${count}`).join(", ")})`],
            ["parameters", info.parameters.toLocaleString("en-US")],
            ["tokenizer", show(info.tokenizer)],
            ["chat template", info.hasChatTemplate ? "yes" : "no"],
            ["steering", info.steering.note],
            ["GGUF version", String(info.ggufVersion)],
            ["file size", `${info.fileSizeBytes.toLocaleString("en-US")} bytes`]
        );
    }
    return rows;
}

/** `label:  value` lines, the values aligned in one column. */
export function formatLabelledRows(rows: readonly (readonly [string, string])[]): string {
    const width = Math.max(...rows.map(([label]) => label.length));
    return rows.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}\n`).join("");
}
