// Seeded fuzzing of every entry that reads GGUF files: ≥ 2,000 mutations of a real model and a real
// control vector (bit flips, hostile counts and sizes, cuts, insertions, spliced garbage) through
// the model header reader, vector import, the library listing and the model scan. Each mutant must
// end in a typed error (GgufError / ControlVectorError / TillerError other than INTERNAL) or a
// valid result, within a time bound, and the heap must not grow with the number of cases.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlVectorError, encodeControlVector, parseControlVector } from "../../engine/gguf/ControlVectorFile.js";
import { GgufError } from "../../engine/gguf/GgufError.js";
import { readGguf } from "../../engine/gguf/GgufReader.js";
import { encodeRandomModel } from "../../engine/gguf/RandomModelFile.js";
import { readModelHeader } from "../../engine/models/readModelHeader.js";
import { scanModels } from "../../engine/models/scanModels.js";
import { TillerError } from "../../engine/protocol/TillerError.js";
import { VectorLibrary } from "../../engine/vectors/library/VectorLibrary.js";
import { mutateGguf as mutate, seededRandom as random } from "../../bench/ggufMutations.js";
import { sharedFiles } from "../support/sharedFiles.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const SEED = Number(process.env.TILLER_FUZZ_SEED ?? 20261130);
const CASES_PER_FILE = Number(process.env.TILLER_FUZZ_CASES ?? 1000);
/** one case on a loaded 2-core machine stays far below this; a reader stuck in a loop does not */
const CASE_TIME_LIMIT_MS = 3_000;
const HEAP_GROWTH_LIMIT_BYTES = 64 * 1024 * 1024;

v8.setFlagsFromString("--expose-gc");
const collectGarbage = vm.runInNewContext("gc") as () => void;

/** A failure the readers are allowed to report; anything else (TypeError, RangeError, INTERNAL) is a bug. */
function isTypedError(error: unknown): boolean {
    if (error instanceof GgufError || error instanceof ControlVectorError)
        return true;
    return error instanceof TillerError && error.code !== "INTERNAL";
}

