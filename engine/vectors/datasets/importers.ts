// Importers from the contrastive-pair formats other tools use, each returning a validated
// ContrastiveDataset or throwing a DatasetError that names the item and field at fault:
//   - CAA (Rimsky et al.) A/B JSON: [{ question, answer_matching_behavior, answer_not_matching_behavior }]
//   - repeng: { positive: string[], negative: string[] } or [{ positive, negative }] of full texts
//   - llama.cpp cvector-generator: two prompt files, one prompt per line, "\n" escapes
// and detectAndImport, which picks the importer for a JSON file by its shape.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { DatasetError } from "./DatasetError.js";
import {
    formatJsonPath,
    invalidFieldError,
    lineAndColumnAt,
    parseDatasetJson,
    validateContrastiveDataset
} from "./ContrastiveDataset.js";
import type { ContrastiveDataset, ContrastivePair, DatasetFraming } from "./ContrastiveDataset.js";

/** Metadata for an imported dataset; every field has a default derived from the source. */
export interface ImportOptions {
    /** default: the file name without its extension */
    name?: string;
    /** default: "Imported from <file> (<format>, N pairs)." */
    description?: string;
    /** default: "chat" for CAA, "plain" for repeng and cvector-generator */
    framing?: DatasetFraming;
    /** a system message (chat framing only); default: none */
    system?: string;
    /** default: "matching" (CAA), "positive" (repeng, cvector-generator) */
    positiveLabel?: string;
    /** default: "not matching" (CAA), "negative" (repeng, cvector-generator) */
    negativeLabel?: string;
}

/** A pair before validation, with the source location that error messages name. */
interface SourcedPair extends ContrastivePair {
    origin: string;
}

function baseName(sourceName: string): string {
    const base = path.basename(sourceName).replace(/\.(jsonl|json|txt)$/i, "");
    return base.length > 0 ? base : sourceName;
}

/**
 * Builds and validates the dataset. Equal completions are reported with the source location
 * (e.g. `[3]`, `positive.txt line 7`) rather than the dataset's own `pairs[i]`.
 */
function finishImport(sourceName: string, format: string, pairs: readonly SourcedPair[], defaults: {
    framing: DatasetFraming; positiveLabel: string; negativeLabel: string;
}, options: ImportOptions): ContrastiveDataset {
    if (pairs.length === 0)
        throw new DatasetError("EMPTY", `${sourceName}: no pairs to import (${format})`, { source: sourceName });
    for (const pair of pairs) {
        if (pair.positive === pair.negative)
            throw new DatasetError("INVALID_FIELD", `${sourceName}: ${pair.origin}: the positive and negative texts are the same`,
                { source: sourceName, path: pair.origin });
    }
    const framing = options.framing ?? defaults.framing;
    if (framing === "chat") {
        const empty = pairs.find((pair) => pair.prompt.trim().length === 0);
        if (empty !== undefined)
            throw new DatasetError("INVALID_FIELD", `${sourceName}: ${empty.origin}: chat framing needs a non-empty prompt (the user's message)`,
                { source: sourceName, path: empty.origin });
    }
    const dataset: ContrastiveDataset = {
        name: options.name ?? baseName(sourceName),
        description: options.description ?? `Imported from ${path.basename(sourceName)} (${format}, ${pairs.length} pair${pairs.length === 1 ? "" : "s"}).`,
        framing,
        ...(options.system !== undefined ? { system: options.system } : {}),
        positiveLabel: options.positiveLabel ?? defaults.positiveLabel,
        negativeLabel: options.negativeLabel ?? defaults.negativeLabel,
        pairs: pairs.map((pair) => ({ prompt: pair.prompt, positive: pair.positive, negative: pair.negative }))
    };
    return validateContrastiveDataset(dataset, sourceName);
}

// ---- shared prefix of two full texts --------------------------------------------------------------

/**
 * Splits two full texts into the longest common prefix that ends at a word boundary and the two
 * remainders. The whitespace before the first differing word stays with the completions
 * (`"I feel"`, `" happy."`, `" sad."`), as tokenizers attach it to the following word. The prefix
 * is "" when the texts differ in their first word. Both remainders are non-empty unless the texts
 * are equal.
 */
export function splitAtCommonPrefix(a: string, b: string): { prompt: string; positive: string; negative: string } {
    let common = 0;
    while (common < a.length && common < b.length && a[common] === b[common])
        common++;
    if (common === a.length && common === b.length)
        return { prompt: "", positive: a, negative: b };
    // the start of the last whitespace run that begins before the first difference
    let cut = 0;
    for (let i = common - 1; i > 0; i--) {
        if (/\s/.test(a[i]!) && !/\s/.test(a[i - 1]!)) {
            cut = i;
            break;
        }
    }
    return { prompt: a.slice(0, cut), positive: a.slice(cut), negative: b.slice(cut) };
}

