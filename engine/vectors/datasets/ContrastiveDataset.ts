// The contrastive-pair dataset: the Tiller JSON format, its schema, parsing with errors that say
// where (line:column for syntax, a JSON path for content), and the inverse serializer.
// FORMAT.md in this folder describes the format for people who write datasets.
import { z } from "zod";
import { DatasetError } from "./DatasetError.js";

export { DatasetError } from "./DatasetError.js";
export type { DatasetErrorCode, DatasetErrorDetails } from "./DatasetError.js";

/** One contrastive pair: a shared prefix and two completions that differ along the concept. */
export interface ContrastivePair {
    /**
     * The shared prefix. For "chat" framing the user's message (must not be empty); for "story" and
     * "plain" framing the text before the completion (may be empty).
     */
    prompt: string;
    /** The completion showing the positive side of the concept (e.g. happy, sycophantic, formal). */
    positive: string;
    /** The completion showing the negative side. Never equal to `positive`. */
    negative: string;
    /**
     * Which template or source the pair comes from. Held-out splits keep every group on one side,
     * so a held-out score is not template recall. Pairs without one form a group each.
     */
    group?: string;
}

/** How the engine turns a pair into model input. */
export type DatasetFraming =
    /** prompt + completion as raw text, the completion continuing a story (base models) */
    | "story"
    /** prompt is the user turn, the completion the assistant turn, formatted with the model's chat template */
    | "chat"
    /** prompt + completion as raw text, no template */
    | "plain";

export const datasetFramings = ["story", "chat", "plain"] as const satisfies readonly DatasetFraming[];

export interface ContrastiveDataset {
    /** short identifier, e.g. "sentiment" */
    name: string;
    /** one or two sentences: what the concept is and how the pairs show it */
    description: string;
    framing: DatasetFraming;
    /** for chat framing: prompt is the user message (optionally with a system message) */
    system?: string;
    pairs: ContrastivePair[];
    /** what the positive side is called, e.g. "happy"; the vector points towards it */
    positiveLabel: string;
    /** what the negative side is called, e.g. "sad" */
    negativeLabel: string;
}

// ---- the schema -------------------------------------------------------------------------------

const NON_EMPTY = "expected a non-empty string";

function nonEmptyText() {
    return z.string({ error: NON_EMPTY })
        .min(1, { error: NON_EMPTY, abort: true })
        .refine((text) => text.trim().length > 0, { error: `${NON_EMPTY}, got only whitespace` });
}

export const contrastivePairSchema = z.strictObject({
    prompt: z.string({ error: "expected a string (it may be empty outside chat framing)" }),
    positive: nonEmptyText(),
    negative: nonEmptyText(),
    group: nonEmptyText().optional()
}, { error: "expected an object { prompt, positive, negative, group? }" });

/**
 * Structure and types of a dataset. The checks that span fields (empty `pairs`, equal completions,
 * an empty chat prompt, `system` outside chat framing) are made by `validateContrastiveDataset`.
 */
export const contrastiveDatasetSchema = z.strictObject({
    name: nonEmptyText(),
    description: z.string({ error: "expected a string" }),
    framing: z.enum(datasetFramings, { error: 'expected "story", "chat" or "plain"' }),
    system: nonEmptyText().optional(),
    pairs: z.array(contrastivePairSchema, { error: "expected an array of { prompt, positive, negative } objects" }),
    positiveLabel: nonEmptyText(),
    negativeLabel: nonEmptyText()
}, { error: "expected an object" });

// ---- JSON paths and positions -----------------------------------------------------------------

/** `["pairs", 3, "negative"]` → `pairs[3].negative`; the empty path is `(root)`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
    let text = "";
    for (const key of path) {
        if (typeof key === "number")
            text += `[${key}]`;
        else
            text += (text.length === 0 ? "" : ".") + String(key);
    }
    return text.length === 0 ? "(root)" : text;
}

/** 1-based line and column (in code points) of a UTF-16 offset into `text`. */
export function lineAndColumnAt(text: string, offset: number): { line: number; column: number } {
    const clamped = Math.max(0, Math.min(offset, text.length));
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < clamped; i++) {
        if (text.charCodeAt(i) === 10 /* \n */) {
            line++;
            lineStart = i + 1;
        }
    }
    return { line, column: Array.from(text.slice(lineStart, clamped)).length + 1 };
}

