// Vector science (`npm run bench -- --only vectors`): the three build methods on real models —
// how far apart their directions are (|cos| per layer), and how well each separates pairs of
// groups that neither built the vector nor chose its layer (test-split AUROC and paired accuracy
// at the layer the validation split chose). Three split seeds show how much the small test splits
// move the figures. stories260K with the built-in sentiment pairs (read over the completion), the
// committed toy world with its toyworld-flattery pairs (read where the reply opens).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TillerModel } from "../engine/runtime/TillerModel.js";
import type { BuildMethod } from "../engine/vectors/buildSteeringVector.js";
import { buildVectorFromDataset, type DatasetVector } from "../engine/vectors/buildVectorFromDataset.js";
import { loadBuiltinDataset } from "../engine/vectors/datasets/builtinDatasets.js";
import type { ReadPosition } from "../engine/vectors/pairTokens.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..", "..");
const cases: Array<{ model: string; file: string; dataset: string; readAt: ReadPosition }> = [
    { model: "stories260K", file: process.env.TILLER_STORIES ?? path.resolve(repoRoot, "..", "shared", "models", "stories260K.gguf"), dataset: "sentiment", readAt: "mean" },
    { model: "toyworld", file: path.join(repoRoot, "models", "toyworld.gguf"), dataset: "toyworld-flattery", readAt: "last" }
];
const methods: BuildMethod[] = ["mean", "pca-diff", "pca-center"];
const seeds = [0, 1, 2];

function cosine(a: Float32Array, b: Float32Array): number {
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) {
        ab += a[i]! * b[i]!;
        aa += a[i]! * a[i]!;
        bb += b[i]! * b[i]!;
    }
    return ab / Math.sqrt(aa * bb);
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : "—");

export async function benchVectors(threads: number): Promise<string[]> {
    const lines: string[] = [];
    for (const entry of cases) {
        if (!fs.existsSync(entry.file)) {
            lines.push(`${entry.model}: skipped, ${entry.file} is absent`);
            continue;
        }
        const model = await TillerModel.load(entry.file);
        try {
            const context = await model.createContext({ threads, contextSize: 2048, batchSize: 512, sequences: 16 });
            const dataset = loadBuiltinDataset(entry.dataset);
            const groups = new Set(dataset.pairs.map((pair, i) => pair.group ?? `pair ${i}`)).size;
            lines.push(`${entry.model}, ${entry.dataset} (${dataset.pairs.length} pairs in ${groups} groups, read at ${entry.readAt}):`);
            // directions on all pairs (no hold-out), so the cosines compare the methods, not the splits
            const full = new Map<BuildMethod, DatasetVector>();
            for (const method of methods)
                full.set(method, await buildVectorFromDataset(context, dataset, { method, readAt: entry.readAt, heldOutFraction: 0 }));
            lines.push("  |cos| between methods per layer   mean·pca-diff  mean·pca-center  pca-diff·pca-center   cos(pca-diff, d̄)");
            for (const layer of full.get("mean")!.vector.directions.keys()) {
                const direction = (method: BuildMethod) => full.get(method)!.vector.directions.get(layer)!;
                const diag = full.get("pca-diff")!.diagnostics.find((d) => d.layer === layer)!;
                lines.push(`    layer ${layer}${" ".repeat(28)}${fixed(Math.abs(cosine(direction("mean"), direction("pca-diff"))), 3).padStart(11)}` +
                    `${fixed(Math.abs(cosine(direction("mean"), direction("pca-center"))), 3).padStart(17)}` +
                    `${fixed(Math.abs(cosine(direction("pca-diff"), direction("pca-center"))), 3).padStart(21)}${fixed(diag.cosineToMean, 3).padStart(19)}`);
            }
            lines.push("  held-out (groups split 20% validation / 20% test; layer chosen on validation, figures from test):");
            lines.push("    method       seed  layer  val AUROC  test AUROC  paired acc  test pairs  warnings");
            for (const method of methods) {
                for (const seed of seeds) {
                    const built = await buildVectorFromDataset(context, dataset, { method, readAt: entry.readAt, seed });
                    const best = built.diagnostics.find((d) => d.layer === built.bestLayer)!;
                    lines.push(`    ${method.padEnd(11)}${String(seed).padStart(6)}${String(best.layer).padStart(7)}${fixed(best.validationAuroc, 3).padStart(11)}` +
                        `${fixed(best.heldOutAuroc, 3).padStart(12)}${fixed(best.pairedAccuracy, 3).padStart(12)}${String(built.testPairs).padStart(12)}${String(built.warnings.length).padStart(10)}`);
                }
            }
        } finally {
            await model.dispose();
        }
    }
    return lines;
}
