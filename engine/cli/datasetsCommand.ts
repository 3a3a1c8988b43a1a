// `tiller datasets`: the contrastive datasets that ship with Tiller, and `tiller datasets show
// NAME` to look at their pairs.
import type { Command } from "commander";
import { listBuiltinDatasets } from "../vectors/datasets/builtinDatasets.js";
import { formatTable } from "./formatTable.js";
import { resolveDataset } from "./resolveDataset.js";
import { wholeNumberParser } from "./parseArguments.js";

const DEFAULT_SHOW_LIMIT = 5;

export function registerDatasetsCommand(program: Command): void {
    const datasets = program.command("datasets")
        .description("list the built-in contrastive datasets (name, framing, pairs, description); `datasets show NAME` prints pairs")
        .option("--json", "print one JSON array of { name, framing, pairs, description } instead of a table", false)
        .action((options: { json?: boolean }) => {
            const list = listBuiltinDatasets().map((info) => ({ name: info.name, framing: info.framing, pairs: info.pairCount, description: info.description }));
            if (options.json) {
                process.stdout.write(`${JSON.stringify(list)}\n`);
                return;
            }
            process.stdout.write(formatTable(["name", "framing", "pairs", "description"],
                list.map((entry) => [entry.name, entry.framing, String(entry.pairs), entry.description]), ["left", "left", "right", "left"]));
        });

    datasets.command("show")
        .description("print some pairs of a built-in dataset (or of a dataset file)")
        .argument("<NAME>", "a built-in dataset name (see `tiller datasets`) or a dataset file")
        .option("--limit <N>", "pairs to print, 0 = all", wholeNumberParser(0), DEFAULT_SHOW_LIMIT)
        .option("--json", "print the dataset (its pairs cut to --limit) as one JSON object", false)
        .action(async (name: string, options: { limit: number; json?: boolean }) => {
            const { dataset } = await resolveDataset(name);
            const pairs = options.limit === 0 ? dataset.pairs : dataset.pairs.slice(0, options.limit);
            if (options.json) {
                process.stdout.write(`${JSON.stringify({ ...dataset, pairCount: dataset.pairs.length, pairs })}\n`);
                return;
            }
            const lines = [
                `${dataset.name} (${dataset.framing}, ${dataset.pairs.length} pairs): ${dataset.positiveLabel} vs ${dataset.negativeLabel}`,
                dataset.description,
                ...(dataset.system != null ? [`system: ${JSON.stringify(dataset.system)}`] : []),
                ""
            ];
            for (const [index, pair] of pairs.entries()) {
                lines.push(`[${index}] prompt:   ${JSON.stringify(pair.prompt)}`);
                lines.push(`    ${"positive:".padEnd(9)} ${JSON.stringify(pair.positive)}`);
                lines.push(`    ${"negative:".padEnd(9)} ${JSON.stringify(pair.negative)}`);
            }
            if (pairs.length < dataset.pairs.length)
                lines.push(`(${pairs.length} of ${dataset.pairs.length} pairs shown; --limit 0 shows all)`);
            process.stdout.write(`${lines.join("\n")}\n`);
        });
}