/**
 * Offset of the first JSON syntax error in `text`, or -1 if there is none. Used where V8's
 * message gives no position ("Unexpected token 'x', "..." is not valid JSON").
 */
export function findJsonSyntaxError(text: string): number {
    let i = 0;
    class Stop {
        constructor(readonly at: number) {}
    }
    const fail = (at: number = i): never => {
        throw new Stop(at);
    };
    const skipWhitespace = (): void => {
        while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r"))
            i++;
    };
    const string = (): void => {
        i++; // opening quote
        while (true) {
            if (i >= text.length)
                fail();
            const code = text.charCodeAt(i);
            if (code === 34 /* " */) {
                i++;
                return;
            }
            if (code < 0x20)
                fail();
            if (code === 92 /* \ */) {
                const escape = text[i + 1];
                if (escape === "u") {
                    if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6)))
                        fail(i + 2);
                    i += 6;
                    continue;
                }
                if (escape === undefined || !'"\\/bfnrt'.includes(escape))
                    fail(i + 1);
                i += 2;
                continue;
            }
            i++;
        }
    };
    const literal = (word: string): void => {
        for (const char of word) {
            if (text[i] !== char)
                fail();
            i++;
        }
    };
    const value = (): void => {
        skipWhitespace();
        const char = text[i];
        if (char === "{") {
            i++;
            skipWhitespace();
            if (text[i] === "}") {
                i++;
                return;
            }
            while (true) {
                skipWhitespace();
                if (text[i] !== '"')
                    fail();
                string();
                skipWhitespace();
                if (text[i] !== ":")
                    fail();
                i++;
                value();
                skipWhitespace();
                if (text[i] === ",") {
                    i++;
                    continue;
                }
                if (text[i] === "}") {
                    i++;
                    return;
                }
                fail();
            }
        }
        if (char === "[") {
            i++;
            skipWhitespace();
            if (text[i] === "]") {
                i++;
                return;
            }
            while (true) {
                value();
                skipWhitespace();
                if (text[i] === ",") {
                    i++;
                    continue;
                }
                if (text[i] === "]") {
                    i++;
                    return;
                }
                fail();
            }
        }
        if (char === '"')
            return string();
        if (char === "t")
            return literal("true");
        if (char === "f")
            return literal("false");
        if (char === "n")
            return literal("null");
        const number = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
        number.lastIndex = i;
        if (!number.test(text))
            fail();
        i = number.lastIndex;
    };
    try {
        value();
        skipWhitespace();
        if (i < text.length)
            fail();
        return -1;
    } catch (error) {
        if (error instanceof Stop)
            return error.at;
        return -1; // nesting too deep for the scanner; the caller falls back to the end of the text
    }
}

/**
 * JSON.parse with a `DatasetError("MALFORMED_JSON")` that names the line and column of the
 * problem. A leading byte-order mark is ignored.
 */
export function parseDatasetJson(text: string, sourceName: string): unknown {
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    try {
        return JSON.parse(body) as unknown;
    } catch (error) {
        if (!(error instanceof SyntaxError))
            throw error;
        throw malformedJsonError(body, sourceName, error.message);
    }
}

function malformedJsonError(text: string, sourceName: string, v8Message: string): DatasetError {
    // V8 (Node 20): "... in JSON at position 45"; newer V8 adds " (line 3 column 7)"; some messages
    // ("Unexpected token 'x', "..." is not valid JSON") give no position, so find it ourselves.
    const match = /\s+in JSON at position (\d+)(?: \(line \d+ column \d+\))?/.exec(v8Message);
    let offset: number;
    if (match !== null)
        offset = Number(match[1]);
    else {
        const found = findJsonSyntaxError(text);
        offset = found >= 0 ? found : text.length;
    }
    let reason = match !== null ? v8Message.slice(0, match.index) + v8Message.slice(match.index + match[0].length) : v8Message;
    const token = /^(Unexpected token '.*?'), ".*" is not valid JSON$/s.exec(reason);
    if (token !== null)
        reason = token[1]!;
    if (text.trim().length === 0)
        reason = "the file is empty";
    const { line, column } = lineAndColumnAt(text, offset);
    return new DatasetError("MALFORMED_JSON", `${sourceName}: malformed JSON at line ${line}, column ${column}: ${reason}`,
        { source: sourceName, line, column });
}