// ---- CAA A/B --------------------------------------------------------------------------------------

const caaAnswer = z.union([
    z.string().min(1),
    z.array(z.string().min(1)).min(1)
], { error: "expected a non-empty string (or a non-empty array of them)" });

const caaItemSchema = z.looseObject({
    question: z.string({ error: "expected a non-empty string" }).min(1, { error: "expected a non-empty string" }),
    answer_matching_behavior: caaAnswer,
    answer_not_matching_behavior: caaAnswer
}, { error: "expected an object { question, answer_matching_behavior, answer_not_matching_behavior }" });

function caaFromValue(value: unknown, sourceName: string, options: ImportOptions): ContrastiveDataset {
    if (!Array.isArray(value))
        throw new DatasetError("INVALID_FIELD", `${sourceName}: (root): a CAA dataset is an array of { question, answer_matching_behavior, answer_not_matching_behavior } objects`,
            { source: sourceName, path: "(root)" });
    if (value.length === 0)
        throw new DatasetError("EMPTY", `${sourceName}: the CAA dataset is an empty array`, { source: sourceName });
    const pairs: SourcedPair[] = [];
    for (const [index, item] of value.entries()) {
        const result = caaItemSchema.safeParse(item);
        if (!result.success)
            throw invalidFieldError(sourceName, result.error.issues, [index]);
        const matching = [result.data.answer_matching_behavior].flat();
        const notMatching = [result.data.answer_not_matching_behavior].flat();
        // an item with several answers on a side gives one pair per combination
        for (const positive of matching) {
            for (const negative of notMatching)
                pairs.push({ origin: formatJsonPath([index]), prompt: result.data.question, positive, negative });
        }
    }
    return finishImport(sourceName, "CAA A/B", pairs, { framing: "chat", positiveLabel: "matching", negativeLabel: "not matching" }, options);
}

/**
 * Imports a CAA-style A/B dataset: a JSON array of `{ question, answer_matching_behavior,
 * answer_not_matching_behavior }` (answers like "(A)" or " (B)", kept as written). Each item
 * becomes a chat pair: prompt = question, positive = the matching answer, negative = the other.
 * Extra fields are ignored. An answer given as an array yields one pair per answer.
 */
export function importCaaDataset(text: string, sourceName: string, options: ImportOptions = {}): ContrastiveDataset {
    return caaFromValue(parseDatasetJson(text, sourceName), sourceName, options);
}

// ---- repeng ---------------------------------------------------------------------------------------

const textList = z.array(z.string({ error: "expected a non-empty string" }).min(1, { error: "expected a non-empty string" }),
    { error: "expected an array of strings" });

const repengListsSchema = z.looseObject({ positive: textList, negative: textList }, { error: "expected an object" });

const repengEntrySchema = z.looseObject({
    positive: z.string({ error: "expected a non-empty string" }).min(1, { error: "expected a non-empty string" }),
    negative: z.string({ error: "expected a non-empty string" }).min(1, { error: "expected a non-empty string" })
}, { error: "expected an object { positive, negative }" });

function repengFromValue(value: unknown, sourceName: string, options: ImportOptions): ContrastiveDataset {
    const texts: { origin: string; positive: string; negative: string }[] = [];
    if (Array.isArray(value)) {
        if (value.length === 0)
            throw new DatasetError("EMPTY", `${sourceName}: the repeng dataset is an empty array`, { source: sourceName });
        for (const [index, item] of value.entries()) {
            const result = repengEntrySchema.safeParse(item);
            if (!result.success)
                throw invalidFieldError(sourceName, result.error.issues, [index]);
            texts.push({ origin: formatJsonPath([index]), positive: result.data.positive, negative: result.data.negative });
        }
    } else {
        const result = repengListsSchema.safeParse(value);
        if (!result.success)
            throw invalidFieldError(sourceName, result.error.issues);
        const { positive, negative } = result.data;
        if (positive.length !== negative.length)
            throw new DatasetError("MISMATCHED_COUNTS",
                `${sourceName}: "positive" has ${positive.length} text${positive.length === 1 ? "" : "s"} but "negative" has ${negative.length}; they are read pairwise, so the counts must match`,
                { source: sourceName });
        for (const [index, text] of positive.entries())
            texts.push({ origin: `positive[${index}] / negative[${index}]`, positive: text, negative: negative[index]! });
    }
    const pairs = texts.map((entry) => ({ origin: entry.origin, ...splitAtCommonPrefix(entry.positive, entry.negative) }));
    return finishImport(sourceName, "repeng", pairs, { framing: "plain", positiveLabel: "positive", negativeLabel: "negative" }, options);
}

