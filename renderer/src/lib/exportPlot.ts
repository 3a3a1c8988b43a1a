// Exports a plot as PNG (its SVG drawn onto a canvas) or its data as CSV, through a download link:
// browsers save it, and Electron's default download handling offers a save dialog.
//
// The charts style themselves with CSS variables and classes, which an SVG loaded as an image
// does not see; the computed values are copied inline onto a clone before it is serialised.

const inlinedProperties = [
    "fill", "fill-opacity", "stroke", "stroke-width", "stroke-dasharray", "stroke-opacity", "opacity",
    "font-family", "font-size", "font-weight", "text-anchor", "dominant-baseline", "visibility"
] as const;

function inlineComputedStyles(source: Element, target: Element): void {
    const computed = getComputedStyle(source);
    const style = inlinedProperties.map((property) => `${property}:${computed.getPropertyValue(property)}`).join(";");
    target.setAttribute("style", style);
    for (let i = 0; i < source.children.length; i++) {
        const child = target.children[i];
        if (child != null)
            inlineComputedStyles(source.children[i]!, child);
    }
}

/** The SVG as a standalone document with its styles inlined and a background behind it. */
export function serializeSvg(svg: SVGSVGElement, background: string): { text: string; width: number; height: number } {
    const box = svg.getBoundingClientRect();
    const width = Math.max(1, Math.round(box.width));
    const height = Math.max(1, Math.round(box.height));
    const clone = svg.cloneNode(true) as SVGSVGElement;
    inlineComputedStyles(svg, clone);
    clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
    clone.setAttribute("width", String(width));
    clone.setAttribute("height", String(height));
    if (!clone.hasAttribute("viewBox"))
        clone.setAttribute("viewBox", `0 0 ${width} ${height}`);
    const backdrop = document.createElementNS("http://www.w3.org/2000/svg", "rect");
    const attributes: [string, string][] = [["x", "0"], ["y", "0"], ["width", "100%"], ["height", "100%"], ["fill", background]];
    for (const [name, value] of attributes)
        backdrop.setAttribute(name, value);
    clone.insertBefore(backdrop, clone.firstChild);
    return { text: new XMLSerializer().serializeToString(clone), width, height };
}

/** Renders the SVG to a PNG at `scale` device pixels per CSS pixel. */
export async function svgToPng(svg: SVGSVGElement, scale = 2): Promise<Blob> {
    const background = getComputedStyle(document.documentElement).getPropertyValue("--bg-panel").trim() || "#151a21";
    const { text, width, height } = serializeSvg(svg, background);
    // a data: URL, not a blob: one: the page's CSP allows images from data: only
    const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`;
    const image = new Image();
    await new Promise<void>((resolve, reject) => {
        image.onload = () => resolve();
        image.onerror = () => reject(new Error("the plot's SVG could not be drawn as an image"));
        image.src = url;
    });
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const context = canvas.getContext("2d");
    if (context == null)
        throw new Error("no 2D canvas to draw the plot on");
    context.scale(scale, scale);
    context.drawImage(image, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((blob) => blob != null ? resolve(blob) : reject(new Error("the canvas gave no PNG")), "image/png"));
}

/** Saves a blob under `fileName` through a temporary download link. */
export function downloadBlob(blob: Blob, fileName: string): void {
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName;
    link.style.display = "none";
    document.body.appendChild(link);
    link.click();
    link.remove();
    // the download has started from the click; keep the URL a moment for slow handlers
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function csvCell(value: string | number | null | undefined): string {
    if (value == null)
        return "";
    if (typeof value === "number")
        return Number.isFinite(value) ? String(value) : "";
    return /[",\n\r]/.test(value) || value !== value.trim() ? `"${value.replace(/"/g, '""')}"` : value;
}

/** RFC 4180 CSV: a header row, then one row per record; text with commas, quotes, breaks or edge spaces is quoted. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
    return [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

export function downloadCsv(csv: string, fileName: string): void {
    downloadBlob(new Blob([csv], { type: "text/csv;charset=utf-8" }), fileName);
}

/** Finds the plot's SVG inside `container` (recharts: the wrapper's own surface, not the legend icons) and saves it as PNG. */
export async function exportContainerPng(container: HTMLElement | null, fileName: string): Promise<void> {
    const svg = container?.querySelector<SVGSVGElement>("svg[data-plot], .recharts-wrapper > svg");
    if (svg == null)
        throw new Error("there is no plot to export yet");
    downloadBlob(await svgToPng(svg), fileName);
}
