// Temperature scan of a whole text (or one of its positions): the text is teacher-forced once,
// with the patches of the run it came from, and every measured position's logits are scanned over
// the temperature grid (rowTemperatureScan.ts, natively) as they come out of the decode; nothing of
// size vocab is kept. The text's own curves are the per-token means (S̄(T), C̄(T), F̄(T)), and the heat-capacity
// peak of each token marks the temperature at which its choice is made.
//
// Patch windows follow a run's: a patch from generated token K acts on the decodes from position
// promptLength + K − 1 on (K = 0: every position). Each window edge starts a new decode segment,
// since one decode has one control vector. Triggered patches cannot be teacher-forced.
import type { ProbesThermoResult, ThermoTokenInfo } from "../protocol/thermoRequests.js";
import { TillerError } from "../protocol/TillerError.js";
import { composeControlVector, type SteeringPatch } from "../runtime/SteeringPatch.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { rowTemperatureScan } from "./rowTemperatureScan.js";
import { gridPeak } from "./thermodynamics.js";

export interface TextTemperatureScanOptions {
    temperatures: readonly number[];
    /** the run's patches (windows in generated-token indices); default none */
    patches?: readonly SteeringPatch[];
    /** scan only this completion token (its index); default every one */
    index?: number;
    signal?: AbortSignal;
}

/** The protocol's shapes, returned as they are (one definition). */
export type TokenTemperatureScan = ThermoTokenInfo;
export type TextTemperatureScan = ProbesThermoResult;

export async function textTemperatureScan(context: TillerContext, promptTokens: Int32Array, completionTokens: Int32Array,
    options: TextTemperatureScanOptions): Promise<TextTemperatureScan> {
    const started = performance.now();
    const temperatures = [...options.temperatures];
    if (temperatures.length < 2 || temperatures.some((value, i) => !(value > 0) || !Number.isFinite(value) || (i > 0 && value <= temperatures[i - 1]!)))
        throw new TillerError("INVALID_ARGUMENT", "the temperature grid must hold at least two positive, increasing temperatures");
    if (promptTokens.length === 0 || completionTokens.length === 0)
        throw new TillerError("INVALID_ARGUMENT", "a temperature scan needs a prompt and at least one completion token");
    if (options.index != null && (!Number.isInteger(options.index) || options.index < 0 || options.index >= completionTokens.length))
        throw new TillerError("INVALID_ARGUMENT", `token ${options.index} is not in the completion's ${completionTokens.length} tokens`);
    const patches = options.patches ?? [];
    if (patches.some((patch) => patch.trigger != null))
        throw new TillerError("INVALID_ARGUMENT", "triggered patches cannot be teacher-forced; give their windows (fromToken/untilToken) instead");
    const promptLength = promptTokens.length;
    const all = new Int32Array(promptLength + completionTokens.length);
    all.set(promptTokens);
    all.set(completionTokens, promptLength);
    // only the positions that predict a completion token are read; decoding stops before the last token
    const last = all.length - 1;
    const wanted = (position: number) => {
        const index = position - promptLength + 1;
        return index >= 0 && index < completionTokens.length && (options.index == null || index === options.index);
    };
    const end = options.index != null ? promptLength + options.index : last;
    if (end > context.contextSize)
        throw new TillerError("PROMPT_TOO_LONG", `the text (${end} tokens) does not fit the context of ${context.contextSize}`);
    const tokenAt = (position: number) => Math.max(0, position - promptLength + 1);
    const edges = new Set<number>([0, end]);
    for (const patch of patches)
        for (const edge of [patch.fromToken ?? 0, patch.untilToken])
            if (edge != null && edge > 0)
                edges.add(Math.min(end, promptLength + edge - 1));
    const cuts = [...edges].sort((a, b) => a - b);

    const tokens: TokenTemperatureScan[] = [];
    const release = context.claim("a temperature scan");
    try {
        await context.clearMemory();
        for (let c = 0; c + 1 < cuts.length; c++) {
            const segmentStart = cuts[c]!, segmentEnd = cuts[c + 1]!;
            await context.setSteering(composeControlVector(patches, tokenAt(segmentStart), context.model.shape));
            // in batch-sized pieces, reading each piece's rows before the next decode replaces them
            for (let start = segmentStart; start < segmentEnd; start += context.batchSize) {
                if (options.signal?.aborted)
                    throw new TillerError("ABORTED", "the temperature scan was cancelled");
                const stop = Math.min(segmentEnd, start + context.batchSize);
                const chunk = all.subarray(start, stop);
                const wantLogits = Uint8Array.from(chunk, (_, i) => (wanted(start + i) ? 1 : 0));
                await context.decodeBatch({ tokens: chunk, positions: Int32Array.from(chunk, (_, i) => start + i), seqIds: new Int32Array(chunk.length), wantLogits });
                for (let row = 0; row < chunk.length; row++) {
                    if (wantLogits[row] === 0)
                        continue;
                    const index = start + row - promptLength + 1;
                    const id = completionTokens[index]!;
                    tokens.push({ index, id, piece: context.model.tokenText(id), ...rowTemperatureScan(context, row, temperatures, id) });
                }
            }
        }
    } finally {
        await context.setSteering(null);
        await context.clearMemory();
        release();
    }
    const meanOf = (pick: (token: TokenTemperatureScan) => number[]) =>
        temperatures.map((_, k) => tokens.reduce((sum, token) => sum + pick(token)[k]!, 0) / tokens.length);
    const heatCapacity = meanOf((token) => token.heatCapacity);
    return {
        temperatures, tokens,
        mean: { entropy: meanOf((token) => token.entropy), heatCapacity, freeEnergy: meanOf((token) => token.freeEnergy), meanEnergy: meanOf((token) => token.meanEnergy) },
        meanHeatCapacityPeak: gridPeak(temperatures, heatCapacity),
        elapsedMs: performance.now() - started
    };
}
