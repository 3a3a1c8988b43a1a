// A generation's token pieces: PieceDecoder must give, piece by piece and at the end, exactly what
// one streaming TextDecoder gives for the same bytes (the oracle here), including characters split
// across tokens, invalid bytes, a byte-order mark first and later, and tokens with no bytes.
import { describe, expect, it } from "vitest";
import { PieceDecoder } from "../../engine/runtime/PieceDecoder.js";
import { TokenPieces } from "../../engine/runtime/TokenPieces.js";
import { utf8UnfinishedTail } from "../../engine/runtime/utf8Tail.js";

const encode = (text: string): number[] => [...new TextEncoder().encode(text)];

/** a vocabulary mixing whole characters, parts of characters, invalid bytes and oddities */
const VOCAB: number[][] = [
    encode("the"), encode(" cat"), encode("é"), encode("日本"), encode("😀"), encode("\uFEFF"), [],
    [0xe6], [0x97], [0xa5], [0xe6, 0x97], [0xf0, 0x9f], [0x98, 0x80], [0xf0], [0x9f, 0x98, 0x80],
    [0xc3], [0xa9, 0x41], [0xff], [0x80], [0xed, 0xa0, 0x80], [0xe0, 0x80], [0xf4, 0x90], [0xc0, 0xaf],
    [0xef, 0xbb], [0xbf], [0xef, 0xbb, 0xbf, 0x41], encode("a\u00e9")
];

function oracle(ids: readonly number[]): { pieces: string[]; end: string } {
    const decoder = new TextDecoder("utf-8");
    const pieces = ids.map((id) => decoder.decode(Uint8Array.from(VOCAB[id]!), { stream: true }));
    return { pieces, end: decoder.decode() };
}

function decoded(ids: readonly number[]): { pieces: string[]; end: string } {
    const vocabulary = new TokenPieces((id) => Uint8Array.from(VOCAB[id]!));
    const decoder = new PieceDecoder((id) => vocabulary.get(id));
    const pieces = ids.map((id) => decoder.next(id));
    return { pieces, end: decoder.end() };
}

/** xorshift32: fixed sequences, so a failure names a case that reproduces */
function randomIds(seed: number, length: number): number[] {
    let state = seed >>> 0 || 1;
    const ids: number[] = [];
    for (let i = 0; i < length; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        ids.push((state >>> 0) % VOCAB.length);
    }
    return ids;
}

describe("PieceDecoder", () => {
    it("matches a streaming TextDecoder on 2,000 random token sequences", () => {
        for (let seed = 1; seed <= 2000; seed++) {
            const ids = randomIds(seed, 1 + (seed % 40));
            expect(decoded(ids), `seed ${seed}: ${JSON.stringify(ids)}`).toEqual(oracle(ids));
        }
    });

    it("drops a byte-order mark only at the start, as TextDecoder does, and keeps one later", () => {
        const bom = VOCAB.findIndex((bytes) => bytes.length === 3 && bytes[0] === 0xef && bytes[2] === 0xbf);
        const the = 0;
        expect(decoded([bom, the, bom]).pieces).toEqual(["", "the", "\uFEFF"]);
        expect(decoded([bom, the, bom])).toEqual(oracle([bom, the, bom]));
    });

    it("puts out a split character with the token that completes it, and U+FFFD for one left unfinished", () => {
        const first = VOCAB.findIndex((bytes) => bytes.length === 2 && bytes[0] === 0xf0);
        const rest = VOCAB.findIndex((bytes) => bytes.length === 2 && bytes[0] === 0x98);
        expect(decoded([0, first, rest, 0]).pieces).toEqual(["the", "", "😀", "the"]);
        expect(decoded([0, first]).end).toBe("\uFFFD");
    });
});

describe("TokenPieces", () => {
    it("keeps each piece's bytes, its strict text (null unless whole UTF-8 by itself) and its display text", () => {
        let fetched = 0;
        const vocabulary = new TokenPieces((id) => {
            fetched++;
            return Uint8Array.from(VOCAB[id]!);
        });
        const split = VOCAB.findIndex((bytes) => bytes.length === 2 && bytes[0] === 0xf0);
        expect(vocabulary.get(2)).toMatchObject({ text: "é", display: "é" });
        expect(vocabulary.get(split)).toMatchObject({ text: null, display: Buffer.from(VOCAB[split]!).toString("utf8") });
        expect(vocabulary.get(5).text).toBe("\uFEFF"); // a piece's byte-order mark is kept
        expect(vocabulary.get(2)).toBe(vocabulary.get(2));
        expect(fetched).toBe(3);
    });
});

describe("utf8UnfinishedTail", () => {
    it("counts the bytes of an unfinished character at the end, and none for a broken or complete one", () => {
        expect(utf8UnfinishedTail(Uint8Array.of(0x41))).toBe(0);
        expect(utf8UnfinishedTail(Uint8Array.of(0x41, 0xf0, 0x9f))).toBe(2);
        expect(utf8UnfinishedTail(Uint8Array.of(0xf0, 0x9f, 0x98, 0x80))).toBe(0);
        expect(utf8UnfinishedTail(Uint8Array.of(0xe0, 0x80))).toBe(0); // E0 80 is never valid
        expect(utf8UnfinishedTail(Uint8Array.of(0xe0, 0xa0))).toBe(2);
        expect(utf8UnfinishedTail(Uint8Array.of(0xed, 0xa0))).toBe(0); // a surrogate's encoding
        expect(utf8UnfinishedTail(Uint8Array.of(0xf4, 0x90))).toBe(0); // above U+10FFFF
        expect(utf8UnfinishedTail(Uint8Array.of(0xe6, 0x41, 0xe6))).toBe(1); // a broken sequence, then a new start
    });
});
