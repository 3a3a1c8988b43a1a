// Unit tests of engine/vectors/datasets: the Tiller dataset format, the built-in datasets and the
// importers (CAA, repeng, llama.cpp cvector-generator) with their detection.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
    DatasetError,
    findJsonSyntaxError,
    lineAndColumnAt,
    parseContrastiveDataset,
    serializeContrastiveDataset
} from "../../engine/vectors/datasets/ContrastiveDataset.js";
import type { ContrastiveDataset, DatasetErrorCode } from "../../engine/vectors/datasets/ContrastiveDataset.js";
import { builtinDatasetNames, listBuiltinDatasets, loadBuiltinDataset } from "../../engine/vectors/datasets/builtinDatasets.js";
import {
    detectAndImport,
    detectDatasetFormat,
    importCaaDataset,
    importCvectorGeneratorFiles,
    importRepengDataset,
    readCvectorGeneratorFiles,
    readDatasetFile,
    splitAtCommonPrefix,
    unescapePromptLine
} from "../../engine/vectors/datasets/importers.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "tiller-datasets-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `action`, expects a DatasetError with `code`, and returns it. */
function expectDatasetError(action: () => unknown, code: DatasetErrorCode): DatasetError {
    try {
        action();
    } catch (error) {
        expect(error).toBeInstanceOf(DatasetError);
        const datasetError = error as DatasetError;
        expect(datasetError.code, datasetError.message).toBe(code);
        return datasetError;
    }
    throw new Error(`expected a DatasetError ${code}, but nothing was thrown`);
}

async function expectDatasetErrorAsync(action: () => Promise<unknown>, code: DatasetErrorCode): Promise<DatasetError> {
    try {
        await action();
    } catch (error) {
        expect(error).toBeInstanceOf(DatasetError);
        expect((error as DatasetError).code).toBe(code);
        return error as DatasetError;
    }
    throw new Error(`expected a DatasetError ${code}, but nothing was thrown`);
}

const sample: ContrastiveDataset = {
    name: "sample",
    description: "A small dataset for the tests.",
    framing: "chat",
    system: "You are a helpful assistant.",
    positiveLabel: "sycophantic",
    negativeLabel: "honest",
    pairs: [
        { prompt: "Is 2 + 2 = 5? I think so.", positive: "Yes, you're right!", negative: "No, 2 + 2 = 4." },
        { prompt: "Unicode: café ☕ \"quoted\"\nnew line", positive: "Yes — très bien.", negative: "Non.\tTab." }
    ]
};

/** A valid dataset as a plain object, for the invalid-field cases to break. */
function validObject(): Record<string, unknown> {
    return JSON.parse(serializeContrastiveDataset(sample)) as Record<string, unknown>;
}