// ---- validation -------------------------------------------------------------------------------

/** How many problems one error message lists before it says "and N more". */
const LISTED_ISSUES = 3;

/** Turns zod issues into one INVALID_FIELD error naming each path. */
export function invalidFieldError(sourceName: string, issues: readonly z.core.$ZodIssue[], pathPrefix: readonly PropertyKey[] = []): DatasetError {
    const described = issues.map((issue) => {
        const path = formatJsonPath([...pathPrefix, ...issue.path]);
        if (issue.code === "unrecognized_keys")
            return { path, text: `${path}: unknown field${issue.keys.length === 1 ? "" : "s"} ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}` };
        return { path, text: `${path}: ${issue.message}` };
    });
    const listed = described.slice(0, LISTED_ISSUES).map((entry) => entry.text).join("; ");
    const more = described.length > LISTED_ISSUES ? ` (and ${described.length - LISTED_ISSUES} more)` : "";
    return new DatasetError("INVALID_FIELD", `${sourceName}: ${listed}${more}`, { source: sourceName, path: described[0]?.path ?? "(root)" });
}

function quoteShort(text: string): string {
    const quoted = JSON.stringify(text);
    return quoted.length <= 60 ? quoted : quoted.slice(0, 56) + "…\"";
}

/**
 * Checks an already-parsed value against the format and returns it as a dataset (with no
 * fields beyond the format's). Throws INVALID_FIELD naming the path, or EMPTY.
 */
export function validateContrastiveDataset(value: unknown, sourceName: string): ContrastiveDataset {
    const result = contrastiveDatasetSchema.safeParse(value);
    if (!result.success)
        throw invalidFieldError(sourceName, result.error.issues);
    const data = result.data;
    if (data.pairs.length === 0)
        throw new DatasetError("EMPTY", `${sourceName}: the dataset has no pairs ("pairs" is an empty array)`, { source: sourceName, path: "pairs" });
    if (data.system !== undefined && data.framing !== "chat")
        throw new DatasetError("INVALID_FIELD", `${sourceName}: system: only chat datasets have a system message (framing is "${data.framing}")`,
            { source: sourceName, path: "system" });
    for (const [index, pair] of data.pairs.entries()) {
        if (data.framing === "chat" && pair.prompt.trim().length === 0) {
            const path = `pairs[${index}].prompt`;
            throw new DatasetError("INVALID_FIELD", `${sourceName}: ${path}: ${NON_EMPTY} (in chat framing the prompt is the user's message)`,
                { source: sourceName, path });
        }
        if (pair.positive === pair.negative) {
            const path = `pairs[${index}]`;
            throw new DatasetError("INVALID_FIELD", `${sourceName}: ${path}: positive and negative are the same text (${quoteShort(pair.positive)})`,
                { source: sourceName, path });
        }
    }
    return normalizeDataset(data);
}

/** A copy with the fields in the documented order and no `system` key when there is none. */
function normalizeDataset(data: ContrastiveDataset): ContrastiveDataset {
    return {
        name: data.name,
        description: data.description,
        framing: data.framing,
        ...(data.system !== undefined ? { system: data.system } : {}),
        positiveLabel: data.positiveLabel,
        negativeLabel: data.negativeLabel,
        pairs: data.pairs.map((pair) => ({ prompt: pair.prompt, positive: pair.positive, negative: pair.negative, ...(pair.group !== undefined ? { group: pair.group } : {}) }))
    };
}

/**
 * Parses a dataset in the Tiller JSON format.
 * @param sourceName the file name (or other label) that error messages start with
 * @throws DatasetError MALFORMED_JSON (with line and column), INVALID_FIELD (with the JSON path) or EMPTY
 */
export function parseContrastiveDataset(text: string, sourceName: string): ContrastiveDataset {
    return validateContrastiveDataset(parseDatasetJson(text, sourceName), sourceName);
}

/**
 * The dataset as pretty-printed JSON (two-space indent, trailing newline, fields in the
 * documented order). `parseContrastiveDataset(serializeContrastiveDataset(ds))` equals `ds`.
 */
export function serializeContrastiveDataset(dataset: ContrastiveDataset): string {
    return JSON.stringify(normalizeDataset(dataset), null, 2) + "\n";
}
