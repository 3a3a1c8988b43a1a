// Plain-text tables for the CLI: a header row and aligned columns (by default the first column
// left-aligned, the others right-aligned so that numbers line up).

export type ColumnAlignment = "left" | "right";

/** Formats `rows` under `header`, columns separated by two spaces; every line ends with "\n". */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly ColumnAlignment[] = []): string {
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
    const alignment = (column: number): ColumnAlignment => align[column] ?? (column === 0 ? "left" : "right");
    const line = (cells: readonly string[]) => cells
        .map((cell, column) => (alignment(column) === "left" ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
        .join("  ")
        .trimEnd() + "\n";
    return line(header) + rows.map(line).join("");
}

/** A number with `digits` decimals; NaN (and other non-finite values) as "-". */
export function formatFixed(value: number, digits: number): string {
    return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/** A number with `digits` significant digits; NaN as "-". */
export function formatSignificant(value: number, digits = 4): string {
    return Number.isFinite(value) ? value.toPrecision(digits) : "-";
}
