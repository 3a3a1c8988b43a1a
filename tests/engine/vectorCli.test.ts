// `tiller vector ...` and `tiller datasets` end to end: spawns `node bin/tiller.js` (the compiled
// dist/ build; run `npm run build:ts` first) on stories260K, writing only to a temporary folder.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readControlVectorFile, writeControlVectorFile } from "../../engine/gguf/ControlVectorFile.js";
import { sha256OfFile } from "../../engine/io/sha256File.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { expectOneLineError, runTiller as tiller, type CliResult } from "../support/runTiller.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const compiledMain = path.join(repoRoot, "dist", "engine", "cli", "main.js");
const compiledVectorCommands = path.join(repoRoot, "dist", "engine", "cli", "vectorCommands.js");


/** Exit 0 and exactly one JSON line on stdout. */
function parseJson<T>(result: CliResult): T {
    expect(result.status, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines, result.stdout).toHaveLength(1);
    return JSON.parse(lines[0]!) as T;
}

interface Diagnostics {
    layer: number;
    norm: number;
    activationNorm: number;
    trainAuroc: number;
    heldOutAuroc: number | null;
    standardizedMeanDifference: number | null;
}

interface BuildJson {
    output: string;
    dataset: string;
    method: string;
    readAt: string;
    bestLayer: number;
    trainPairs: number;
    heldOutPairs: number;
    elapsedMs: number;
    diagnostics: Diagnostics[];
    chatFormat: string;
}

interface VectorInfoJson {
    kind: string;
    modelHint: string;
    layers: number[];
    width: number;
    norms: Record<string, number>;
    metadata: Record<string, string>;
}

beforeAll(() => {
    if (!fs.existsSync(compiledMain) || !fs.existsSync(compiledVectorCommands))
        throw new Error(`the CLI is not built (${fs.existsSync(compiledMain) ? compiledVectorCommands : compiledMain} is missing); run \`npm run build:ts\` before these tests`);
});

describe("tiller datasets and vector (no model needed)", () => {
    it("finds the compiled CLI with the vector commands (run `npm run build:ts` first)", () => {
        expect(fs.existsSync(compiledVectorCommands), `${compiledVectorCommands} is missing: run \`npm run build:ts\``).toBe(true);
    });

    it("lists the built-in datasets as JSON and as a table", async () => {
        const list = parseJson<{ name: string; framing: string; pairs: number; description: string }[]>(await tiller(["datasets", "--json"]));
        expect(list.length).toBeGreaterThanOrEqual(4);
        expect(list.map((entry) => entry.name)).toEqual(expect.arrayContaining(["sentiment", "sycophancy", "formality", "refusal"]));
        for (const entry of list) {
            expect(entry.pairs, entry.name).toBeGreaterThanOrEqual(40);
            expect(["story", "chat", "plain"]).toContain(entry.framing);
            expect(entry.description.length).toBeGreaterThan(0);
        }
        const text = await tiller(["datasets"]);
        expect(text.status, text.stderr).toBe(0);
        expect(text.stdout).toMatch(/^name\s+framing\s+pairs\s+description$/m);
        expect(text.stdout).toMatch(/^sentiment\s+story\s+\d+\s+\S/m);
    });

    it("shows some pairs of a dataset", async () => {
        const shown = await tiller(["datasets", "show", "sentiment", "--limit", "3"]);
        expect(shown.status, shown.stderr).toBe(0);
        expect(shown.stdout).toMatch(/^sentiment \(story, \d+ pairs\)/);
        expect(shown.stdout.match(/^\s*positive:/gm)).toHaveLength(3);
        expect(shown.stdout.match(/^\s*negative:/gm)).toHaveLength(3);
        expectOneLineError(await tiller(["datasets", "show", "no-such-set"]), /\[UNKNOWN_DATASET\].*"no-such-set".*sentiment, sycophancy, formality, refusal/);
    });

    it("documents every vector build option's default", async () => {
        const result = await tiller(["vector", "build", "--help"]);
        expect(result.status).toBe(0);
        const lines = result.stdout.split("\n");
        for (const option of ["--negative-file", "--method", "--read", "--layers", "--held-out", "--seed", "--threads", "--ctx-size", "--gpu-layers", "--name", "--json"]) {
            const line = lines.findIndex((text) => new RegExp(`^\\s+(-\\w, )?${option}\\b`).test(text));
            expect(line, option).toBeGreaterThanOrEqual(0);
            // the option's block: up to the next line that starts another option
            const end = lines.findIndex((text, i) => i > line && /^\s+-/.test(text));
            expect(lines.slice(line, end < 0 ? undefined : end).join(" "), option).toMatch(/default/);
        }
    });
});

