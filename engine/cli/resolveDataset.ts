// `--dataset FILE|NAME [--negative-file FILE]`: a built-in dataset by name, a dataset file of any
// format Tiller imports, or a pair of llama.cpp cvector-generator prompt files. Dataset problems
// (DatasetError) become one-line CLI errors that carry the dataset's own code.
import fs from "node:fs";
import path from "node:path";
import { TillerError } from "../protocol/TillerError.js";
import type { ContrastiveDataset } from "../vectors/datasets/ContrastiveDataset.js";
import { DatasetError } from "../vectors/datasets/DatasetError.js";
import { builtinDatasetNames, loadBuiltinDataset } from "../vectors/datasets/builtinDatasets.js";
import { readCvectorGeneratorFiles, readDatasetFile } from "../vectors/datasets/importers.js";

/** A dataset and how the user named it (what `tiller.source_dataset` records). */
export interface ResolvedDataset {
    dataset: ContrastiveDataset;
    /** "builtin:sentiment", a file's base name, or "positive.txt + negative.txt" */
    source: string;
}

/**
 * A dataset problem for the CLI: its message starts with the DatasetError code in brackets, so
 * `main` prints `tiller: error: [MALFORMED_JSON] file.json: malformed JSON at line 3, column 7: ...`.
 */
export class DatasetCliError extends Error {
    public readonly code: DatasetError["code"];

    public constructor(error: DatasetError, hint = "") {
        super(`[${error.code}] ${error.message}${hint}`, { cause: error });
        this.name = "DatasetCliError";
        this.code = error.code;
    }
}

const BUILTIN_LIST = builtinDatasetNames.join(", ");

/** Runs `task`, turning a DatasetError into a DatasetCliError. */
export async function withDatasetErrors<T>(task: () => Promise<T> | T, hint = ""): Promise<T> {
    try {
        return await task();
    } catch (error) {
        if (error instanceof DatasetError)
            throw new DatasetCliError(error, hint);
        throw error;
    }
}

function isBuiltinName(text: string): boolean {
    return (builtinDatasetNames as readonly string[]).includes(text);
}

/** Text that can only be a path: a folder separator or a file extension. */
function looksLikePath(text: string): boolean {
    return /[\\/]/.test(text) || /\.[A-Za-z0-9]+$/.test(text);
}

function assertFile(file: string, what: string): void {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(file);
    } catch {
        throw new TillerError("FILE_NOT_FOUND", `${what} "${file}" does not exist`);
    }
    if (!stat.isFile())
        throw new TillerError("INVALID_ARGUMENT", `${what} "${file}" is not a file`);
}

/**
 * Resolves `--dataset`: a built-in name wins (write `./NAME` for a file of that name); otherwise
 * the text is a file. With `negativeFile`, the two are cvector-generator prompt files.
 */
export async function resolveDataset(spec: string, negativeFile?: string): Promise<ResolvedDataset> {
    if (negativeFile != null) {
        if (isBuiltinName(spec))
            throw new TillerError("INVALID_ARGUMENT",
                `--negative-file goes with a cvector-generator positive prompt file, but --dataset "${spec}" names a built-in dataset`);
        assertFile(spec, "positive prompt file");
        assertFile(negativeFile, "negative prompt file");
        const dataset = await withDatasetErrors(() => readCvectorGeneratorFiles(spec, negativeFile));
        return { dataset, source: `${path.basename(spec)} + ${path.basename(negativeFile)}` };
    }
    if (isBuiltinName(spec))
        return { dataset: await withDatasetErrors(() => loadBuiltinDataset(spec)), source: `builtin:${spec}` };
    if (!fs.existsSync(spec)) {
        if (looksLikePath(spec))
            throw new TillerError("FILE_NOT_FOUND", `dataset file "${spec}" does not exist`);
        throw new DatasetCliError(new DatasetError("UNKNOWN_DATASET",
            `no built-in dataset is called "${spec}" and there is no file of that name; the built-in datasets are ${BUILTIN_LIST} (see \`tiller datasets\`)`));
    }
    assertFile(spec, "dataset file");
    if (/\.txt$/i.test(spec))
        throw new DatasetCliError(new DatasetError("UNKNOWN_DATASET",
            `${spec}: a .txt file is read as llama.cpp cvector-generator positive prompts; give the negative prompts with --negative-file FILE`,
            { source: spec }));
    const dataset = await withDatasetErrors(() => readDatasetFile(spec));
    return { dataset, source: path.basename(spec) };
}
