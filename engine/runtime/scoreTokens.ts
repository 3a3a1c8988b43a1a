// Teacher-forced scoring: the log-probability the model gives each token of a fixed text, under a
// steering vector applied to every position. The primitive beneath detection and susceptibility.
import { TillerError } from "../protocol/TillerError.js";
import type { ComposedControlVector } from "./SteeringPatch.js";
import type { TillerContext } from "./TillerContext.js";

export interface ScoredToken {
    /** position in `tokens` (≥ 1: the first token has no prediction) */
    position: number;
    id: number;
    /** log p(tokens[position] | tokens[0..position-1]) */
    logprob: number;
    /** entropy of the distribution that predicted it */
    entropy: number;
}

/**
 * Scores `tokens[from..]` given everything before them. Steering (if any) acts on every position,
 * like a patch from the prompt on. Leaves the context unsteered.
 */
export async function scoreTokens(context: TillerContext, tokens: Int32Array, options: { steering?: ComposedControlVector | null; from?: number } = {}): Promise<ScoredToken[]> {
    const from = options.from ?? 1;
    if (from < 1 || from >= tokens.length)
        throw new TillerError("INVALID_ARGUMENT", `nothing to score: from=${from} with ${tokens.length} tokens`);
    if (tokens.length > context.batchSize)
        throw new TillerError("PROMPT_TOO_LONG", `scoring ${tokens.length} tokens needs a batch of at least that size (the context's is ${context.batchSize})`);
    const release = context.claim("scoring a text");
    try {
        await context.clearMemory();
        await context.setSteering(options.steering ?? null);
        await context.evaluate(tokens, { startPosition: 0, logits: "all" });
        // rows from-1 .. n-2 predict tokens from .. n-1: one native pass per row (exact exponentials)
        const rows = Int32Array.from({ length: tokens.length - from }, (_, i) => from - 1 + i);
        const analysis = context.analyzeRows(rows, { targets: tokens.slice(from), exact: true });
        return Array.from(rows, (row, i) => ({ position: row + 1, id: tokens[row + 1]!, logprob: analysis.logprob(i), entropy: analysis.entropy(i) }));
    } finally {
        await context.setSteering(null);
        release();
    }
}
