// Teacher-forced observation of a text: every position's next-token log-distribution and the
// residual stream at every block, in one batch (so two observations of the same tokens share the
// decode shape, and differences between them come from the patches alone).
import { TillerError } from "../protocol/TillerError.js";
import { composeControlVector, type SteeringPatch } from "../runtime/SteeringPatch.js";
import type { TillerContext } from "../runtime/TillerContext.js";

export interface Observation {
    tokens: Int32Array;
    /** tokens of the prompt (generated token k sits at position promptLength + k) */
    promptLength: number;
    nVocab: number;
    nEmbd: number;
    /** [position][vocab] log-softmax of the logits at each position (predicting position + 1) */
    logProbs: Float32Array[];
    /** block → [positions × nEmbd] outputs (l_out) */
    residuals: Map<number, Float32Array>;
}

/**
 * log-softmax of the last decode's rows [0, count): the log-sum-exp from the native row analysis
 * (double precision; one pass, not two JavaScript loops of Math.exp over the vocabulary), the
 * subtraction here, since the whole distributions are what the detector compares.
 */
function logSoftmaxRows(context: TillerContext, count: number): Float32Array[] {
    const analysis = context.analyzeRows(Int32Array.from({ length: count }, (_, row) => row), { exact: true });
    return Array.from({ length: count }, (_, row) => {
        const logSum = analysis.logSumExp(row);
        return context.logits(row).map((value) => value - logSum);
    });
}

/**
 * Teacher-forces `tokens` with `patches` (windows in generated-token indices relative to
 * `promptLength`, as in a run): a patch from token K acts on positions ≥ promptLength + K - 1,
 * which is where a run's decode for token K happens. Captures every block.
 */
export async function teacherForce(context: TillerContext, tokens: Int32Array, promptLength: number, patches: readonly SteeringPatch[]): Promise<Observation> {
    const { nLayer, nEmbd, nVocab } = context.model.shape;
    if (tokens.length > context.batchSize)
        throw new TillerError("PROMPT_TOO_LONG", `${tokens.length} tokens exceed the batch size ${context.batchSize}`);
    const windows = patches.map((patch) => patch.fromToken ?? 0);
    if (windows.some((from) => from > 0) || patches.some((patch) => patch.untilToken != null))
        return teacherForceWindowed(context, tokens, promptLength, patches);
    const release = context.claim("teacher-forcing a text");
    try {
        await context.clearMemory();
        await context.setSteering(composeControlVector(patches, 0, { nLayer, nEmbd }));
        await context.setCapture(Array.from({ length: nLayer }, (_, i) => i));
        const captured = await context.evaluate(tokens, { startPosition: 0, logits: "all" });
        const logProbs = logSoftmaxRows(context, tokens.length);
        return { tokens, promptLength, nVocab, nEmbd, logProbs, residuals: new Map([...captured].map(([layer, entry]) => [layer, entry.data])) };
    } finally {
        await context.setCapture([]);
        await context.setSteering(null);
        release();
    }
}

/**
 * Patches with windows change the control vector between positions, and one decode has one
 * control vector: decode the text in segments at the window edges (the same segmentation is used
 * for any observation of the same windows, so shapes still match between compared observations
 * only when their windows match; the detector compares against a one-batch clean reference and
 * tolerates the rounding that segmenting introduces).
 */
async function teacherForceWindowed(context: TillerContext, tokens: Int32Array, promptLength: number, patches: readonly SteeringPatch[]): Promise<Observation> {
    const { nLayer, nEmbd, nVocab } = context.model.shape;
    // the decode at position p produces logits for generated token p - promptLength + 1
    const tokenAt = (position: number) => Math.max(0, position - promptLength + 1);
    const edges = new Set<number>([0, tokens.length]);
    for (const patch of patches) {
        for (const edge of [patch.fromToken ?? 0, patch.untilToken]) {
            if (edge != null && edge > 0)
                edges.add(Math.min(tokens.length, Math.max(0, promptLength + edge - 1)));
        }
    }
    const cuts = [...edges].sort((a, b) => a - b);
    const release = context.claim("teacher-forcing a text");
    try {
        await context.clearMemory();
        await context.setCapture(Array.from({ length: nLayer }, (_, i) => i));
        const residuals = new Map<number, Float32Array>(Array.from({ length: nLayer }, (_, layer) => [layer, new Float32Array(tokens.length * nEmbd)]));
        const logProbs: Float32Array[] = [];
        for (let i = 0; i + 1 < cuts.length; i++) {
            const [start, end] = [cuts[i]!, cuts[i + 1]!];
            await context.setSteering(composeControlVector(patches, tokenAt(start), { nLayer, nEmbd }));
            const captured = await context.evaluate(tokens.subarray(start, end), { startPosition: start, logits: "all" });
            for (const [layer, entry] of captured)
                residuals.get(layer)!.set(entry.data, start * nEmbd);
            logProbs.push(...logSoftmaxRows(context, end - start));
        }
        return { tokens, promptLength, nVocab, nEmbd, logProbs, residuals };
    } finally {
        await context.setCapture([]);
        await context.setSteering(null);
        release();
    }
}
