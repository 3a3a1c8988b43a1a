// SamplerLikelihood's whole-row normalisers from the native row analysis: one pass over the row
// (float exponentials, double sums: ≈ 1e-7 relative) instead of two JavaScript loops of Math.exp,
// which cost milliseconds per row at 128k–262k tokens and run for every row of every hypothesis;
// with top-k, the top-k set from the same pass instead of a JavaScript heap over the row.
import type { TillerNativeAddon } from "../native/AddonTypes.js";
import { analyzeLogits } from "../runtime/RowAnalysis.js";
import type { RowNormaliser } from "./claimedSampler.js";

export function nativeRowNormaliser(addon: TillerNativeAddon): RowNormaliser {
    return (logits, temperature, topK = 0) => {
        const analysis = analyzeLogits(addon, logits, logits.length, { temperature, topAlternatives: topK });
        const { logZ1, logZT } = analysis.logPartitions(0);
        const max = logits[analysis.greedy[0]!]!;
        if (topK === 0)
            return { max, logZ1, logZT };
        // the top-k set from the same pass (masked tokens are never among the alternatives)
        return { max, logZ1, logZT, topIds: Int32Array.from(analysis.top(0), (alternative) => alternative.id) };
    };
}
