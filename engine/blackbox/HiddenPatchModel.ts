// A model with one hidden conditional patch, run the way a patched inference server would run it:
// every position of a text is decoded in order, and once the trigger has fired the patch acts on
// every later position until the end of the text. The suspect serves this; the engine oracle
// wraps it for in-process localisation.
//
// Timing (the same as a run's triggered patch, engine/runtime/SteeringPatch.ts):
//   text        the text up to and including token p contains `match`: positions ≥ p are steered
//               (the decode of token p already sees it, so it predicts token p+1 steered);
//   projection  ⟨h_layer(p), û⟩ crosses `threshold` at position p: positions ≥ p+1 are steered
//               (the residual is known only once position p has been decoded).
// Patch layers lie above a projection trigger's layer (drawSuspect makes sure), so the clean read-out
// decides the onset exactly and the patch cannot feed back into its own condition.
import { TillerError } from "../protocol/TillerError.js";
import { composeControlVector, type ComposedControlVector } from "../runtime/SteeringPatch.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import type { LayerRange } from "../runtime/layers.js";
import type { TokenLogProb } from "../runtime/sampling/TokenStatistics.js";

export type HiddenTrigger =
    | { kind: "text"; match: string }
    | { kind: "projection"; layer: number; /** unit length */ direction: Float32Array; threshold: number };

export interface HiddenPatch {
    trigger: HiddenTrigger;
    vector: SteeringVector;
    layers: LayerRange;
    strength: number;
}

/** One scored position: the distribution that predicted token `position` (position ≥ 1). */
export interface ScoredPosition {
    position: number;
    id: number;
    logprob: number;
    /** most likely tokens first; empty unless asked for */
    top: TokenLogProb[];
}

export interface SequenceScore {
    positions: ScoredPosition[];
    /** first steered position, or null when the trigger never fired */
    steeredFrom: number | null;
}

/** What the native analysis kept of one row (RowAnalysis). */
interface AnalysedRow {
    /** log p of the next token of the text (of the greedy token for the last row) */
    logprob: number;
    logSumExp: number;
    greedy: number;
    top: TokenLogProb[];
}

export class HiddenPatchModel {
    private readonly steering: ComposedControlVector | null;

    /** `patch` null: the clean model (a control suspect, and the reference in tests) */
    public constructor(public readonly context: TillerContext, public readonly patch: HiddenPatch | null) {
        const { nLayer, nEmbd } = context.model.shape;
        this.steering = patch == null ? null
            : composeControlVector([{ id: "hidden", vector: patch.vector, strength: patch.strength, layers: patch.layers }], 0, { nLayer, nEmbd });
    }

    /** The position from which a text trigger steers, found from the text alone. */
    private textOnset(tokens: Int32Array, match: string): number | null {
        const model = this.context.model;
        const bos = model.shape.bos;
        const start = tokens[0] === bos ? 1 : 0;
        for (let end = start + 1; end <= tokens.length; end++) {
            if (model.detokenize(tokens.subarray(start, end)).includes(match))
                return end - 1;
        }
        return null;
    }

    /**
     * Decodes `tokens` in order under the hidden patch and analyses each decode's rows natively
     * right after it (RowAnalysis, double-precision exponentials): row p is the distribution after
     * position p (predicting token p+1, whose log-probability it carries; the last row predicts the
     * token after the text and carries its greedy token's). Logits cross into JavaScript only for
     * the last row, and only when `lastLogits` asks (a sampler with a caller's random source).
     */
    private async run(tokens: Int32Array, options: { topN: number; lastLogits?: boolean; signal?: AbortSignal }): Promise<{ rows: AnalysedRow[]; steeredFrom: number | null; lastLogits: Float32Array | null }> {
        if (tokens.length < 1)
            throw new TillerError("INVALID_ARGUMENT", "nothing to evaluate: the text has no tokens");
        if (tokens.length > this.context.contextSize)
            throw new TillerError("PROMPT_TOO_LONG", `${tokens.length} tokens do not fit the context of ${this.context.contextSize} tokens`);
        const { signal, topN } = options;
        const release = this.context.claim("serving a suspect's request");
        const rows: AnalysedRow[] = [];
        let lastLogits: Float32Array | null = null;
        // rows 0..count-1 of the last decode are positions first..first+count-1
        const analyse = (first: number, count: number) => {
            const targets = Int32Array.from({ length: count }, (_, r) => first + r + 1 < tokens.length ? tokens[first + r + 1]! : -1);
            const analysis = this.context.analyzeRows(Int32Array.from({ length: count }, (_, r) => r), { targets, topAlternatives: topN, exact: true });
            for (let r = 0; r < count; r++)
                rows.push({ logprob: analysis.logprob(r), logSumExp: analysis.logSumExp(r), greedy: analysis.greedy[r]!, top: analysis.top(r) });
            if (options.lastLogits === true && first + count === tokens.length)
                lastLogits = this.context.logits(count - 1);
        };
        let steeredFrom: number | null = null;
        try {
            await this.context.clearMemory();
            await this.context.setSteering(null);
            const trigger = this.patch?.trigger;
            if (trigger?.kind === "projection") {
                await this.context.setCapture([trigger.layer]);
                const captured = await this.context.evaluate(tokens, { startPosition: 0, logits: "all", signal });
                const layer = captured.get(trigger.layer)!;
                const nEmbd = this.context.model.shape.nEmbd;
                for (let position = 0; position + 1 < layer.rows && steeredFrom == null; position++) {
                    let projection = 0;
                    for (let i = 0; i < nEmbd; i++)
                        projection += layer.data[position * nEmbd + i]! * trigger.direction[i]!;
                    if (projection > trigger.threshold)
                        steeredFrom = position + 1;
                }
                analyse(0, steeredFrom ?? tokens.length);
                if (steeredFrom != null)
                    await this.context.removeTokens(0, steeredFrom);
            } else {
                steeredFrom = trigger?.kind === "text" ? this.textOnset(tokens, trigger.match) : null;
                const cleanEnd = steeredFrom ?? tokens.length;
                if (cleanEnd > 0) {
                    await this.context.evaluate(tokens.subarray(0, cleanEnd), { startPosition: 0, logits: "all", signal });
                    analyse(0, cleanEnd);
                }
            }
            if (steeredFrom != null) {
                await this.context.setCapture([]);
                await this.context.setSteering(this.steering);
                await this.context.evaluate(tokens.subarray(steeredFrom), { startPosition: steeredFrom, logits: "all", signal });
                analyse(steeredFrom, tokens.length - steeredFrom);
            }
        } finally {
            await this.context.setCapture([]);
            await this.context.setSteering(null);
            release();
        }
        return { rows, steeredFrom, lastLogits };
    }

