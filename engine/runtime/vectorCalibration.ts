// Calibration of a vector's read-outs: per layer, where the two classes of its training pairs sit
// along the unit direction. A raw projection ⟨h, v̂⟩ carries the mean activation's own offset along
// v̂, which differs from layer to layer, model to model and file to file, so a raw threshold (20,
// −30) means something for one file only. In σ units, z = (⟨h, v̂⟩ − midpoint) / σ, 0 is halfway
// between the class means and ±1 is one pooled within-class standard deviation from there,
// whatever the vector.
//
// Stored in the control-vector file as one string key (llama.cpp ignores tiller.* keys):
//     tiller.calibration = {"version":1,"layers":{"2":{"midpoint":-3.1,"sigma":4.2}, …}}
import { TillerError } from "../protocol/TillerError.js";

export const CALIBRATION_KEY = "tiller.calibration";

export interface LayerCalibration {
    /** halfway between the positive and negative training projections' means */
    midpoint: number;
    /** pooled within-class standard deviation of those projections (> 0) */
    sigma: number;
}

/** layer (llama.cpp numbering) → calibration */
export type VectorCalibration = ReadonlyMap<number, LayerCalibration>;

/**
 * `{ version: 1, layers: { "<layer>": { midpoint: finite, sigma: finite > 0 } } }`, checked by hand
 * rather than with zod: this module is on the path of every generation (ProjectionReader), and
 * loading zod costs a CLI start ~0.1 s.
 */
function parseLayers(parsed: unknown): Map<number, LayerCalibration> | undefined {
    if (parsed == null || typeof parsed !== "object" || (parsed as { version?: unknown }).version !== 1)
        return undefined;
    const layers = (parsed as { layers?: unknown }).layers;
    if (layers == null || typeof layers !== "object" || Array.isArray(layers))
        return undefined;
    const result = new Map<number, LayerCalibration>();
    for (const [layer, entry] of Object.entries(layers)) {
        if (!/^\d+$/.test(layer) || entry == null || typeof entry !== "object")
            return undefined;
        const { midpoint, sigma } = entry as { midpoint?: unknown; sigma?: unknown };
        if (typeof midpoint !== "number" || !Number.isFinite(midpoint) || typeof sigma !== "number" || !Number.isFinite(sigma) || sigma <= 0)
            return undefined;
        result.set(Number(layer), { midpoint, sigma });
    }
    return result;
}

export function encodeCalibration(calibration: VectorCalibration): string {
    const layers: Record<string, LayerCalibration> = {};
    for (const [layer, entry] of [...calibration].sort(([a], [b]) => a - b))
        layers[String(layer)] = { midpoint: entry.midpoint, sigma: entry.sigma };
    return JSON.stringify({ version: 1, layers });
}

/** The calibration in a file's metadata; undefined when absent or unreadable (a vector from elsewhere). */
export function decodeCalibration(metadata: Readonly<Record<string, string>> | undefined): VectorCalibration | undefined {
    const text = metadata?.[CALIBRATION_KEY];
    if (text == null)
        return undefined;
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        return undefined;
    }
    return parseLayers(parsed);
}

/** Only layers with a usable σ are kept (a degenerate build — identical projections — has σ = 0). */
export function usableCalibration(entries: Iterable<[number, LayerCalibration]>): VectorCalibration {
    return new Map([...entries].filter(([, entry]) => Number.isFinite(entry.midpoint) && Number.isFinite(entry.sigma) && entry.sigma > 0));
}

/** (value − midpoint) / σ */
export function toSigmaUnits(value: number, calibration: LayerCalibration): number {
    return (value - calibration.midpoint) / calibration.sigma;
}

/** The calibration of `layer`, or INVALID_ARGUMENT naming what is missing (σ-unit thresholds need one). */
export function requireCalibration(calibration: VectorCalibration | undefined, layer: number, what: string): LayerCalibration {
    const entry = calibration?.get(layer);
    if (entry == null)
        throw new TillerError("INVALID_ARGUMENT",
            `${what}: a threshold in σ units needs the vector's calibration at layer ${layer}, and ` +
            (calibration == null ? "the vector has none (it was not built by Tiller, or before calibration was stored); use a raw threshold or rebuild it"
                : `it has calibration only for layers ${[...calibration.keys()].join(", ")}`));
    return entry;
}