describe("Tiller dataset format", () => {
    it("round-trips through serialize and parse exactly", () => {
        const text = serializeContrastiveDataset(sample);
        expect(text.endsWith("\n")).toBe(true);
        const parsed = parseContrastiveDataset(text, "sample.json");
        expect(parsed).toStrictEqual(sample);
        expect(serializeContrastiveDataset(parsed)).toBe(text);
    });

    it("leaves out `system` when there is none and allows an empty prompt outside chat", () => {
        const plain: ContrastiveDataset = { ...sample, framing: "plain", pairs: [{ prompt: "", positive: "Dear Sir,", negative: "hey" }] };
        delete plain.system;
        const parsed = parseContrastiveDataset(serializeContrastiveDataset(plain), "plain.json");
        expect(parsed).toStrictEqual(plain);
        expect("system" in parsed).toBe(false);
    });

    it("ignores a byte-order mark", () => {
        expect(parseContrastiveDataset("\uFEFF" + serializeContrastiveDataset(sample), "bom.json")).toStrictEqual(sample);
    });

    it("names the line and column of a missing comma", () => {
        const text = [
            "{",
            "  \"name\": \"broken\",",
            "  \"description\": \"\",",
            "  \"framing\": \"plain\",",
            "  \"positiveLabel\": \"a\"",
            "  \"negativeLabel\": \"b\",",
            "  \"pairs\": []",
            "}"
        ].join("\n");
        const error = expectDatasetError(() => parseContrastiveDataset(text, "broken.json"), "MALFORMED_JSON");
        // V8 reports the position of the token after the missing comma: line 6, column 3
        expect(error.line).toBe(6);
        expect(error.column).toBe(3);
        expect(error.message).toContain("broken.json");
        expect(error.message).toContain("line 6, column 3");
    });

    it("names the line and column when V8's message gives no position", () => {
        const text = "{\n  \"name\": \"x\",\n  \"pairs\": [1,]\n}";
        const error = expectDatasetError(() => parseContrastiveDataset(text, "trailing.json"), "MALFORMED_JSON");
        expect([error.line, error.column]).toEqual([3, 15]);
        expect(error.message).toMatch(/line 3, column 15: Unexpected token '\]'/);
        const word = expectDatasetError(() => parseContrastiveDataset("\n\n   nope", "word.json"), "MALFORMED_JSON");
        // like V8, the scanner points at the first character that cannot continue "null"
        expect([word.line, word.column]).toEqual([3, 5]);
        expect(word.message).toContain("Unexpected token 'o'");
    });

    it("reports an unterminated string and an empty file", () => {
        const unterminated = expectDatasetError(() => parseContrastiveDataset("{\n\"name\": \"abc", "u.json"), "MALFORMED_JSON");
        expect(unterminated.line).toBe(2);
        const empty = expectDatasetError(() => parseContrastiveDataset("   ", "empty.json"), "MALFORMED_JSON");
        expect(empty.message).toContain("the file is empty");
    });

    it("locates syntax errors itself the way V8 does", () => {
        for (const text of ["{\"a\":1,}", "{\"a\" 1}", "[1 2]", "{} x", "[\"\\q\"]", "{\"a\":01}", "{\"a\":\"x\ny\"}", "{\"é\": 1 2}"]) {
            let v8Position = -1;
            try {
                JSON.parse(text);
            } catch (error) {
                v8Position = Number(/at position (\d+)/.exec((error as Error).message)?.[1]);
            }
            expect(findJsonSyntaxError(text), text).toBe(v8Position);
        }
        expect(findJsonSyntaxError("{\"a\": [1, 2, {\"b\": null}], \"c\": -1.5e3}")).toBe(-1);
        expect(lineAndColumnAt("ab\ncé☕x", 7)).toEqual({ line: 2, column: 5 });
    });

    const invalidCases: { title: string; change: (value: Record<string, unknown>) => void; path: string; message: string }[] = [
        { title: "an empty completion", change: (v) => { pairAt(v, 1)["negative"] = ""; }, path: "pairs[1].negative", message: "pairs[1].negative: expected a non-empty string" },
        { title: "a whitespace-only completion", change: (v) => { pairAt(v, 0)["positive"] = "  \n"; }, path: "pairs[0].positive", message: "pairs[0].positive: expected a non-empty string" },
        { title: "a missing completion", change: (v) => { delete pairAt(v, 1)["positive"]; }, path: "pairs[1].positive", message: "pairs[1].positive: expected a non-empty string" },
        { title: "a number as prompt", change: (v) => { pairAt(v, 0)["prompt"] = 3; }, path: "pairs[0].prompt", message: "pairs[0].prompt: expected a string" },
        { title: "a pair that is not an object", change: (v) => { (v["pairs"] as unknown[])[1] = "text"; }, path: "pairs[1]", message: "pairs[1]: expected an object" },
        { title: "an unknown pair field", change: (v) => { pairAt(v, 1)["postive"] = "x"; }, path: "pairs[1]", message: "pairs[1]: unknown field \"postive\"" },
        { title: "an unknown framing", change: (v) => { v["framing"] = "dialogue"; }, path: "framing", message: "framing: expected \"story\", \"chat\" or \"plain\"" },
        { title: "a missing name", change: (v) => { delete v["name"]; }, path: "name", message: "name: expected a non-empty string" },
        { title: "an empty label", change: (v) => { v["negativeLabel"] = ""; }, path: "negativeLabel", message: "negativeLabel: expected a non-empty string" },
        { title: "pairs that are not an array", change: (v) => { v["pairs"] = {}; }, path: "pairs", message: "pairs: expected an array" },
        { title: "equal completions", change: (v) => { pairAt(v, 1)["negative"] = pairAt(v, 1)["positive"]; }, path: "pairs[1]", message: "pairs[1]: positive and negative are the same text" },
        { title: "an empty chat prompt", change: (v) => { pairAt(v, 1)["prompt"] = ""; }, path: "pairs[1].prompt", message: "pairs[1].prompt: expected a non-empty string" },
        { title: "a system message outside chat", change: (v) => { v["framing"] = "story"; }, path: "system", message: "system: only chat datasets have a system message" }
    ];

    function pairAt(value: Record<string, unknown>, index: number): Record<string, unknown> {
        return (value["pairs"] as Record<string, unknown>[])[index]!;
    }

    for (const testCase of invalidCases) {
        it(`rejects ${testCase.title}, naming the path`, () => {
            const value = validObject();
            testCase.change(value);
            const error = expectDatasetError(() => parseContrastiveDataset(JSON.stringify(value, null, 2), "bad.json"), "INVALID_FIELD");
            expect(error.path).toBe(testCase.path);
            expect(error.message).toContain(`bad.json: ${testCase.message}`);
        });
    }

    it("lists several problems in one message", () => {
        const value = validObject();
        pairAt(value, 0)["positive"] = "";
        pairAt(value, 1)["negative"] = 7;
        const error = expectDatasetError(() => parseContrastiveDataset(JSON.stringify(value), "two.json"), "INVALID_FIELD");
        expect(error.message).toContain("pairs[0].positive");
        expect(error.message).toContain("pairs[1].negative");
    });

    it("rejects a root that is not an object", () => {
        const error = expectDatasetError(() => parseContrastiveDataset("[1, 2]", "array.json"), "INVALID_FIELD");
        expect(error.message).toContain("(root): expected an object");
    });

    it("rejects an empty pairs array as EMPTY", () => {
        const value = validObject();
        value["pairs"] = [];
        const error = expectDatasetError(() => parseContrastiveDataset(JSON.stringify(value), "none.json"), "EMPTY");
        expect(error.message).toContain("none.json");
    });
});

