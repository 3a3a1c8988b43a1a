// The per-token read-outs of a run as a [tokens, readoutColumns] float64 matrix (NaN for null),
// for `readouts.npy` in sessions and exports.
import { readoutColumns, type TokenReadouts } from "../protocol/thermoReadouts.js";

/** null when no token carries read-outs (runs recorded before they existed) */
export function readoutMatrix(tokens: readonly { readouts?: TokenReadouts }[]): Float64Array | null {
    if (tokens.length === 0 || tokens.every((token) => token.readouts == null))
        return null;
    const matrix = new Float64Array(tokens.length * readoutColumns.length).fill(NaN);
    for (const [row, token] of tokens.entries()) {
        if (token.readouts == null)
            continue;
        for (const [column, { value }] of readoutColumns.entries())
            matrix[row * readoutColumns.length + column] = value(token.readouts) ?? NaN;
    }
    return matrix;
}

/** the CSV fields of one token's read-outs (empty where null or absent) */
export function readoutCsvFields(readouts: TokenReadouts | undefined): string[] {
    return readoutColumns.map(({ value }) => {
        const v = readouts == null ? null : value(readouts);
        return v == null ? "" : String(v);
    });
}
