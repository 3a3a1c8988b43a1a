// Small display helpers.

export function formatBytes(bytes: number): string {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit++;
    }
    return `${value.toFixed(value < 10 && unit > 0 ? 2 : unit > 0 ? 1 : 0)} ${units[unit]}`;
}

export function formatCount(n: number): string {
    if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
    if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
    if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
    return String(n);
}

/** "1–4" for a sorted list of consecutive layers, "1, 3, 5" otherwise */
export function formatLayers(layers: readonly number[]): string {
    if (layers.length === 0) return "—";
    const sorted = [...layers].sort((a, b) => a - b);
    const consecutive = sorted.every((layer, i) => i === 0 || layer === sorted[i - 1]! + 1);
    if (consecutive && sorted.length > 2) return `${sorted[0]}–${sorted[sorted.length - 1]}`;
    return sorted.join(", ");
}

export function formatDate(iso: string): string {
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    const sameYear = date.getFullYear() === new Date().getFullYear();
    return date.toLocaleString(undefined, { ...(sameYear ? {} : { year: "numeric" }), month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function formatSigned(value: number, digits = 3): string {
    return `${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(digits)}`;
}

/** a token's text made visible: spaces stay, newlines and tabs become glyphs */
export function visiblePiece(piece: string): string {
    if (piece.length === 0) return "∅";
    if (piece.trim() === "" && !piece.includes("\n")) return piece.replace(/ /g, "␣");
    return piece.replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/\r/g, "");
}

export function fileNameOf(filePath: string): string {
    const parts = filePath.split(/[\\/]/);
    return parts[parts.length - 1] || filePath;
}
