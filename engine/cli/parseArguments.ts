// Parsers for the CLI's option values. Each throws commander's InvalidArgumentError, which commander
// turns into "option '--x <V>' argument 'v' is invalid. <reason>" and a non-zero exit.
import { InvalidArgumentError } from "commander";
import { TillerError } from "../protocol/TillerError.js";
import { parseLayerRange, type LayerRange } from "../runtime/layers.js";

/** `--vector FILE[:SCALE]`: a control-vector file and the strength it is applied with. */
export interface VectorSpec {
    path: string;
    scale: number;
}

/**
 * Parses `FILE[:SCALE]`. A path may itself contain ':', so only the text after the last ':' is
 * tried as a scale, and only when it reads as a number (or as NaN/Infinity, which are refused with
 * the value named). Otherwise the whole text is the path and the scale is 1.
 */
export function parseVectorSpec(text: string): VectorSpec {
    const colon = text.lastIndexOf(":");
    if (colon > 0) {
        const tail = text.slice(colon + 1).trim();
        const path = text.slice(0, colon);
        if (/^[+-]?(nan|inf|infinity)$/i.test(tail))
            throw new InvalidArgumentError(`the scale "${tail}" is not a finite number`);
        if (tail !== "" && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(tail)) {
            const scale = Number(tail);
            if (!Number.isFinite(scale))
                throw new InvalidArgumentError(`the scale "${tail}" is not a finite number`);
            return { path, scale };
        }
    }
    if (text.trim() === "")
        throw new InvalidArgumentError("the vector file name is empty");
    return { path: text, scale: 1 };
}

/** A finite number (any sign). */
export function parseNumber(text: string): number {
    const value = Number(text.trim());
    if (text.trim() === "" || !Number.isFinite(value))
        throw new InvalidArgumentError(`"${text}" is not a finite number`);
    return value;
}

/** A whole number ≥ `min`. */
export function wholeNumberParser(min: number): (text: string) => number {
    return (text: string) => {
        const trimmed = text.trim();
        const value = Number(trimmed);
        if (!/^[+-]?\d+$/.test(trimmed) || !Number.isSafeInteger(value) || value < min)
            throw new InvalidArgumentError(`"${text}" is not a whole number ≥ ${min}`);
        return value;
    };
}

/** `--gpu-layers N|auto`. */
export function parseGpuLayers(text: string): number | "auto" {
    if (text.trim().toLowerCase() === "auto")
        return "auto";
    return wholeNumberParser(0)(text);
}

/** `--layers A-B` / `--probe-layers A-B`: inclusive, llama.cpp numbering (checked against the model later). */
export function parseLayers(text: string): LayerRange {
    try {
        return parseLayerRange(text);
    } catch (error) {
        if (error instanceof TillerError)
            throw new InvalidArgumentError(error.message);
        throw error;
    }
}

/** Accumulator for repeatable options. */
export function collect<T>(parse: (text: string) => T): (text: string, previous: T[] | undefined) => T[] {
    return (text, previous) => [...(previous ?? []), parse(text)];
}
