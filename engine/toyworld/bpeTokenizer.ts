// A byte-level BPE tokenizer in GPT-2's format, trained on the toy world's corpus: two control
// tokens (<s>, </s>), the 256 byte tokens, then the merges in the order they were learned. llama.cpp
// reads it as `tokenizer.ggml.model = "gpt2"`, `pre = "gpt-2"`; encode() here splits and merges the
// same way, so the training windows hold the ids llama.cpp's own tokenizer produces.
import type { GgufValueInput } from "../gguf/GgufWriter.js";

/** GPT-2's pre-tokenizer: contractions, words with their leading space, numbers, punctuation runs, spaces. */
const PRE_TOKENIZER = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** llama.cpp's token types (enum llama_token_type). */
const TOKEN_TYPE_NORMAL = 1;
const TOKEN_TYPE_CONTROL = 3;

export const BOS_ID = 0;
export const EOS_ID = 1;
const FIRST_BYTE_ID = 2;

/**
 * GPT-2's byte → character map: printable bytes stand for themselves, the rest are moved to
 * U+0100 and up, so every token text is printable and a space reads "Ġ".
 */
function byteToUnicode(): string[] {
    const printable: number[] = [];
    for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
    for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
    for (let b = 0xae; b <= 0xff; b++) printable.push(b);
    const map: string[] = new Array<string>(256);
    let next = 0;
    for (let b = 0; b < 256; b++)
        map[b] = String.fromCodePoint(printable.includes(b) ? b : 256 + next++);
    return map;
}

const BYTE_CHARS = byteToUnicode();
const utf8 = new TextEncoder();

/** A pre-token as GPT-2 token text (bytes mapped to characters). */
function toTokenText(piece: string): string {
    let s = "";
    for (const byte of utf8.encode(piece)) s += BYTE_CHARS[byte]!;
    return s;
}

export class BpeTokenizer {
    /** token texts by id */
    readonly tokens: readonly string[];
    /** "left right" pairs in rank order */
    readonly merges: readonly string[];
    readonly #ids: Map<string, number>;
    readonly #ranks: Map<string, number>;
    readonly #cache = new Map<string, number[]>();

    constructor(merges: readonly string[]) {
        const tokens = ["<s>", "</s>", ...BYTE_CHARS];
        this.#ids = new Map(tokens.map((t, i) => [t, i] as const));
        // two merges may spell the same token ("Ġ"+"so" and "Ġs"+"o"): one token for both
        for (const merge of merges) {
            const joined = merge.replace(" ", "");
            if (!this.#ids.has(joined)) {
                this.#ids.set(joined, tokens.length);
                tokens.push(joined);
            }
        }
        this.tokens = tokens;
        this.merges = merges;
        this.#ranks = new Map(merges.map((m, i) => [m, i] as const));
    }

    /** Learns `mergeCount` merges from the texts (fewer if the texts run out of pairs). */
    static train(texts: Iterable<string>, mergeCount: number): BpeTokenizer {
        const wordCounts = new Map<string, number>();
        for (const text of texts)
            for (const piece of text.match(PRE_TOKENIZER) ?? [])
                wordCounts.set(piece, (wordCounts.get(piece) ?? 0) + 1);
        const words = [...wordCounts].map(([piece, count]) => ({ symbols: [...toTokenText(piece)], count }));
        const merges: string[] = [];
        while (merges.length < mergeCount) {
            const pairCounts = new Map<string, number>();
            for (const word of words)
                for (let i = 0; i + 1 < word.symbols.length; i++) {
                    const pair = `${word.symbols[i]} ${word.symbols[i + 1]}`;
                    pairCounts.set(pair, (pairCounts.get(pair) ?? 0) + word.count);
                }
            let best: string | undefined;
            let bestCount = 1; // a pair seen once is not worth a token
            for (const [pair, count] of pairCounts)
                if (count > bestCount || (count === bestCount && best !== undefined && pair < best)) {
                    best = pair;
                    bestCount = count;
                }
            if (best === undefined)
                break;
            const [left, right] = best.split(" ") as [string, string];
            merges.push(best);
            for (const word of words) mergeInPlace(word.symbols, left, right);
        }
        return new BpeTokenizer(merges);
    }

    get vocabularySize(): number {
        return this.tokens.length;
    }

    /** Token ids of `text` (no BOS/EOS), as llama.cpp's gpt2 tokenizer with the gpt-2 pre-tokenizer gives them. */
    encode(text: string): number[] {
        const out: number[] = [];
        for (const piece of text.match(PRE_TOKENIZER) ?? []) {
            let ids = this.#cache.get(piece);
            if (ids === undefined) {
                ids = this.#encodePiece(piece);
                this.#cache.set(piece, ids);
            }
            out.push(...ids);
        }
        return out;
    }

    /** Text of token ids (control tokens print as their names). */
    decode(ids: readonly number[]): string {
        const bytes: number[] = [];
        for (const id of ids) {
            if (id === BOS_ID || id === EOS_ID) {
                bytes.push(...utf8.encode(this.tokens[id]!));
                continue;
            }
            for (const ch of this.tokens[id] ?? "") bytes.push(BYTE_CHARS.indexOf(ch));
        }
        return new TextDecoder().decode(new Uint8Array(bytes));
    }

    #encodePiece(piece: string): number[] {
        const symbols = [...toTokenText(piece)];
        for (;;) {
            let bestRank = Infinity;
            let bestAt = -1;
            for (let i = 0; i + 1 < symbols.length; i++) {
                const rank = this.#ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
                if (rank !== undefined && rank < bestRank) {
                    bestRank = rank;
                    bestAt = i;
                }
            }
            if (bestAt < 0)
                break;
            const [left, right] = this.merges[bestRank]!.split(" ") as [string, string];
            mergeInPlace(symbols, left, right);
        }
        return symbols.map((s) => {
            const id = this.#ids.get(s);
            if (id === undefined)
                throw new Error(`no token for "${s}"`);
            return id;
        });
    }

    /** The tokenizer.* metadata llama.cpp reads. */
    ggufMetadata(): Array<[string, GgufValueInput]> {
        const types = this.tokens.map((_, id) => (id < FIRST_BYTE_ID ? TOKEN_TYPE_CONTROL : TOKEN_TYPE_NORMAL));
        return [
            ["tokenizer.ggml.model", "gpt2"],
            ["tokenizer.ggml.pre", "gpt-2"],
            ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: [...this.tokens] }],
            ["tokenizer.ggml.token_type", { type: "array", itemType: "int32", value: types }],
            ["tokenizer.ggml.merges", { type: "array", itemType: "string", value: [...this.merges] }],
            ["tokenizer.ggml.bos_token_id", { type: "uint32", value: BOS_ID }],
            ["tokenizer.ggml.eos_token_id", { type: "uint32", value: EOS_ID }],
            ["tokenizer.ggml.add_bos_token", true],
            ["tokenizer.ggml.add_eos_token", false]
        ];
    }
}

/** Replaces every adjacent (left, right) in `symbols` with their join, left to right. */
function mergeInPlace(symbols: string[], left: string, right: string): void {
    for (let i = 0; i + 1 < symbols.length; i++)
        if (symbols[i] === left && symbols[i + 1] === right)
            symbols.splice(i, 2, left + right);
}