/**
 * Imports repeng-style pairs of full texts: `{ "positive": string[], "negative": string[] }`
 * (read pairwise) or `[{ "positive": string, "negative": string }]`. Each pair is split with
 * `splitAtCommonPrefix`: prompt = the common prefix up to a word boundary (may be ""),
 * completions = the rest. Framing defaults to "plain" (the texts carry any template themselves).
 */
export function importRepengDataset(text: string, sourceName: string, options: ImportOptions = {}): ContrastiveDataset {
    return repengFromValue(parseDatasetJson(text, sourceName), sourceName, options);
}

// ---- llama.cpp cvector-generator prompt files -------------------------------------------------

/**
 * Undoes the escapes llama.cpp's prompt files use: `\n`, `\r`, `\t`, `\\`, `\"`, `\'` and
 * `\xHH`; any other backslash is kept as written.
 */
export function unescapePromptLine(line: string): string {
    return line.replace(/\\(x[0-9a-fA-F]{2}|.)/g, (whole, escape: string) => {
        switch (escape) {
            case "n": return "\n";
            case "r": return "\r";
            case "t": return "\t";
            case "\\": return "\\";
            case "\"": return "\"";
            case "'": return "'";
            default:
                return escape.length === 3 ? String.fromCharCode(parseInt(escape.slice(1), 16)) : whole;
        }
    });
}

/** The prompts of one file, with their 1-based line numbers; blank lines are skipped. */
function readPromptLines(text: string): { line: number; prompt: string }[] {
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    const prompts: { line: number; prompt: string }[] = [];
    for (const [index, raw] of body.split("\n").entries()) {
        const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
        if (line.trim().length > 0)
            prompts.push({ line: index + 1, prompt: unescapePromptLine(line) });
    }
    return prompts;
}

/** Names of the two prompt files, used in the dataset's name and in error messages. */
export interface CvectorGeneratorFileNames {
    positive: string;
    negative: string;
}

/**
 * Imports llama.cpp `cvector-generator` prompt files: the positive and negative files hold one
 * prompt per line, line i of one pairs with line i of the other (blank lines skipped), and a
 * literal `\n` in a line stands for a newline. Each pair is split like repeng's.
 */
export function importCvectorGeneratorFiles(positiveText: string, negativeText: string, names: CvectorGeneratorFileNames,
    options: ImportOptions = {}): ContrastiveDataset {
    const source = `${names.positive} + ${names.negative}`;
    const positive = readPromptLines(positiveText);
    const negative = readPromptLines(negativeText);
    if (positive.length !== negative.length)
        throw new DatasetError("MISMATCHED_COUNTS",
            `${names.positive} has ${positive.length} prompt${positive.length === 1 ? "" : "s"} but ${names.negative} has ${negative.length}; line i of one pairs with line i of the other, so the counts must match`,
            { source });
    if (positive.length === 0)
        throw new DatasetError("EMPTY", `${names.positive} and ${names.negative} hold no prompts`, { source });
    const pairs = positive.map((entry, index) => {
        const other = negative[index]!;
        return { origin: `${names.positive} line ${entry.line} / ${names.negative} line ${other.line}`, ...splitAtCommonPrefix(entry.prompt, other.prompt) };
    });
    return finishImport(source, "llama.cpp cvector-generator", pairs, { framing: "plain", positiveLabel: "positive", negativeLabel: "negative" },
        { ...options, name: options.name ?? baseName(names.positive) });
}

/** Reads two cvector-generator prompt files from disk; see `importCvectorGeneratorFiles`. */
export async function readCvectorGeneratorFiles(positivePath: string, negativePath: string, options: ImportOptions = {}): Promise<ContrastiveDataset> {
    const [positiveText, negativeText] = await Promise.all([readFile(positivePath, "utf8"), readFile(negativePath, "utf8")]);
    return importCvectorGeneratorFiles(positiveText, negativeText, { positive: path.basename(positivePath), negative: path.basename(negativePath) }, options);
}

// ---- detection ------------------------------------------------------------------------------------

/** The formats `detectAndImport` recognises. */
export type DetectedFormat = "tiller" | "caa" | "repeng";