describe.skipIf(missing(sharedFiles.stories260K))("tiller vector on stories260K", () => {
    const model = sharedFiles.stories260K;
    const prompt = "Once upon a time";
    let dir: string;
    let vectorFile: string;
    let built: BuildJson;
    const file = (name: string) => path.join(dir, name);
    const buildArgs = (dataset: string, output: string, ...extra: string[]) =>
        ["vector", "build", "-m", model, "--dataset", dataset, "-o", output, "--threads", "1", ...extra];

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-vector-cli-"));
        vectorFile = file("sentiment.gguf");
        const result = await tiller(buildArgs("sentiment", vectorFile, "--json"));
        built = parseJson<BuildJson>(result);
    });
    afterAll(() => {
        if (dir != null)
            fs.rmSync(dir, { recursive: true, force: true });
    });

    it("builds the sentiment vector: 4 layers, a best layer that separates held-out pairs", () => {
        expect(built.output).toBe(vectorFile);
        expect(built).toMatchObject({ dataset: "sentiment", method: "mean", readAt: "last", chatFormat: "none" });
        expect(built.diagnostics.map((entry) => entry.layer)).toEqual([1, 2, 3, 4]);
        expect(built.trainPairs + built.heldOutPairs).toBeGreaterThanOrEqual(40);
        expect(built.heldOutPairs).toBeGreaterThan(0);
        expect(built.elapsedMs).toBeGreaterThan(0);
        const best = built.diagnostics.find((entry) => entry.layer === built.bestLayer)!;
        expect(best.heldOutAuroc).toBeGreaterThan(0.8);
        for (const entry of built.diagnostics) {
            expect(entry.norm).toBeGreaterThan(0);
            expect(entry.activationNorm).toBeGreaterThan(0);
        }
    });

    it("writes a llama.cpp control vector with tiller.* metadata and the model's SHA-256", async () => {
        const cv = await readControlVectorFile(vectorFile);
        expect(cv.modelHint).toBe("llama");
        expect(cv.nEmbd).toBe(64);
        expect([...cv.directions.keys()]).toEqual([1, 2, 3, 4]);
        expect(cv.metadata).toMatchObject({
            "tiller.name": "sentiment",
            "tiller.source_dataset": "builtin:sentiment",
            "tiller.method": "mean",
            "tiller.read_at": "last",
            "tiller.model_file": "stories260K.gguf",
            "tiller.model_sha256": await sha256OfFile(model)
        });
        const createdAt = Date.parse(cv.metadata!["tiller.created_at"]!);
        expect(Number.isNaN(createdAt)).toBe(false);
        expect(Math.abs(Date.now() - createdAt)).toBeLessThan(10 * 60_000);
    });

    it("prints the diagnostics as a table in text mode, marking the best layer and a strength range", async () => {
        const result = await tiller(buildArgs("sentiment", file("sentiment-text.gguf"), "--method", "pca-diff", "--seed", "3"));
        expect(result.status, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/layer\s+norm\s+activation norm\s+train AUROC\s+val AUROC\s+test AUROC\s+paired acc\s+d\s+cos\(mean\)/);
        for (const layer of [1, 2, 3, 4]) // norm, activation norm, train/val/test AUROC, paired accuracy, d, cos(mean)
            expect(result.stdout).toMatch(new RegExp(`^\\*?\\s+${layer}(\\s+[\\d.]+){6}\\s+-?[\\d.]+\\s+[\\d.]+$`, "m"));
        expect(result.stdout.match(/^\*\s+\d/gm)).toHaveLength(1); // exactly one row marked
        expect(result.stdout).toMatch(/best layer: \d/);
        expect(result.stdout).toMatch(/α≈1 moves a negative example's mean to the positive mean/);
        expect(result.stdout).toMatch(/vector norm [\d.]+ at layer \d vs typical activation norm [\d.]+/);
        expect(result.stdout).toMatch(/suggested range: α/);
        expect(result.stderr).toMatch(/building: \d+\/\d+ pairs/); // progress goes to stderr only
        expect((await readControlVectorFile(file("sentiment-text.gguf"))).metadata?.["tiller.method"]).toBe("pca-diff");
    });

    it("steers generation: --vector v.gguf:1 --layers 2-3 changes the text", async () => {
        const generate = (...extra: string[]) => tiller(["generate", "-m", model, "-p", prompt, "-n", "40", "--threads", "1", ...extra]);
        const plain = await generate();
        const steered = await generate("--vector", `${vectorFile}:1`, "--layers", "2-3");
        expect(plain.status, plain.stderr).toBe(0);
        expect(steered.status, steered.stderr).toBe(0);
        expect(steered.stdout.length).toBeGreaterThan(0);
        expect(steered.stdout).not.toBe(plain.stdout);
    });

    it("builds from a CAA A/B file with --read answer", async () => {
        const caa = file("caa.json");
        fs.writeFileSync(caa, JSON.stringify([
            { question: "Is the sky blue?\n\nChoices:\n (A) Yes\n (B) No", answer_matching_behavior: "(A)", answer_not_matching_behavior: "(B)" },
            { question: "Do cats bark?\n\nChoices:\n (A) Yes\n (B) No", answer_matching_behavior: "(B)", answer_not_matching_behavior: "(A)" },
            { question: "Is fire hot?\n\nChoices:\n (A) No\n (B) Yes", answer_matching_behavior: "(B)", answer_not_matching_behavior: "(A)" }
        ]));
        const output = parseJson<BuildJson>(await tiller(buildArgs(caa, file("caa.gguf"), "--read", "answer", "--held-out", "0", "--json")));
        expect(output).toMatchObject({ dataset: "caa", readAt: "answer", trainPairs: 3, heldOutPairs: 0, chatFormat: "plain-fallback" });
        expect(output.diagnostics.every((entry) => entry.heldOutAuroc === null)).toBe(true); // NaN (none held out) is null in JSON
        const cv = await readControlVectorFile(file("caa.gguf"));
        expect(cv.metadata).toMatchObject({ "tiller.source_dataset": "caa.json", "tiller.read_at": "answer" });
    });

    it("builds from repeng lists and from a pair of cvector-generator prompt files", async () => {
        const happy = ["The girl was happy and smiled.", "The boy was happy and laughed.", "Tom felt happy all day."];
        const sad = ["The girl was sad and cried.", "The boy was sad and wept.", "Tom felt sad all day."];
        fs.writeFileSync(file("repeng.json"), JSON.stringify({ positive: happy, negative: sad }));
        const repeng = parseJson<BuildJson>(await tiller(buildArgs(file("repeng.json"), file("repeng.gguf"), "--held-out", "0", "--layers", "2-3", "--json")));
        expect(repeng).toMatchObject({ dataset: "repeng", trainPairs: 3 });
        expect(repeng.diagnostics.map((entry) => entry.layer)).toEqual([2, 3]);
        expect([...(await readControlVectorFile(file("repeng.gguf"))).directions.keys()]).toEqual([2, 3]);

        fs.writeFileSync(file("positive.txt"), `${happy.join("\n")}\n`);
        fs.writeFileSync(file("negative.txt"), `${sad.join("\n")}\n`);
        const cvector = parseJson<BuildJson>(await tiller(buildArgs(file("positive.txt"), file("cvector.gguf"), "--negative-file", file("negative.txt"),
            "--held-out", "0", "--method", "pca-center", "--json")));
        expect(cvector).toMatchObject({ method: "pca-center", trainPairs: 3 });
        const cv = await readControlVectorFile(file("cvector.gguf"));
        expect(cv.metadata?.["tiller.source_dataset"]).toBe("positive.txt + negative.txt");
    });

    it("describes a vector with vector info: norms per layer and the tiller.* metadata", async () => {
        const info = parseJson<VectorInfoJson>(await tiller(["vector", "info", vectorFile, "--json"]));
        expect(info).toMatchObject({ kind: "controlvector", modelHint: "llama", layers: [1, 2, 3, 4], width: 64 });
        for (const entry of built.diagnostics)
            expect(info.norms[String(entry.layer)]).toBeCloseTo(entry.norm, 4);
        expect(info.metadata["tiller.name"]).toBe("sentiment");
        expect(info.metadata["tiller.model_sha256"]).toMatch(/^[0-9a-f]{64}$/);
        const text = await tiller(["vector", "info", vectorFile]);
        expect(text.status, text.stderr).toBe(0);
        expect(text.stdout).toMatch(/^model hint:\s+llama$/m);
        expect(text.stdout).toMatch(/^norm 3:\s+[\d.]+$/m);
        expect(text.stdout).toMatch(/^tiller\.source_dataset:\s+builtin:sentiment$/m);
    });

    it("combines v:1 + v:-1 into zero, negates, scales, and measures cosine", async () => {
        const zero = await tiller(["vector", "combine", "-o", file("zero.gguf"), `${vectorFile}:1`, `${vectorFile}:-1`]);
        expect(zero.status, zero.stderr).toBe(0);
        const zeroInfo = parseJson<VectorInfoJson>(await tiller(["vector", "info", file("zero.gguf"), "--json"]));
        expect(Object.values(zeroInfo.norms)).toEqual([0, 0, 0, 0]);
        expect(zeroInfo.metadata["tiller.derived_from"]).toMatch(/1\*sentiment\.gguf \+ -1\*sentiment\.gguf/);

        const negated = await tiller(["vector", "negate", vectorFile, "-o", file("negated.gguf")]);
        expect(negated.status, negated.stderr).toBe(0);
        const original = await readControlVectorFile(vectorFile);
        const flipped = await readControlVectorFile(file("negated.gguf"));
        expect(flipped.metadata?.["tiller.model_sha256"]).toBe(original.metadata?.["tiller.model_sha256"]);
        for (const [layer, direction] of original.directions)
            expect(Array.from(flipped.directions.get(layer)!)).toEqual(Array.from(direction, (value) => -value));

        const scaled = await tiller(["vector", "scale", vectorFile, "0.5", "-o", file("half.gguf"), "--name", "half"]);
        expect(scaled.status, scaled.stderr).toBe(0);
        const halfInfo = parseJson<VectorInfoJson>(await tiller(["vector", "info", file("half.gguf"), "--json"]));
        expect(halfInfo.metadata["tiller.name"]).toBe("half");
        for (const entry of built.diagnostics)
            expect(halfInfo.norms[String(entry.layer)]).toBeCloseTo(entry.norm / 2, 4);

        const cosine = parseJson<{ layers: number[]; matrices: Record<string, number[][]> }>(
            await tiller(["vector", "cosine", vectorFile, file("negated.gguf"), file("half.gguf"), "--json"]));
        expect(cosine.layers).toEqual([1, 2, 3, 4]);
        for (const layer of cosine.layers) {
            const matrix = cosine.matrices[String(layer)]!;
            expect(matrix[0]![1]).toBeCloseTo(-1, 6);
            expect(matrix[0]![2]).toBeCloseTo(1, 6);
            expect(matrix[1]![1]).toBeCloseTo(1, 6);
        }
        const text = await tiller(["vector", "cosine", vectorFile, file("negated.gguf")]);
        expect(text.status, text.stderr).toBe(0);
        expect(text.stdout).toMatch(/^3\s+-1\.0000$/m);

        const normalized = await tiller(["vector", "combine", "--normalize", "-o", file("unit.gguf"), vectorFile]);
        expect(normalized.status, normalized.stderr).toBe(0);
        const unitInfo = parseJson<VectorInfoJson>(await tiller(["vector", "info", file("unit.gguf"), "--json"]));
        for (const norm of Object.values(unitInfo.norms))
            expect(norm).toBeCloseTo(1, 5);
    });

    describe("bad input: one line on stderr, non-zero exit", () => {
        it("a dataset file that is not valid JSON names line and column", async () => {
            fs.writeFileSync(file("broken.json"), '{\n  "name": "x",\n  "pairs": [\n    { "prompt": "a" "positive": "b" }\n  ]\n}\n');
            expectOneLineError(await tiller(buildArgs(file("broken.json"), file("out.gguf"))), /\[MALFORMED_JSON\].*broken\.json.*line 4, column 21/);
        });

        it("a dataset with an empty pairs list", async () => {
            fs.writeFileSync(file("empty.json"), JSON.stringify({ name: "empty", description: "", framing: "story", positiveLabel: "p", negativeLabel: "n", pairs: [] }));
            expectOneLineError(await tiller(buildArgs(file("empty.json"), file("out.gguf"))), /\[EMPTY\].*empty\.json.*no pairs/);
        });

        it("repeng lists and cvector-generator files whose counts differ", async () => {
            fs.writeFileSync(file("uneven.json"), JSON.stringify({ positive: ["I am glad.", "We are glad."], negative: ["I am sad."] }));
            expectOneLineError(await tiller(buildArgs(file("uneven.json"), file("out.gguf"))), /\[MISMATCHED_COUNTS\].*2 texts.*1/);
            fs.writeFileSync(file("pos3.txt"), "I am glad.\nWe are glad.\nThey are glad.\n");
            fs.writeFileSync(file("neg2.txt"), "I am sad.\nWe are sad.\n");
            expectOneLineError(await tiller(buildArgs(file("pos3.txt"), file("out.gguf"), "--negative-file", file("neg2.txt"))),
                /\[MISMATCHED_COUNTS\].*pos3\.txt has 3 prompts but neg2\.txt has 2/);
        });

        it("an unknown dataset name lists the built-in ones; a missing file is named", async () => {
            expectOneLineError(await tiller(buildArgs("sentimnt", file("out.gguf"))), /\[UNKNOWN_DATASET\].*"sentimnt".*sentiment, sycophancy, formality, refusal/);
            expectOneLineError(await tiller(buildArgs(file("absent.json"), file("out.gguf"))), /\[FILE_NOT_FOUND\].*absent\.json/);
            expectOneLineError(await tiller(buildArgs(file("pos3.txt"), file("out.gguf"))), /--negative-file/);
        });

        it("bad build options", async () => {
            expectOneLineError(await tiller(buildArgs("sentiment", file("out.gguf"), "--method", "median")), /mean, pca-diff or pca-center/);
            expectOneLineError(await tiller(buildArgs("sentiment", file("out.gguf"), "--read", "first")), /last, mean or answer/);
            expectOneLineError(await tiller(buildArgs("sentiment", file("out.gguf"), "--held-out", "1")), /held-out fraction/);
            expectOneLineError(await tiller(buildArgs("sentiment", file("out.gguf"), "--layers", "0-9")), /\[INVALID_LAYER_RANGE\].*0-9/);
            // a context smaller than the default 32 sequences must not abort inside llama.cpp
            expectOneLineError(await tiller(buildArgs("sentiment", file("out.gguf"), "--ctx-size", "16")), /\[PROMPT_TOO_LONG\]/);
            expectOneLineError(await tiller(buildArgs("sentiment", path.join(dir, "no-such-folder", "out.gguf"))), /no-such-folder/);
            expect(fs.existsSync(file("out.gguf"))).toBe(false);
        });

        it("vectors of different widths in combine and cosine", async () => {
            const narrow = file("narrow.gguf");
            await writeControlVectorFile(narrow, { modelHint: "llama", nEmbd: 32, directions: new Map([[1, new Float32Array(32).fill(0.1)]]) });
            expectOneLineError(await tiller(["vector", "combine", "-o", file("sum.gguf"), vectorFile, narrow]), /\[VECTOR_MISMATCH\].*64.*32/);
            expectOneLineError(await tiller(["vector", "cosine", vectorFile, narrow]), /\[VECTOR_MISMATCH\].*64.*32/);
            expect(fs.existsSync(file("sum.gguf"))).toBe(false);
        });

        it("a NaN weight or factor", async () => {
            expectOneLineError(await tiller(["vector", "combine", "-o", file("sum.gguf"), `${vectorFile}:nan`, vectorFile]), /weight "nan" is not a finite number/);
            expectOneLineError(await tiller(["vector", "scale", vectorFile, "NaN", "-o", file("sum.gguf")]), /"NaN" is not a finite number/);
        });

        it("a model where a vector is expected, and a file that is not GGUF", async () => {
            expectOneLineError(await tiller(["vector", "info", model]), /not a control vector/);
            fs.writeFileSync(file("notes.gguf"), "not a vector\n".repeat(10));
            expectOneLineError(await tiller(["vector", "negate", file("notes.gguf"), "-o", file("x.gguf")]), /\[NOT_GGUF\].*notes\.gguf/);
        });
    });
});