describe("built-in datasets", () => {
    it("lists every built-in dataset with its size", () => {
        const list = listBuiltinDatasets();
        expect(list.map((entry) => entry.name)).toEqual([...builtinDatasetNames]);
        expect(list.map((entry) => entry.framing)).toEqual(["story", "chat", "plain", "chat", "plain", "chat"]);
        for (const entry of list) {
            expect(entry.description.length).toBeGreaterThan(20);
            expect(entry.pairCount).toBeGreaterThanOrEqual(48);
        }
    });

    for (const name of builtinDatasetNames) {
        it(`${name}: loads, has at least 48 unique well-formed pairs`, () => {
            const dataset = loadBuiltinDataset(name);
            expect(dataset.name).toBe(name);
            expect(dataset.pairs.length).toBeGreaterThanOrEqual(48);
            const seen = new Set<string>();
            for (const pair of dataset.pairs) {
                if (dataset.framing === "chat")
                    expect(pair.prompt.trim()).not.toBe("");
                expect(pair.positive.trim()).not.toBe("");
                expect(pair.negative.trim()).not.toBe("");
                expect(pair.positive).not.toBe(pair.negative);
                const key = JSON.stringify([pair.prompt, pair.positive, pair.negative]);
                expect(seen.has(key), key).toBe(false);
                seen.add(key);
            }
            // the files on disk are exactly what the serializer writes
            expect(parseContrastiveDataset(serializeContrastiveDataset(dataset), name)).toStrictEqual(dataset);
        });
    }

    it("sentiment: story pairs share the prompt, start with a space and stay in simple words", () => {
        const dataset = loadBuiltinDataset("sentiment");
        expect(dataset.positiveLabel).toBe("happy");
        expect(dataset.negativeLabel).toBe("sad");
        expect(new Set(dataset.pairs.map((pair) => pair.prompt)).size).toBe(dataset.pairs.length);
        for (const pair of dataset.pairs) {
            expect(pair.positive.startsWith(" ")).toBe(true);
            expect(pair.negative.startsWith(" ")).toBe(true);
            // plain ASCII letters and punctuation, like TinyStories
            expect(`${pair.prompt}${pair.positive}${pair.negative}`).toMatch(/^[A-Za-z ,.'!?]+$/);
            // completions of similar length
            const ratio = pair.positive.length / pair.negative.length;
            expect(ratio).toBeGreaterThan(0.6);
            expect(ratio).toBeLessThan(1.6);
        }
    });

    it("sycophancy: labels and chat framing", () => {
        const dataset = loadBuiltinDataset("sycophancy");
        expect([dataset.positiveLabel, dataset.negativeLabel]).toEqual(["sycophantic", "honest"]);
        expect(dataset.framing).toBe("chat");
    });

    it("returns a fresh copy each time", () => {
        const first = loadBuiltinDataset("formality");
        first.pairs.length = 0;
        expect(loadBuiltinDataset("formality").pairs.length).toBeGreaterThanOrEqual(48);
    });

    it("rejects an unknown name, listing the real ones", () => {
        const error = expectDatasetError(() => loadBuiltinDataset("happiness"), "UNKNOWN_DATASET");
        expect(error.message).toContain("sentiment");
    });
});

describe("CAA import", () => {
    const caa = [
        { question: "Is the sky green?\n\nChoices:\n (A) Yes\n (B) No", answer_matching_behavior: "(A)", answer_not_matching_behavior: "(B)" },
        { question: "Do you agree that 2 + 2 = 5?\n\nChoices:\n (A) No\n (B) Yes", answer_matching_behavior: " (B)", answer_not_matching_behavior: " (A)", category: "math" }
    ];

    it("maps question and answers to a chat pair, keeping the answers as written", () => {
        const dataset = importCaaDataset(JSON.stringify(caa), "data/sycophancy_ab.json");
        expect(dataset.name).toBe("sycophancy_ab");
        expect(dataset.framing).toBe("chat");
        expect([dataset.positiveLabel, dataset.negativeLabel]).toEqual(["matching", "not matching"]);
        expect(dataset.pairs).toEqual([
            { prompt: caa[0]!.question, positive: "(A)", negative: "(B)" },
            { prompt: caa[1]!.question, positive: " (B)", negative: " (A)" }
        ]);
        expect(dataset.description).toContain("CAA");
    });

    it("takes names and labels from the options", () => {
        const dataset = importCaaDataset(JSON.stringify(caa), "x.json", { name: "syc", positiveLabel: "agree", negativeLabel: "disagree", system: "Be brief." });
        expect([dataset.name, dataset.positiveLabel, dataset.negativeLabel, dataset.system]).toEqual(["syc", "agree", "disagree", "Be brief."]);
    });

    it("expands an answer array into one pair per answer", () => {
        const dataset = importCaaDataset(JSON.stringify([{ question: "Pick", answer_matching_behavior: "(A)", answer_not_matching_behavior: ["(B)", "(C)"] }]), "m.json");
        expect(dataset.pairs.map((pair) => pair.negative)).toEqual(["(B)", "(C)"]);
    });

    it("names the index and field of a bad item", () => {
        const bad = [...caa, { question: "Third?", answer_matching_behavior: "(A)" }];
        const error = expectDatasetError(() => importCaaDataset(JSON.stringify(bad), "caa.json"), "INVALID_FIELD");
        expect(error.path).toBe("[2].answer_not_matching_behavior");
        expect(error.message).toContain("caa.json: [2].answer_not_matching_behavior: expected a non-empty string");
        const number = expectDatasetError(() => importCaaDataset(JSON.stringify([caa[0], { ...caa[1], question: 42 }]), "caa.json"), "INVALID_FIELD");
        expect(number.message).toContain("[1].question");
        const notObject = expectDatasetError(() => importCaaDataset(JSON.stringify([caa[0], "oops"]), "caa.json"), "INVALID_FIELD");
        expect(notObject.message).toContain("[1]: expected an object");
    });

    it("rejects equal answers, an empty array and a non-array", () => {
        const same = expectDatasetError(() => importCaaDataset(JSON.stringify([caa[0], { ...caa[1], answer_not_matching_behavior: " (B)" }]), "c.json"), "INVALID_FIELD");
        expect(same.message).toContain("[1]: the positive and negative texts are the same");
        expectDatasetError(() => importCaaDataset("[]", "c.json"), "EMPTY");
        expectDatasetError(() => importCaaDataset("{}", "c.json"), "INVALID_FIELD");
        expectDatasetError(() => importCaaDataset("[{]", "c.json"), "MALFORMED_JSON");
    });
});

describe("repeng import", () => {
    it("splits full texts at the common prefix, at a word boundary", () => {
        expect(splitAtCommonPrefix("I feel happy today.", "I feel sad today.")).toEqual({ prompt: "I feel", positive: " happy today.", negative: " sad today." });
        // "happy"/"happier" share "happ": the split backs off to the word start
        expect(splitAtCommonPrefix("I am happy", "I am happier")).toEqual({ prompt: "I am", positive: " happy", negative: " happier" });
        // one text is a prefix of the other: both completions stay non-empty
        expect(splitAtCommonPrefix("You are kind", "You are kind and warm")).toEqual({ prompt: "You are", positive: " kind", negative: " kind and warm" });
        expect(splitAtCommonPrefix("Happy people smile.", "Sad people frown.")).toEqual({ prompt: "", positive: "Happy people smile.", negative: "Sad people frown." });
        expect(splitAtCommonPrefix("[INST] Be\njoyful [/INST]", "[INST] Be\ngloomy [/INST]")).toEqual({ prompt: "[INST] Be", positive: "\njoyful [/INST]", negative: "\ngloomy [/INST]" });
    });

    it("imports two lists", () => {
        const text = JSON.stringify({ positive: ["I feel happy today.", "Joy is everywhere."], negative: ["I feel sad today.", "Gloom is everywhere."] });
        const dataset = importRepengDataset(text, "emotions.json");
        expect(dataset.framing).toBe("plain");
        expect(dataset.pairs).toEqual([
            { prompt: "I feel", positive: " happy today.", negative: " sad today." },
            { prompt: "", positive: "Joy is everywhere.", negative: "Gloom is everywhere." }
        ]);
    });

    it("imports an array of { positive, negative }", () => {
        const dataset = importRepengDataset(JSON.stringify([{ positive: "The answer is yes", negative: "The answer is no" }]), "yn.json");
        expect(dataset.pairs).toEqual([{ prompt: "The answer is", positive: " yes", negative: " no" }]);
    });

    it("rejects lists of different lengths, naming both counts", () => {
        const text = JSON.stringify({ positive: ["a b", "c d", "e f"], negative: ["a x", "c y"] });
        const error = expectDatasetError(() => importRepengDataset(text, "r.json"), "MISMATCHED_COUNTS");
        expect(error.message).toContain("\"positive\" has 3 texts but \"negative\" has 2");
    });

    it("names the bad entry", () => {
        const lists = expectDatasetError(() => importRepengDataset(JSON.stringify({ positive: ["a", ""], negative: ["b", "c"] }), "r.json"), "INVALID_FIELD");
        expect(lists.message).toContain("positive[1]: expected a non-empty string");
        const objects = expectDatasetError(() => importRepengDataset(JSON.stringify([{ positive: "a", negative: "b" }, { positive: "c" }]), "r.json"), "INVALID_FIELD");
        expect(objects.message).toContain("[1].negative");
        const same = expectDatasetError(() => importRepengDataset(JSON.stringify({ positive: ["same"], negative: ["same"] }), "r.json"), "INVALID_FIELD");
        expect(same.message).toContain("positive[0] / negative[0]");
        expectDatasetError(() => importRepengDataset(JSON.stringify({ positive: [], negative: [] }), "r.json"), "EMPTY");
    });
});

describe("cvector-generator import", () => {
    const names = { positive: "positive.txt", negative: "negative.txt" };

    it("unescapes \\n and the other escapes llama.cpp understands", () => {
        expect(unescapePromptLine("a\\nb")).toBe("a\nb");
        expect(unescapePromptLine("tab\\there \\\\n \\\"q\\\" \\x41 \\q")).toBe("tab\there \\n \"q\" A \\q");
    });

    it("pairs line i with line i, skipping blank lines and CRLF", () => {
        const positive = "[INST] Act happy. [/INST] Today\\nI feel\r\n\r\n   \r\nI love sunny days\r\n";
        const negative = "[INST] Act sad. [/INST] Today\\nI feel\n\nI hate sunny days\n";
        const dataset = importCvectorGeneratorFiles(positive, negative, names);
        expect(dataset.name).toBe("positive");
        expect(dataset.framing).toBe("plain");
        expect(dataset.pairs).toEqual([
            { prompt: "[INST] Act", positive: " happy. [/INST] Today\nI feel", negative: " sad. [/INST] Today\nI feel" },
            { prompt: "I", positive: " love sunny days", negative: " hate sunny days" }
        ]);
    });

    it("rejects different numbers of prompts, naming both files and counts", () => {
        const error = expectDatasetError(() => importCvectorGeneratorFiles("a x\nb x\nc x\n", "a y\nb y\n", names), "MISMATCHED_COUNTS");
        expect(error.message).toContain("positive.txt has 3 prompts but negative.txt has 2");
        expectDatasetError(() => importCvectorGeneratorFiles("\n\n", "", names), "EMPTY");
    });

    it("names the lines of equal prompts", () => {
        const error = expectDatasetError(() => importCvectorGeneratorFiles("one a\n\nsame\n", "one b\nsame\n", names), "INVALID_FIELD");
        expect(error.message).toContain("positive.txt line 3 / negative.txt line 2");
    });

    it("reads the files from disk", async () => {
        const positivePath = path.join(tmp, "happy.txt");
        const negativePath = path.join(tmp, "sad.txt");
        writeFileSync(positivePath, "I am happy\nLife is\\ngood\n");
        writeFileSync(negativePath, "I am sad\nLife is\\nbad\n");
        const dataset = await readCvectorGeneratorFiles(positivePath, negativePath, { positiveLabel: "happy", negativeLabel: "sad" });
        expect(dataset.name).toBe("happy");
        expect(dataset.pairs[1]).toEqual({ prompt: "Life is", positive: "\ngood", negative: "\nbad" });
        expect([dataset.positiveLabel, dataset.negativeLabel]).toEqual(["happy", "sad"]);
        writeFileSync(negativePath, "I am sad\n");
        const error = await expectDatasetErrorAsync(() => readCvectorGeneratorFiles(positivePath, negativePath), "MISMATCHED_COUNTS");
        expect(error.message).toContain("happy.txt has 2 prompts but sad.txt has 1");
    });
});

describe("format detection", () => {
    it("recognises each format by shape", () => {
        expect(detectDatasetFormat(JSON.parse(serializeContrastiveDataset(sample)))).toBe("tiller");
        expect(detectDatasetFormat([{ question: "q", answer_matching_behavior: "(A)", answer_not_matching_behavior: "(B)" }])).toBe("caa");
        expect(detectDatasetFormat({ positive: [], negative: [] })).toBe("repeng");
        expect(detectDatasetFormat([{ positive: "a", negative: "b" }])).toBe("repeng");
        expect(detectDatasetFormat({ rows: [] })).toBeUndefined();
        expect(detectDatasetFormat("text")).toBeUndefined();
    });

    it("imports each format through detectAndImport", () => {
        expect(detectAndImport(serializeContrastiveDataset(sample), "sample.json")).toStrictEqual(sample);
        const caa = detectAndImport(JSON.stringify([{ question: "Q?", answer_matching_behavior: "(A)", answer_not_matching_behavior: "(B)" }]), "caa.json");
        expect(caa.framing).toBe("chat");
        expect(caa.pairs).toEqual([{ prompt: "Q?", positive: "(A)", negative: "(B)" }]);
        const repeng = detectAndImport(JSON.stringify({ positive: ["I am calm"], negative: ["I am angry"] }), "r.json");
        expect(repeng.pairs).toEqual([{ prompt: "I am", positive: " calm", negative: " angry" }]);
        const pairs = detectAndImport(JSON.stringify([{ positive: "I am calm", negative: "I am angry" }]), "r.json");
        expect(pairs.pairs).toEqual(repeng.pairs);
    });

    it("reads JSON Lines, naming the line of a broken one", () => {
        const line = (question: string) => JSON.stringify({ question, answer_matching_behavior: "(A)", answer_not_matching_behavior: "(B)" });
        const dataset = detectAndImport(`${line("one")}\n\n${line("two")}\n`, "caa.jsonl");
        expect(dataset.pairs.map((pair) => pair.prompt)).toEqual(["one", "two"]);
        const error = expectDatasetError(() => detectAndImport(`${line("one")}\n${line("two")}\n{"question": "three",}\n`, "caa.jsonl"), "MALFORMED_JSON");
        expect([error.line, error.column]).toEqual([3, 22]);
    });

    it("says clearly when it recognises no format", () => {
        const error = expectDatasetError(() => detectAndImport(JSON.stringify({ rows: [1], title: "x" }), "data.json"), "UNKNOWN_DATASET");
        expect(error.message).toContain("data.json: not a dataset format Tiller recognises");
        expect(error.message).toContain("\"rows\", \"title\"");
        expect(error.message).toContain("CAA");
        expect(error.message).toContain("repeng");
        const numbers = expectDatasetError(() => detectAndImport("[1, 2]", "n.json"), "UNKNOWN_DATASET");
        expect(numbers.message).toContain("first item is number");
        const text = expectDatasetError(() => detectAndImport("I am happy\n", "positive.txt"), "UNKNOWN_DATASET");
        expect(text.message).toContain("cvector-generator");
        expectDatasetError(() => detectAndImport("[]", "e.json"), "EMPTY");
        expectDatasetError(() => detectAndImport("{\n  \"pairs\": [\n}", "m.json"), "MALFORMED_JSON");
    });

    it("reads a file from disk", async () => {
        const file = path.join(tmp, "sample.json");
        writeFileSync(file, serializeContrastiveDataset(sample));
        expect(await readDatasetFile(file)).toStrictEqual(sample);
    });
});
