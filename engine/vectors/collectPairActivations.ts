// One forward pass per text, every requested layer from that one pass.
//
// Pairs are packed into batches that use two sequences each: the shared prefix is decoded once
// into sequence 2k, shared with sequence 2k+1 (llama_memory_seq_cp, no copy in a unified cache),
// and then both suffixes are decoded, all pairs of the batch together in one llama_decode.
import { TillerError } from "../protocol/TillerError.js";
import type { CapturedLayers, TillerContext } from "../runtime/TillerContext.js";
import type { PairTokens } from "./pairTokens.js";

export interface PairActivations {
    layers: readonly number[];
    nEmbd: number;
    /** layer → one feature row per pair (mean of the read positions' block outputs) */
    positive: Map<number, Float32Array[]>;
    negative: Map<number, Float32Array[]>;
}

export interface CollectOptions {
    signal?: AbortSignal;
    onProgress?(pairsDone: number, pairsTotal: number): void;
}

/** A row of a batch, and which side(s) of which pair read it. */
interface BatchRow {
    pair: number;
    sides: ("positive" | "negative")[];
    read: boolean;
}

interface PendingBatch {
    tokens: number[];
    positions: number[];
    seqIds: number[];
    rows: BatchRow[];
}

function emptyBatch(): PendingBatch {
    return { tokens: [], positions: [], seqIds: [], rows: [] };
}

