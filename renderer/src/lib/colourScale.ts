// The diverging blue ↔ red scale of projections: negative values blue, positive red, zero the
// strip's neutral tone. `scale` is the magnitude that gets the full colour.

const NEUTRAL: readonly [number, number, number] = [38, 43, 54];
const NEGATIVE: readonly [number, number, number] = [47, 111, 235];
const POSITIVE: readonly [number, number, number] = [226, 62, 62];

/** the neutral tone of a token with no read-out, as a CSS colour */
export const neutralTokenColour = `rgb(${NEUTRAL.join(", ")})`;

export function divergingColour(value: number, scale: number): string {
    if (!Number.isFinite(value) || scale <= 0)
        return neutralTokenColour;
    const t = Math.min(1, Math.abs(value) / scale) ** 0.75;
    const end = value < 0 ? NEGATIVE : POSITIVE;
    const mix = (i: 0 | 1 | 2): number => Math.round(NEUTRAL[i] + (end[i] - NEUTRAL[i]) * t);
    return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

/** the CSS gradient of the legend, from −scale (left) to +scale (right) */
export function legendGradient(): string {
    const stops = [-1, -0.5, -0.25, 0, 0.25, 0.5, 1].map((v) => `${divergingColour(v, 1)} ${((v + 1) / 2) * 100}%`);
    return `linear-gradient(90deg, ${stops.join(", ")})`;
}

/** Scale choices offered in the UI; "auto" follows the largest magnitude seen, rounded up to one of these. */
export const projectionScales = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1] as const;

export function autoScale(maxAbs: number): number {
    for (const scale of projectionScales) {
        if (maxAbs <= scale)
            return scale;
    }
    return 1;
}
