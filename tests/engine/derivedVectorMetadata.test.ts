// A derived vector keeps the same metadata whether the library makes it (vectors.combine, the UI) or
// the CLI does (`tiller vector combine/negate/scale`): both go through derivedMetadata.ts. The cases
// include the one where the two used to differ: the CLI's own copy of the rule also inherited
// `tiller.model_file`, which the library does not. Spawns the compiled CLI (`npm run build:ts`).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readControlVectorFile, writeControlVectorFile, type ControlVector } from "../../engine/gguf/ControlVectorFile.js";
import { VectorLibrary } from "../../engine/vectors/library/VectorLibrary.js";
import { runTiller } from "../support/runTiller.js";

const sha = "a".repeat(64);
/** keys every derived vector sets itself (not inherited) */
const ownKeys = new Set(["tiller.name", "tiller.created_at", "tiller.derived_from"]);

function controlVector(modelHint: string, metadata: Record<string, string>, sign: number): ControlVector {
    const directions = new Map([1, 2].map((layer) => [layer, Float32Array.from({ length: 8 }, (_, i) => sign * (i + layer))]));
    return { modelHint, nEmbd: 8, directions, metadata };
}

function inherited(cv: ControlVector): Record<string, string> {
    return Object.fromEntries(Object.entries(cv.metadata ?? {}).filter(([key]) => !ownKeys.has(key)).sort(([a], [b]) => a.localeCompare(b)));
}

describe("derived vector metadata: library and CLI agree", () => {
    let work: string;
    let library: VectorLibrary;
    const shared = { "tiller.source_dataset": "builtin:sentiment", "tiller.read_at": "last", "tiller.model_sha256": sha, "tiller.model_file": "stories260K.gguf" };

    beforeAll(() => {
        if (!fs.existsSync(path.resolve(import.meta.dirname, "..", "..", "dist", "engine", "cli", "vectorCommands.js")))
            throw new Error("the CLI is not built; run `npm run build:ts` before this test");
        work = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-derived-"));
        library = new VectorLibrary(path.join(work, "library"));
    });
    afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

    async function both(sources: ControlVector[]): Promise<{ cli: ControlVector; library: ControlVector }> {
        const files = await Promise.all(sources.map(async (cv, i) => {
            const file = path.join(work, `source-${i}-${Math.random().toString(36).slice(2)}.gguf`);
            await writeControlVectorFile(file, cv);
            return file;
        }));
        const output = path.join(work, `cli-${Math.random().toString(36).slice(2)}.gguf`);
        const result = await runTiller(["vector", "combine", "-o", output, ...files.map((file) => `${file}:1`)]);
        expect(result.status, result.stderr).toBe(0);
        const ids = await Promise.all(files.map(async (file) => (await library.importGguf(file)).id));
        const entry = await library.weightedSum(ids.map((id) => ({ id, weight: 1 })), "sum");
        return { cli: await readControlVectorFile(output), library: await readControlVectorFile(path.join(library.folder, `${entry.id}.gguf`)) };
    }

    it("sources that agree on everything, tiller.model_file included: the same keys, and no model_file", async () => {
        const { cli, library: made } = await both([
            controlVector("llama", { ...shared, "tiller.method": "mean" }, 1),
            controlVector("llama", { ...shared, "tiller.method": "mean" }, -0.5)
        ]);
        expect(inherited(cli)).toEqual(inherited(made));
        expect(cli.modelHint).toBe(made.modelHint);
        expect(cli.modelHint).toBe("llama");
        expect(inherited(cli)).toEqual({ "tiller.method": "mean", "tiller.model_sha256": sha, "tiller.read_at": "last", "tiller.source_dataset": "builtin:sentiment" });
    });

    it("sources that differ in method and model hint: both drop exactly those", async () => {
        const { cli, library: made } = await both([
            controlVector("llama", { ...shared, "tiller.method": "mean" }, 1),
            controlVector("qwen2", { ...shared, "tiller.method": "pca-diff" }, 1)
        ]);
        expect(inherited(cli)).toEqual(inherited(made));
        expect(cli.modelHint).toBe("");
        expect(made.modelHint).toBe("");
        expect(inherited(cli)).not.toHaveProperty("tiller.method");
        expect(inherited(cli)).toHaveProperty("tiller.source_dataset", "builtin:sentiment");
    });
});
