// How many bytes at the end of a UTF-8 byte stream begin a character that is not finished yet:
// what a streaming TextDecoder holds back after them. Follows the WHATWG UTF-8 decoder (the lead
// bytes' ranges, the narrower second-byte bounds after E0, ED, F0 and F4, and a byte that breaks a
// sequence starting over as a byte of its own), so it agrees with TextDecoder on invalid input too.

/** the length of the unfinished character at the end of `bytes` (0 when the last character is complete or invalid) */
export function utf8UnfinishedTail(bytes: Uint8Array): number {
    let needed = 0;
    let seen = 0;
    let lower = 0x80;
    let upper = 0xbf;
    for (let i = 0; i < bytes.length; i++) {
        const byte = bytes[i]!;
        if (needed === 0) {
            [needed, lower, upper] = leadByte(byte);
            seen = 0;
            continue;
        }
        if (byte < lower || byte > upper) {
            // the sequence is broken: the decoder emits U+FFFD and reads this byte afresh
            [needed, lower, upper] = leadByte(byte);
            seen = 0;
            continue;
        }
        lower = 0x80;
        upper = 0xbf;
        seen++;
        if (seen === needed)
            needed = 0;
    }
    return needed === 0 ? 0 : 1 + seen;
}

/** [continuation bytes a lead byte needs (0: ASCII or invalid), the first continuation byte's bounds] */
function leadByte(byte: number): [number, number, number] {
    if (byte >= 0xc2 && byte <= 0xdf)
        return [1, 0x80, 0xbf];
    if (byte >= 0xe0 && byte <= 0xef)
        return [2, byte === 0xe0 ? 0xa0 : 0x80, byte === 0xed ? 0x9f : 0xbf];
    if (byte >= 0xf0 && byte <= 0xf4)
        return [3, byte === 0xf0 ? 0x90 : 0x80, byte === 0xf4 ? 0x8f : 0xbf];
    return [0, 0x80, 0xbf];
}
