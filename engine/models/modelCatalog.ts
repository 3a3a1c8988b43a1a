// The recommended-model catalog (models/catalog.json): small chat models to download, each with a
// node-llama-cpp model URI, its approximate size and licence, and why it is on the list.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { TillerError } from "../protocol/TillerError.js";
import { projectRoot } from "./projectModelsDir.js";

const catalogEntrySchema = z.object({
    /** short stable identifier, e.g. "qwen2.5-0.5b-instruct" */
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "ids are lower-case letters, digits, '.', '_' and '-'"),
    name: z.string().min(1),
    /** `hf:<user>/<repo>:<quant>`, `hf:<user>/<repo>/<file>` or an http(s) URL */
    uri: z.string().regex(/^(hf:[^/\s]+\/[^\s]+|https?:\/\/\S+)$/, "a model URI is hf:<user>/<repo>[:<quant>] or an http(s) URL"),
    approxSizeBytes: z.number().int().positive(),
    /** e.g. "0.5B" */
    parameters: z.string().min(1),
    layers: z.number().int().positive().optional(),
    width: z.number().int().positive().optional(),
    licence: z.string().min(1),
    /** one line: why this model is recommended */
    why: z.string().min(1)
}).strict();

const catalogSchema = z.object({
    version: z.literal(1),
    description: z.string().optional(),
    models: z.array(catalogEntrySchema).min(1)
}).strict().superRefine((catalog, context) => {
    const seen = new Set<string>();
    for (const [index, entry] of catalog.models.entries()) {
        if (seen.has(entry.id))
            context.addIssue({ code: "custom", path: ["models", index, "id"], message: `duplicate id "${entry.id}"` });
        seen.add(entry.id);
    }
});

export type ModelCatalogEntry = z.infer<typeof catalogEntrySchema>;
export type ModelCatalog = z.infer<typeof catalogSchema>;

/** models/catalog.json of this checkout (null outside one). */
export function defaultCatalogPath(): string | null {
    const root = projectRoot();
    return root == null ? null : path.join(root, "models", "catalog.json");
}

/** Validates catalog data; throws INVALID_ARGUMENT naming the first bad field. */
export function parseModelCatalog(data: unknown, source = "the model catalog"): ModelCatalog {
    const result = catalogSchema.safeParse(data);
    if (!result.success) {
        const issue = result.error.issues[0]!;
        const where = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
        throw new TillerError("INVALID_ARGUMENT", `${source} is malformed at ${where}: ${issue.message}`);
    }
    return result.data;
}

/**
 * Reads and validates a catalog file (default: the checkout's models/catalog.json). Throws
 * FILE_NOT_FOUND when it is absent, INVALID_ARGUMENT when it is not valid JSON or not a catalog.
 */
export async function loadModelCatalog(file: string | null = defaultCatalogPath()): Promise<ModelCatalog> {
    if (file == null)
        throw new TillerError("FILE_NOT_FOUND", "no model catalog: this Tiller is not running from its checkout (models/catalog.json)");
    let text: string;
    try {
        text = await readFile(file, "utf8");
    } catch (cause) {
        const missing = (cause as NodeJS.ErrnoException).code === "ENOENT";
        throw new TillerError(missing ? "FILE_NOT_FOUND" : "INTERNAL",
            missing ? `the model catalog "${file}" does not exist` : `cannot read the model catalog "${file}": ${(cause as Error).message}`, { cause });
    }
    let data: unknown;
    try {
        data = JSON.parse(text);
    } catch (cause) {
        throw new TillerError("INVALID_ARGUMENT", `the model catalog "${file}" is not valid JSON: ${(cause as Error).message}`, { cause });
    }
    return parseModelCatalog(data, `the model catalog "${file}"`);
}