function isRecord(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeShape(value: unknown): string {
    if (Array.isArray(value)) {
        const first: unknown = value[0];
        return isRecord(first) ? `an array of objects with keys ${Object.keys(first).map((key) => JSON.stringify(key)).join(", ") || "(none)"}`
            : `an array whose first item is ${first === null ? "null" : typeof first}`;
    }
    if (isRecord(value))
        return `an object with keys ${Object.keys(value).map((key) => JSON.stringify(key)).join(", ") || "(none)"}`;
    return value === null ? "null" : `a ${typeof value}`;
}

/** Which importer a parsed JSON value is for, or undefined. Judged by the first array item. */
export function detectDatasetFormat(value: unknown): DetectedFormat | undefined {
    if (isRecord(value)) {
        if ("pairs" in value)
            return "tiller";
        if (Array.isArray(value["positive"]) && Array.isArray(value["negative"]))
            return "repeng";
        return undefined;
    }
    if (Array.isArray(value)) {
        const first: unknown = value[0];
        if (!isRecord(first))
            return undefined;
        if ("question" in first || "answer_matching_behavior" in first)
            return "caa";
        if ("positive" in first && "negative" in first)
            return "repeng";
    }
    return undefined;
}

/** JSON Lines: one JSON value per non-blank line, gathered into an array. */
function parseJsonLines(text: string, sourceName: string): unknown[] {
    const items: unknown[] = [];
    const lines = text.split("\n");
    let offset = 0;
    for (const line of lines) {
        if (line.trim().length > 0) {
            try {
                items.push(parseDatasetJson(line, sourceName));
            } catch (error) {
                if (!(error instanceof DatasetError) || error.column === undefined)
                    throw error;
                // re-anchor the position from the line to the whole file
                const { line: lineNumber } = lineAndColumnAt(text, offset);
                const reason = error.message.replace(/^.*?: malformed JSON at line \d+, column \d+: /s, "");
                throw new DatasetError("MALFORMED_JSON", `${sourceName}: malformed JSON at line ${lineNumber}, column ${error.column}: ${reason}`,
                    { source: sourceName, line: lineNumber, column: error.column });
            }
        }
        offset += line.length + 1;
    }
    return items;
}

const UNRECOGNISED_HINT = "Tiller reads a Tiller dataset ({ name, description, framing, positiveLabel, negativeLabel, pairs: [{ prompt, positive, negative }] }), "
    + "a CAA A/B array ([{ question, answer_matching_behavior, answer_not_matching_behavior }]) "
    + "or repeng pairs ({ positive: [...], negative: [...] } or [{ positive, negative }])";

/**
 * Reads a dataset file of any JSON format Tiller knows, picking the importer by shape: an object
 * with `pairs` is the Tiller format, an array of `{ question, answer_matching_behavior, ... }` is
 * CAA, `{ positive: [], negative: [] }` or an array of `{ positive, negative }` is repeng. A
 * `.jsonl` file is read as an array of its lines. `options` apply to the imported formats only;
 * `detectDatasetFormat` tells which format a parsed value is.
 * @throws DatasetError UNKNOWN_DATASET when the shape matches none (the message lists what would)
 */
export function detectAndImport(text: string, fileName: string, options: ImportOptions = {}): ContrastiveDataset {
    if (/\.txt$/i.test(fileName))
        throw new DatasetError("UNKNOWN_DATASET",
            `${fileName}: a .txt file is read as llama.cpp cvector-generator prompts, which come as two files; import it together with its counterpart (importCvectorGeneratorFiles)`,
            { source: fileName });
    const value = /\.jsonl$/i.test(fileName) ? parseJsonLines(text, fileName) : parseDatasetJson(text, fileName);
    if (Array.isArray(value) && value.length === 0)
        throw new DatasetError("EMPTY", `${fileName}: the file holds an empty array, so no pairs`, { source: fileName });
    const format = detectDatasetFormat(value);
    switch (format) {
        case "tiller":
            return validateContrastiveDataset(value, fileName);
        case "caa":
            return caaFromValue(value, fileName, options);
        case "repeng":
            return repengFromValue(value, fileName, options);
        case undefined:
            throw new DatasetError("UNKNOWN_DATASET", `${fileName}: not a dataset format Tiller recognises: found ${describeShape(value)}. ${UNRECOGNISED_HINT}`,
                { source: fileName });
    }
}

/** Reads a dataset file from disk and imports it with `detectAndImport`. */
export async function readDatasetFile(filePath: string, options: ImportOptions = {}): Promise<ContrastiveDataset> {
    return detectAndImport(await readFile(filePath, "utf8"), filePath, options);
}
