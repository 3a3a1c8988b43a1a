// Teacher-forced logits of a transcript's emitted tokens, clean and under hypothetical patches,
// with the clean prefix decoded once. Sequence 0 holds the clean pass (prompt + every emitted
// token but the last); a hypothesis that switches on at generated token k copies the first
// P − 1 + k positions of sequence 0 into sequence 1 (shared KV cells, no copy) and decodes only
// the rest, switching the control vector at the edges of its on/off mask.
//
// Generated token k is predicted by the decode at position P − 1 + k (P = prompt tokens).
import { TillerError } from "../protocol/TillerError.js";
import type { ComposedControlVector } from "../runtime/SteeringPatch.js";
import type { TillerContext } from "../runtime/TillerContext.js";

export class TranscriptScorer {
    /** decodes run so far (the clean pass counts one) */
    public decodes = 0;
    private cleanRows: Float32Array[] = [];

    private constructor(private readonly context: TillerContext, private readonly promptTokens: Int32Array, private readonly emitted: Int32Array,
        private readonly signal: AbortSignal | undefined) {}

    /** Decodes the clean pass. The context needs 2 sequences and a batch of at least the transcript's length. */
    public static async open(context: TillerContext, promptTokens: Int32Array, emitted: Int32Array, signal?: AbortSignal): Promise<TranscriptScorer> {
        if (context.sequences < 2)
            throw new TillerError("INVALID_ARGUMENT", "forensics needs a context with at least 2 sequences");
        if (promptTokens.length + emitted.length > Math.min(context.contextSize, context.batchSize))
            throw new TillerError("PROMPT_TOO_LONG", `the transcript (${promptTokens.length + emitted.length} tokens) does not fit this context`);
        const scorer = new TranscriptScorer(context, promptTokens, emitted, signal);
        await context.clearMemory();
        await context.setSteering(null);
        const all = scorer.allTokens();
        const start = promptTokens.length - 1;
        if (start > 0)
            await context.evaluate(all.subarray(0, start), { startPosition: 0, seqId: 0, logits: "none", signal });
        await context.evaluate(all.subarray(start), { startPosition: start, seqId: 0, logits: "all", signal });
        scorer.cleanRows = Array.from(emitted, (_, k) => context.logits(k));
        scorer.decodes++;
        return scorer;
    }

    public get length(): number {
        return this.emitted.length;
    }

    /** clean logits predicting generated token k */
    public clean(k: number): Float32Array {
        return this.cleanRows[k]!;
    }

    /** prompt + emitted tokens but the last (nothing is predicted after it) */
    private allTokens(): Int32Array {
        return Int32Array.from([...this.promptTokens, ...this.emitted.subarray(0, this.emitted.length - 1)]);
    }

    /**
     * Logits for every generated token with `steering` acting where `mask` is 1 (null mask: every
     * generated token). Tokens before the first engaged one keep the clean logits (same array).
     * Leaves the steering set (the next hypothesis usually changes it anyway); the owner of the
     * context clears it when the detection ends.
     */
    public async score(steering: ComposedControlVector | null, mask: Uint8Array | null = null): Promise<Float32Array[]> {
        const n = this.emitted.length;
        const first = mask == null ? 0 : mask.indexOf(1);
        if (steering == null || first < 0)
            return [...this.cleanRows];
        if (this.signal?.aborted)
            throw new TillerError("ABORTED", "the detection was cancelled");
        const context = this.context;
        const all = this.allTokens();
        const P = this.promptTokens.length;
        await context.removeTokens(1, 0, -1);
        const prefixEnd = P - 1 + first;
        if (prefixEnd > 0)
            await context.copySequence(0, 1, 0, prefixEnd);
        const rows = this.cleanRows.slice(0, first);
        let k = first;
        while (k < n) {
            const on = mask == null || mask[k] === 1;
            let end = k + 1;
            while (end < n && (mask == null || mask[end] === 1) === on)
                end++;
            const wanted = on ? steering : null;
            if (context.currentSteering !== wanted) // each change costs a scheduler re-reserve
                await context.setSteering(wanted);
            await context.evaluate(all.subarray(P - 1 + k, P - 1 + end), { startPosition: P - 1 + k, seqId: 1, logits: "all", signal: this.signal });
            this.decodes++;
            for (let row = 0; row < end - k; row++)
                rows.push(context.logits(row));
            k = end;
        }
        return rows;
    }
}
