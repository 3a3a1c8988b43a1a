// Token pieces as text, in order, for a generation: exactly what one streaming TextDecoder gives
// for the token bytes one after another (a character split across tokens comes out with the token
// that completes it), without a native call and a TextDecoder call for every token.
//
// Most tokens are whole characters by themselves. Their text (cached by the model, TokenPieces) is
// used while the decoder holds no bytes of an unfinished character; otherwise the bytes go through
// the decoder, and the few bytes it then holds are tracked here, so the cache is used again once it
// is clean.
// The stream's first character also goes through the decoder: a byte-order mark there is dropped
// (TextDecoder's default), anywhere else it is text.
import type { TokenPiece } from "./TokenPieces.js";
import { utf8UnfinishedTail } from "./utf8Tail.js";

export class PieceDecoder {
    private readonly decoder = new TextDecoder("utf-8");
    /** bytes of an unfinished character the decoder holds (empty: it is clean) */
    private held: Uint8Array = new Uint8Array(0);
    /** whether the decoder has put out a character yet (until then it may still drop a byte-order mark) */
    private started = false;

    public constructor(private readonly pieceOf: (id: number) => Pick<TokenPiece, "bytes" | "text">) {}

    /** the text token `id` adds to the run's text so far */
    public next(id: number): string {
        const entry = this.pieceOf(id);
        if (entry.text != null && this.held.length === 0 && this.started)
            return entry.text;
        const text = this.decoder.decode(entry.bytes, { stream: true });
        this.started ||= text.length > 0;
        const joined = new Uint8Array(this.held.length + entry.bytes.length);
        joined.set(this.held);
        joined.set(entry.bytes, this.held.length);
        this.held = joined.slice(joined.length - utf8UnfinishedTail(joined));
        return text;
    }

    /** what the decoder still holds at the end of the run (U+FFFD for an unfinished character) */
    public end(): string {
        this.held = new Uint8Array(0);
        return this.decoder.decode();
    }
}