export async function collectPairActivations(context: TillerContext, pairs: readonly PairTokens[], layers: readonly number[],
    options: CollectOptions = {}): Promise<PairActivations> {
    const { nEmbd, nLayer } = context.model.shape;
    const lastBlock = nLayer - 1;
    // each pair decodes its two sides as two sequences that share the prefix's cells
    if (context.sequences < 2)
        throw new TillerError("INVALID_ARGUMENT", `building a vector needs a context of at least 2 sequences (this one has ${context.sequences})`);
    const sequencesPerBatch = Math.floor(context.sequences / 2);
    const positive = new Map(layers.map((layer) => [layer, [] as Float32Array[]]));
    const negative = new Map(layers.map((layer) => [layer, [] as Float32Array[]]));
    // running sums of read rows per pair/side/layer, turned into means at the end
    const sums = { positive: new Map<number, Float64Array[]>(), negative: new Map<number, Float64Array[]>() };
    for (const layer of layers) {
        sums.positive.set(layer, pairs.map(() => new Float64Array(nEmbd)));
        sums.negative.set(layer, pairs.map(() => new Float64Array(nEmbd)));
    }

    for (const [index, pair] of pairs.entries()) {
        const suffixes = pair.positiveSuffix.length + pair.negativeSuffix.length;
        if (pair.prefix.length > context.batchSize || suffixes > context.batchSize)
            throw new TillerError("PROMPT_TOO_LONG", `pair ${index} needs batches of ${Math.max(pair.prefix.length, suffixes)} tokens ` +
                `(shared prefix ${pair.prefix.length}, both completions ${suffixes}); the context's batch size is ${context.batchSize}`);
        if (pair.prefix.length + suffixes > context.contextSize)
            throw new TillerError("PROMPT_TOO_LONG", `pair ${index} needs ${pair.prefix.length + suffixes} tokens of KV cache; the context holds ${context.contextSize}`);
    }

    await context.setCapture(layers);
    try {
        let start = 0;
        while (start < pairs.length) {
            if (options.signal?.aborted)
                throw new TillerError("ABORTED", "building the vector was cancelled");
            // pack pairs while the prefixes, the suffixes and the KV cache all fit
            let end = start;
            let prefixTokens = 0, suffixTokens = 0;
            while (end < pairs.length && end - start < sequencesPerBatch) {
                const pair = pairs[end]!;
                const nextPrefix = prefixTokens + pair.prefix.length;
                const nextSuffix = suffixTokens + pair.positiveSuffix.length + pair.negativeSuffix.length;
                if (end > start && (nextPrefix > context.batchSize || nextSuffix > context.batchSize || nextPrefix + nextSuffix > context.contextSize))
                    break;
                prefixTokens = nextPrefix;
                suffixTokens = nextSuffix;
                end++;
            }

            await context.clearMemory();
            const prefixBatch = emptyBatch();
            const suffixBatch = emptyBatch();
            for (let pairIndex = start; pairIndex < end; pairIndex++) {
                const pair = pairs[pairIndex]!;
                const seq = 2 * (pairIndex - start);
                for (let position = 0; position < pair.prefix.length; position++) {
                    const sides: BatchRow["sides"] = [];
                    if (pair.positiveRead.includes(position))
                        sides.push("positive");
                    if (pair.negativeRead.includes(position))
                        sides.push("negative");
                    pushRow(prefixBatch, pair.prefix[position]!, position, seq, { pair: pairIndex, sides, read: sides.length > 0 });
                }
                for (const [side, suffix, read, seqId] of [
                    ["positive", pair.positiveSuffix, pair.positiveRead, seq],
                    ["negative", pair.negativeSuffix, pair.negativeRead, seq + 1]
                ] as const) {
                    for (let i = 0; i < suffix.length; i++) {
                        const position = pair.prefix.length + i;
                        const isRead = read.includes(position);
                        pushRow(suffixBatch, suffix[i]!, position, seqId, { pair: pairIndex, sides: isRead ? [side] : [], read: isRead });
                    }
                }
            }

            if (prefixBatch.tokens.length > 0) {
                accumulate(await context.decodeBatch(toNative(prefixBatch)), prefixBatch.rows);
                for (let pairIndex = start; pairIndex < end; pairIndex++) {
                    const pair = pairs[pairIndex]!;
                    if (pair.prefix.length > 0) {
                        const seq = 2 * (pairIndex - start);
                        await context.copySequence(seq, seq + 1, 0, pair.prefix.length);
                    }
                }
            }
            accumulate(await context.decodeBatch(toNative(suffixBatch)), suffixBatch.rows);
            start = end;
            options.onProgress?.(start, pairs.length);
        }
    } finally {
        await context.setCapture([]);
        await context.clearMemory();
    }

    for (const layer of layers) {
        for (const [side, target] of [["positive", positive], ["negative", negative]] as const) {
            const rows = target.get(layer)!;
            for (const [pairIndex, sum] of sums[side].get(layer)!.entries()) {
                const count = side === "positive" ? pairs[pairIndex]!.positiveRead.length : pairs[pairIndex]!.negativeRead.length;
                rows.push(Float32Array.from(sum, (value) => value / count));
            }
        }
    }
    return { layers, nEmbd, positive, negative };

    function accumulate(captured: CapturedLayers, rows: readonly BatchRow[]): void {
        const anyRead = rows.some((row) => row.read);
        for (const layer of layers) {
            const data = captured.get(layer)?.data;
            if (data == null) {
                // with no row asking for logits, llama.cpp skips the last block's rows entirely
                if (anyRead || layer !== lastBlock)
                    throw new TillerError("INTERNAL", `layer ${layer} was not captured`);
                continue;
            }
            // the last block holds only the rows that asked for logits (the read rows), in order
            let outputRow = 0;
            for (const [batchRow, row] of rows.entries()) {
                const dataRow = layer === lastBlock ? (row.read ? outputRow++ : -1) : batchRow;
                if (!row.read)
                    continue;
                const offset = dataRow * nEmbd;
                for (const side of row.sides) {
                    const sum = sums[side].get(layer)![row.pair]!;
                    for (let i = 0; i < nEmbd; i++)
                        sum[i]! += data[offset + i]!;
                }
            }
        }
    }
}

function pushRow(batch: PendingBatch, token: number, position: number, seqId: number, row: BatchRow): void {
    batch.tokens.push(token);
    batch.positions.push(position);
    batch.seqIds.push(seqId);
    batch.rows.push(row);
}

function toNative(batch: PendingBatch) {
    return {
        tokens: Int32Array.from(batch.tokens),
        positions: Int32Array.from(batch.positions),
        seqIds: Int32Array.from(batch.seqIds),
        // only read rows keep logits: that keeps their last-block output (and costs nothing else)
        wantLogits: Uint8Array.from(batch.rows, (row) => (row.read ? 1 : 0))
    };
}
