// Vector building speed: 100 contrastive pairs on a generated 16-layer model. Every text is
// evaluated once and every layer is read from that one pass, so building all layers should cost
// about what building one layer costs (a per-layer pass would cost ~15×).
import type { TillerContext } from "../engine/runtime/TillerContext.js";
import { buildSteeringVector } from "../engine/vectors/buildSteeringVector.js";
import type { PairTexts } from "../engine/vectors/pairTokens.js";
import { tokenizePair } from "../engine/vectors/pairTokens.js";
import { median } from "./benchStatistics.js";

const subjects = ["The cat", "A girl", "My friend", "The old man", "Our teacher", "The dog", "A small bird", "The farmer", "His sister", "The baker"];
const places = ["at the park", "in the kitchen", "by the river", "at school", "in the garden", "on the hill", "at the shop", "in the forest", "at home", "near the sea"];

export function benchPairs(count: number): PairTexts[] {
    return Array.from({ length: count }, (_, i) => ({
        prompt: `${subjects[i % subjects.length]} was ${places[Math.floor(i / subjects.length) % places.length]} that day.`,
        positive: " Everything felt bright and wonderful, and there was a big smile on every face.",
        negative: " Everything felt grey and heavy, and there were quiet tears on every face."
    }));
}

export async function benchVectorBuild(context: TillerContext, repeats: number): Promise<string[]> {
    const pairs = benchPairs(100);
    const { nLayer } = context.model.shape;
    const tokens = pairs.map((pair) => tokenizePair(context.model, pair, "mean"));
    const allTokens = tokens.reduce((sum, pair) => sum + 2 * pair.prefix.length + pair.positiveSuffix.length + pair.negativeSuffix.length, 0);
    const decoded = tokens.reduce((sum, pair) => sum + pair.prefix.length + pair.positiveSuffix.length + pair.negativeSuffix.length, 0);

    const timeBuild = async (layers: { first: number; last: number }) => {
        const times: number[] = [];
        for (let repeat = 0; repeat < repeats; repeat++)
            times.push((await buildSteeringVector(context, pairs, { layers, readAt: "mean", heldOutFraction: 0.2 })).elapsedMs);
        return median(times);
    };
    await timeBuild({ first: 1, last: 1 }); // warm-up
    const oneLayer = await timeBuild({ first: 1, last: 1 });
    const allLayers = await timeBuild({ first: 1, last: nLayer - 1 });
    return [
        `vector build, 100 pairs (200 texts, ${allTokens} tokens; ${decoded} decoded after prefix sharing):`,
        `  all ${nLayer - 1} layers from one pass  ${(allLayers / 1000).toFixed(2)} s (median of ${repeats})`,
        `  one layer                     ${(oneLayer / 1000).toFixed(2)} s`,
        `  all layers / one layer        ${(allLayers / oneLayer).toFixed(2)}×  (a pass per layer would be ~${nLayer - 1}×)`
    ];
}
