// The CSV tables behind the probe plots: one row per completion token (the plots' x axis).
import { toCsv } from "../../lib/exportPlot";
import type { DetectionResult, SweepResult } from "../../state/probeStore";

export function chiCsv(sweep: SweepResult): string {
    return toCsv(["index", "id", "piece", "chi", "curvature", "entropy_response"],
        sweep.tokens.map((token) => [token.index, token.id, token.piece, token.chi, token.curvature, token.entropyResponse]));
}

export function alphaCurvesCsv(sweep: SweepResult, selected: readonly number[]): string {
    const tokens = selected.map((index) => sweep.tokens[index]).filter((token) => token != null);
    return toCsv(["alpha", ...tokens.map((token) => `logp[${token.index}] ${token.piece}`)],
        sweep.alphas.map((alpha, a) => [alpha, ...tokens.map((token) => token.logprobs[a])]));
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
