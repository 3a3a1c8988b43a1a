// The CSV tables behind the probe plots: one row per completion token (the plots' x axis).
import { toCsv } from "../../lib/exportPlot";
import type { DetectionResult, SweepResult } from "../../state/probeStore";

export function chiCsv(sweep: SweepResult): string {
    return toCsv(["index", "id", "piece", "chi", "chi_error", "curvature", "entropy_response", "fisher", "fdt_gap", "fdt_gap_error"],
        sweep.tokens.map((token) => [token.index, token.id, token.piece, token.chi, token.chiError, token.curvature, token.entropyResponse,
            token.fisher, token.fdtGap, token.fdtGapError]));
}

export function alphaCurvesCsv(sweep: SweepResult, selected: readonly number[]): string {
    const tokens = selectedTokens(sweep, selected);
    return toCsv(["alpha", ...tokens.map((token) => `logp[${token.index}] ${token.piece}`)],
        sweep.alphas.map((alpha, a) => [alpha, ...tokens.map((token) => token.logprobs[a])]));
}

/** The sweep's tokens whose (completion) index is selected; a sweep from token K starts at index K. */
export function selectedTokens(sweep: SweepResult, selected: readonly number[]): SweepResult["tokens"] {
    return selected.map((index) => sweep.tokens.find((token) => token.index === index)).filter((token) => token != null);
}

/** Λ(α) on the grid; one row per strength. */
export function pathFreeEnergyCsv(sweep: SweepResult): string {
    return toCsv(["alpha", "path_free_energy"], sweep.alphas.map((alpha, a) => [alpha, sweep.pathFreeEnergy[a]]));
}

export function layersOf(sweep: SweepResult): number[] {
    return Array.from({ length: sweep.layers.last - sweep.layers.first + 1 }, (_, i) => sweep.layers.first + i);
}

export function heatmapCsv(sweep: SweepResult): string {
    const layers = layersOf(sweep);
    return toCsv(["index", "piece", ...layers.map((layer) => `chi_L${layer}`)],
        sweep.tokens.map((token) => [token.index, token.piece, ...(token.chiPerLayer ?? layers.map(() => null))]));
}

export function detectionCsv(detection: DetectionResult): string {
    return toCsv(["index", "id", "piece", "kl", "delta_logprob"],
        detection.kl.map((kl, k) => [k, detection.tokens[k]?.id, detection.tokens[k]?.piece, kl, detection.deltaLogprob[k]]));
}
