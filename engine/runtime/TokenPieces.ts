// A model's token pieces, fetched from llama.cpp once per token id and kept for the model's life
// (llama.cpp keeps such a cache in its vocabulary too). A generation needs the piece of every token
// and of its alternatives; without the cache each was a native call and a decode.

/** One token's piece: its bytes, its text if those bytes are complete UTF-8 by themselves, and its text for display. */
export interface TokenPiece {
    /** shared by every caller: do not modify */
    readonly bytes: Uint8Array;
    /** the bytes as text when they are complete, valid UTF-8 by themselves (a byte-order mark kept); else null */
    readonly text: string | null;
    /** the bytes as text, a partial or invalid sequence shown as U+FFFD */
    readonly display: string;
}

// ignoreBOM: a byte-order mark is a character of the piece like any other
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export class TokenPieces {
    private readonly pieces = new Map<number, TokenPiece>();

    /** `bytesOf` fetches a token's bytes (llama.cpp's piece, special tokens not rendered); it may throw for an id outside the vocabulary */
    public constructor(private readonly bytesOf: (id: number) => Uint8Array) {}

    public get(id: number): TokenPiece {
        let piece = this.pieces.get(id);
        if (piece == null) {
            const bytes = this.bytesOf(id);
            const text = strictText(bytes);
            piece = { bytes, text, display: text ?? Buffer.from(bytes).toString("utf8") };
            this.pieces.set(id, piece);
        }
        return piece;
    }
}

function strictText(bytes: Uint8Array): string | null {
    try {
        return strict.decode(bytes);
    } catch {
        return null;
    }
}
