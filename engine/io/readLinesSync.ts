// Reads a text file line by line in fixed-size chunks, synchronously. A session's events file grows
// with every token; reading it whole into one string fails past V8's string limit (~512 M
// characters), and the session would vanish from the list. Lines are decoded one at a time.
import fs from "node:fs";

const CHUNK_BYTES = 1 << 20;

/** Calls `onLine(text, lineNumber)` for every line (1-based), the last one even without "\n". */
export function readLinesSync(filePath: string, onLine: (line: string, lineNumber: number) => void): void {
    const fd = fs.openSync(filePath, "r");
    try {
        const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
        let pending: Buffer[] = [];
        let lineNumber = 0;
        for (;;) {
            const read = fs.readSync(fd, chunk, 0, CHUNK_BYTES, null);
            if (read === 0)
                break;
            let start = 0;
            for (let newline = chunk.indexOf(10, start); newline >= 0 && newline < read; newline = chunk.indexOf(10, start)) {
                pending.push(chunk.subarray(start, newline));
                onLine(Buffer.concat(pending).toString("utf8"), ++lineNumber);
                pending = [];
                start = newline + 1;
            }
            if (start < read)
                pending.push(Buffer.from(chunk.subarray(start, read))); // copied: the chunk is reused
        }
        if (pending.length > 0)
            onLine(Buffer.concat(pending).toString("utf8"), ++lineNumber);
    } finally {
        fs.closeSync(fd);
    }
}
