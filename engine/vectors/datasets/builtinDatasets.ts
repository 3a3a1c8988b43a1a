// The contrastive datasets that ship with Tiller, as JSON files in ./builtin (Tiller format).
// tsc does not copy JSON into dist/, so compiled code finds the files back in the source tree.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { DatasetError } from "./DatasetError.js";
import { parseContrastiveDataset } from "./ContrastiveDataset.js";
import type { ContrastiveDataset, DatasetFraming } from "./ContrastiveDataset.js";

/** The built-in datasets, in the order they are listed. */
export const builtinDatasetNames = ["sentiment", "sycophancy", "formality", "refusal"] as const;

export type BuiltinDatasetName = typeof builtinDatasetNames[number];

export interface BuiltinDatasetInfo {
    name: string;
    description: string;
    framing: DatasetFraming;
    pairCount: number;
}

const SOURCE_FOLDER = ["engine", "vectors", "datasets", "builtin"];

/** The repository root: the nearest folder above `start` whose package.json is named "tiller". */
function findRepositoryRoot(start: string): string | undefined {
    let folder = start;
    while (true) {
        const manifest = path.join(folder, "package.json");
        if (existsSync(manifest)) {
            try {
                if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === "tiller")
                    return folder;
            } catch {
                // an unreadable package.json is not ours; keep walking up
            }
        }
        const parent = path.dirname(folder);
        if (parent === folder)
            return undefined;
        folder = parent;
    }
}

/** Where a built-in dataset's JSON file may be: next to this module (source), then in the source tree (dist/). */
function candidatePaths(name: string): string[] {
    const here = import.meta.dirname;
    const candidates = [path.join(here, "builtin", `${name}.json`)];
    const root = findRepositoryRoot(here);
    if (root !== undefined)
        candidates.push(path.join(root, ...SOURCE_FOLDER, `${name}.json`));
    return candidates;
}

function isBuiltinName(name: string): name is BuiltinDatasetName {
    return (builtinDatasetNames as readonly string[]).includes(name);
}

const cache = new Map<BuiltinDatasetName, ContrastiveDataset>();

/**
 * Loads a built-in dataset by name (a fresh copy each call, so callers may change it).
 * @throws DatasetError UNKNOWN_DATASET for a name that is not built in (the message lists the names)
 */
export function loadBuiltinDataset(name: string): ContrastiveDataset {
    if (!isBuiltinName(name))
        throw new DatasetError("UNKNOWN_DATASET", `no built-in dataset is called "${name}"; the built-in datasets are ${builtinDatasetNames.join(", ")}`);
    let dataset = cache.get(name);
    if (dataset === undefined) {
        const candidates = candidatePaths(name);
        const file = candidates.find((candidate) => existsSync(candidate));
        if (file === undefined)
            throw new DatasetError("UNKNOWN_DATASET", `the built-in dataset "${name}" is missing from this installation; looked in ${candidates.join(", ")}`);
        dataset = parseContrastiveDataset(readFileSync(file, "utf8"), `builtin/${name}.json`);
        cache.set(name, dataset);
    }
    return structuredClone(dataset);
}

/** Name, description, framing and size of every built-in dataset. */
export function listBuiltinDatasets(): BuiltinDatasetInfo[] {
    return builtinDatasetNames.map((name) => {
        const dataset = loadBuiltinDataset(name);
        return { name: dataset.name, description: dataset.description, framing: dataset.framing, pairCount: dataset.pairs.length };
    });
}