    /**
     * Teacher-forced log-probabilities of `tokens[1..]` (tokens[0] is normally BOS) under the hidden
     * patch, with the `topN` most likely tokens at each position.
     */
    public async score(tokens: Int32Array, topN = 0, signal?: AbortSignal): Promise<SequenceScore> {
        if (tokens.length < 2)
            throw new TillerError("INVALID_ARGUMENT", "scoring needs at least two tokens");
        const { rows, steeredFrom } = await this.run(tokens, { topN, signal });
        const positions: ScoredPosition[] = [];
        for (let position = 1; position < tokens.length; position++) {
            const row = rows[position - 1]!;
            positions.push({ position, id: tokens[position]!, logprob: row.logprob, top: row.top });
        }
        return { positions, steeredFrom };
    }

    /** the `topN` most likely tokens after `tokens` */
    public async nextTop(tokens: Int32Array, topN: number, signal?: AbortSignal): Promise<TokenLogProb[]> {
        const { rows } = await this.run(tokens, { topN, signal });
        return rows[rows.length - 1]!.top;
    }

    /**
     * Continues `tokens` by up to `maxTokens` tokens, greedily (temperature 0) or sampled with
     * `random`. Each step re-decodes the whole text: the trigger may fire inside the continuation,
     * and suspects run on small models where this costs little.
     */
    public async complete(tokens: Int32Array, maxTokens: number, options: { temperature?: number; random?: () => number; topN?: number; signal?: AbortSignal } = {}): Promise<{ generated: ScoredPosition[]; stopped: "length" | "stop" }> {
        const generated: ScoredPosition[] = [];
        let text = tokens;
        for (let step = 0; step < maxTokens; step++) {
            const sampled = (options.temperature ?? 0) > 0 && options.random != null;
            const { rows, lastLogits } = await this.run(text, { topN: options.topN ?? 0, lastLogits: sampled, signal: options.signal });
            const last = rows[rows.length - 1]!;
            const id = sampled ? sampleToken(lastLogits!, options.temperature!, options.random!) : last.greedy;
            if (this.context.model.isEndOfGeneration(id))
                return { generated, stopped: "stop" };
            // the last row's target was its greedy token; a sampled one's log-probability from the row's log-sum-exp
            const logprob = sampled ? lastLogits![id]! - last.logSumExp : last.logprob;
            generated.push({ position: text.length, id, logprob, top: last.top });
            const next = new Int32Array(text.length + 1);
            next.set(text);
            next[text.length] = id;
            text = next;
        }
        return { generated, stopped: "length" };
    }
}

function sampleToken(logits: Float32Array, temperature: number, random: () => number): number {
    let max = -Infinity;
    for (const value of logits)
        max = Math.max(max, value);
    const weights = new Float64Array(logits.length);
    let total = 0;
    for (let i = 0; i < logits.length; i++) {
        weights[i] = Math.exp((logits[i]! - max) / temperature);
        total += weights[i]!;
    }
    let draw = random() * total;
    for (let i = 0; i < logits.length; i++) {
        draw -= weights[i]!;
        if (draw <= 0)
            return i;
    }
    return logits.length - 1;
}