async function outcome(read: () => Promise<unknown> | unknown): Promise<"ok" | "typed-error"> {
    try {
        await read();
        return "ok";
    } catch (error) {
        if (isTypedError(error))
            return "typed-error";
        throw new Error(`untyped failure: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
    }
}

interface Source {
    name: string;
    /** how many mutants of it */
    cases: number;
    bytes: Uint8Array;
    /** bytes before the tensor data: where mutations matter most */
    hot: number;
}

describe("GGUF readers under seeded mutation", () => {
    let work: string;
    const sources: Source[] = [];

    beforeAll(() => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-fuzz-"));
        // models: a small one from the project's writer (a complete llama GGUF, tokenizer included) for
        // most cases, and the llama.cpp-converted stories260K for a tenth (it is 1 MiB: reading it is the cost)
        const small = encodeRandomModel({ nLayer: 2, nEmbd: 16, nHead: 2, nVocab: 300, type: "f16", seed: 5 });
        const converted = fs.existsSync(sharedFiles.stories260K) ? sharedFiles.stories260K : path.join(repoRoot, "models", "toyworld.gguf");
        const vectorBytes = fs.existsSync(sharedFiles.paritySineVector)
            ? fs.readFileSync(sharedFiles.paritySineVector)
            : encodeControlVector({ modelHint: "llama", nEmbd: 64, directions: new Map([1, 2, 3, 4].map((layer) => [layer, Float32Array.from({ length: 64 }, (_, i) => Math.sin(i + layer))])), metadata: { "tiller.name": "sine" } });
        const convertedCases = Math.round(CASES_PER_FILE / 10);
        for (const [name, cases, bytes] of [
            ["model", CASES_PER_FILE - convertedCases, small],
            ["converted", convertedCases, new Uint8Array(fs.readFileSync(converted))],
            ["vector", CASES_PER_FILE, new Uint8Array(vectorBytes)]
        ] as const)
            sources.push({ name, cases, bytes, hot: readGguf(bytes).dataOffset });
    });
    afterAll(() => {
        if (work != null)
            fs.rmSync(work, { recursive: true, force: true });
    });

    it(`${2 * CASES_PER_FILE} mutants (seed ${SEED}): typed errors only, bounded time per case, bounded heap`, async () => {
        const next = random(SEED);
        // one folder is both the scanned models folder and the listed library: each mutant is written once
        const scanRoot = path.join(work, "scan");
        const importRoot = path.join(work, "imported");
        const library = new VectorLibrary(scanRoot);
        const imported = new VectorLibrary(importRoot);
        const tally = { cases: 0, readable: 0, refused: 0, slowest: 0 };

        const runCase = async (source: Source, index: number) => {
            const { bytes, how } = mutate(source.bytes, source.hot, next);
            const label = `${source.name} #${index} (${how})`;
            const started = performance.now();
            const file = path.join(scanRoot, `${source.name}${index}.gguf`);
            const listed = file;
            fs.writeFileSync(file, bytes);
            try {
                const header = await outcome(() => readModelHeader([file]));
                const vector = await outcome(() => parseControlVector(bytes, file));
                let importedId: string | undefined;
                const viaImport = await outcome(async () => {
                    importedId = (await imported.importGguf(file)).id;
                });
                if (importedId != null)
                    await imported.delete(importedId);
                const listing = await library.list(); // never throws; a bad file is a problem entry
                const inListing = listing.entries.some((entry) => entry.id === path.basename(listed, ".gguf"));
                const problem = listing.problems.find((entry) => entry.file === path.basename(listed));
                expect(inListing || problem != null, label).toBe(true);
                expect(problem?.message ?? "", label).not.toMatch(/TypeError|RangeError|is not a function|undefined/);
                const scanned = await scanModels({ roots: { "project": [scanRoot], "node-llama-cpp": [], "lm-studio": [], "huggingface": [], "ollama": [] }, fit: false, maxDepth: 1 });
                const found = scanned.find((model) => model.path === file);
                expect(found, label).toBeDefined();
                expect((found!.header != null) === (header === "ok"), label).toBe(true);
                if (vector === "ok")
                    tally.readable++;
                else
                    tally.refused++;
                // import reads what parseControlVector reads (plus the library's own checks)
                if (vector !== "ok")
                    expect(viaImport, label).toBe("typed-error");
            } catch (error) {
                throw new Error(`${label}: ${(error as Error).message}`, { cause: error });
            } finally {
                fs.rmSync(file);
            }
            const elapsed = performance.now() - started;
            tally.slowest = Math.max(tally.slowest, elapsed);
            expect(elapsed, `${label} took ${elapsed.toFixed(0)} ms`).toBeLessThan(CASE_TIME_LIMIT_MS);
            tally.cases++;
        };

        // warm up (module loading, caches), then measure the heap over the rest
        for (const source of sources)
            await runCase(source, -1);
        collectGarbage();
        const heapBefore = process.memoryUsage().heapUsed;
        for (let index = 0; index < CASES_PER_FILE; index++) {
            for (const source of sources) {
                if (index < source.cases)
                    await runCase(source, index);
            }
        }
        collectGarbage();
        const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
        console.log(`gguf fuzz: ${tally.cases} cases, ${tally.refused} refused with typed errors, ${tally.readable} still readable, slowest ${tally.slowest.toFixed(0)} ms, heap growth ${(heapGrowth / 1048576).toFixed(1)} MiB`);
        expect(tally.cases).toBe(2 * CASES_PER_FILE + sources.length);
        expect(tally.refused).toBeGreaterThan(CASES_PER_FILE / 2); // the mutations do reach the parser's checks
        expect(heapGrowth).toBeLessThan(HEAP_GROWTH_LIMIT_BYTES);
    }, 300_000);
});
