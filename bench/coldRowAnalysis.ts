// The row analysis on rows that come from memory, not from cache: what a decode's fresh logits row
// costs at a real vocabulary size, without the decode's own noise around it. Rows of seeded logits
// fill a buffer several times the last-level cache; each call analyses the next row, so every row
// is cold when it is read. Used by the `vocab` section.
import type { TillerNativeAddon } from "../engine/native/AddonTypes.js";
import { analyzeLogits, type RowAnalysisOptions } from "../engine/runtime/RowAnalysis.js";
import { SeededRandom } from "../engine/runtime/sampling/SeededRandom.js";
import { median } from "./benchStatistics.js";

const BUFFER_BYTES = 48 * 1024 * 1024;
const PASSES = 20;

export interface ColdRowMicros {
    /** statistics off: the native argmax a bare loop uses */
    argmax: number;
    /** greedy with statistics, read-outs and 5 alternatives (what generate() asks for) */
    full: number;
    /** the same at T = 0.8 (statistics at two temperatures) */
    sampled: number;
}

/** Median µs per call over cold rows of `nVocab` logits, with the given kernel. */
export function coldRowMicros(addon: TillerNativeAddon, nVocab: number, kernel: "auto" | "avx2" = "auto"): ColdRowMicros {
    const rows = Math.max(4, Math.floor(BUFFER_BYTES / (4 * nVocab)));
    const logits = new Float32Array(rows * nVocab);
    const random = new SeededRandom(11);
    for (let i = 0; i < logits.length; i++)
        logits[i] = 3 * (random.next() + random.next() + random.next() - 1.5);
    const variants: Record<keyof ColdRowMicros, RowAnalysisOptions> = {
        argmax: { statistics: false },
        full: { topAlternatives: 5, temperature: 0, kernel },
        sampled: { topAlternatives: 5, temperature: 0.8, kernel }
    };
    const samples: Record<keyof ColdRowMicros, number[]> = { argmax: [], full: [], sampled: [] };
    for (let pass = 0; pass < PASSES; pass++) {
        for (const name of Object.keys(variants) as Array<keyof ColdRowMicros>) {
            for (let r = 0; r < rows; r++) {
                const row = logits.subarray(r * nVocab, (r + 1) * nVocab);
                const start = performance.now();
                analyzeLogits(addon, row, nVocab, variants[name]);
                samples[name].push((performance.now() - start) * 1000);
            }
        }
    }
    return { argmax: median(samples.argmax), full: median(samples.full), sampled: median(samples.sampled) };
}
