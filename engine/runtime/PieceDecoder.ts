// Token pieces as text, in order, for a generation: exactly what one streaming TextDecoder gives
// for the token bytes one after another (a character split across tokens comes out with the token
// that completes it), without a native call and a TextDecoder call for every token.
//
// Most tokens are whole characters by themselves. Their text is cached per id and used while the
// decoder holds no bytes of an unfinished character; otherwise the bytes go through the decoder,
// and the few bytes it then holds are tracked here, so the cache is used again once it is clean.
// The stream's first character also goes through the decoder: a byte-order mark there is dropped
// (TextDecoder's default), anywhere else it is text.
import { utf8UnfinishedTail } from "./utf8Tail.js";

export class PieceDecoder {
    private readonly decoder = new TextDecoder("utf-8");
    /** per token id: its bytes, and its text when those bytes are complete, valid UTF-8 by themselves */
    private readonly cache = new Map<number, { bytes: Uint8Array; text: string | null }>();
    /** bytes of an unfinished character the decoder holds (empty: it is clean) */
    private held: Uint8Array = new Uint8Array(0);
    /** whether the decoder has put out a character yet (until then it may still drop a byte-order mark) */
    private started = false;

    public constructor(private readonly bytesOf: (id: number) => Uint8Array) {}

    /** the text token `id` adds to the run's text so far */
    public next(id: number): string {
        let entry = this.cache.get(id);
        if (entry == null) {
            const bytes = this.bytesOf(id);
            entry = { bytes, text: standaloneText(bytes) };
            this.cache.set(id, entry);
        }
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

// ignoreBOM: a byte-order mark inside the stream is a character like any other
const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** the bytes' text when they are complete, valid UTF-8 by themselves; else null */
function standaloneText(bytes: Uint8Array): string | null {
    try {
        return fatal.decode(bytes);
    } catch {
        return null;
    }
}
