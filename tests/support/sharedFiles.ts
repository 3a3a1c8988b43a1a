// Paths of the read-only files in ../shared that tests use, and a way to skip with a reason when
// one is absent (a test that needs a file that is absent says so).
import fs from "node:fs";
import path from "node:path";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const sharedRoot = process.env.TILLER_SHARED_DIR ?? path.resolve(repoRoot, "..", "shared");

export const sharedFiles = {
    stories260K: path.join(sharedRoot, "models", "stories260K.gguf"),
    tinyRandomLlama: path.join(sharedRoot, "models", "llama-2-tiny-random.gguf"),
    paritySineVector: path.join(sharedRoot, "llamacpp-parity", "synthetic_sine.gguf"),
    parityGreedy: path.join(sharedRoot, "llamacpp-parity", "greedy.tsv"),
    parityLOut: path.join(sharedRoot, "llamacpp-parity", "l_out-prompt.txt")
} as const;

/** true when the file is missing; logs which file, so a skipped test says why */
export function missing(file: string): boolean {
    if (fs.existsSync(file))
        return false;
    console.warn(`skipping: required file is absent: ${file}`);
    return true;
}
