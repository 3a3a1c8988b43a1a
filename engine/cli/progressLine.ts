// Progress of a long CLI task on stderr: one line rewritten in place on a terminal, occasional
// plain lines otherwise (logs, pipes, tests), so stdout stays clean for the result.

export interface ProgressLine {
    /** reports `done` of `total`; cheap to call often */
    update(done: number, total: number): void;
    /** ends the line (terminal) or writes the last count (otherwise); idempotent */
    finish(): void;
}

/**
 * @param label e.g. "building"; lines read `building: 40/100 pairs`
 * @param unit  e.g. "pairs"
 * @param intervalMs how often a plain (non-terminal) line may be written; the last count is always written
 */
export function progressLine(label: string, unit: string, stream: NodeJS.WriteStream = process.stderr, intervalMs = 2000): ProgressLine {
    const isTty = stream.isTTY === true;
    let last: { done: number; total: number } | undefined;
    let lastPlainAt = -Infinity;
    let plainWritten: string | undefined;
    let finished = false;
    const text = (done: number, total: number) => `${label}: ${done}/${total} ${unit}`;
    return {
        update(done, total) {
            if (finished)
                return;
            last = { done, total };
            if (isTty) {
                stream.write(`\r\x1b[K${text(done, total)}`);
                return;
            }
            const now = performance.now();
            if (now - lastPlainAt >= intervalMs || done === total) {
                lastPlainAt = now;
                plainWritten = text(done, total);
                stream.write(`${plainWritten}\n`);
            }
        },
        finish() {
            if (finished)
                return;
            finished = true;
            if (last === undefined)
                return;
            if (isTty)
                stream.write("\n");
            else if (plainWritten !== text(last.done, last.total))
                stream.write(`${text(last.done, last.total)}\n`);
        }
    };
}
