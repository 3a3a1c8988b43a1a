/**
 * Partial top-k selection: writes the k largest logits (and their token ids) into the output
 * buffers and returns how many were written. Runs in O(nVocab · log k) with a bounded min-heap
 * whose root is the weakest kept entry, so almost every token costs one comparison against the
 * root; the full vocabulary is never sorted and nothing is allocated.
 *
 * Ordering is (logit descending, id ascending): on ties the lower id wins, matching greedy
 * decoding, so top-k = 1 always agrees with argmax.
 *
 * The outputs are in heap order, not sorted; callers that need an order sort the (small) result.
 * -Infinity (masked) and NaN entries are skipped, so fewer than k entries may come back.
 */
export function selectTopLogits(
    logits: Float32Array,
    k: number,
    outIds: Int32Array,
    outValues: Float64Array
): number {
    const limit = Math.min(k, logits.length);
    if (outIds.length < limit || outValues.length < limit) {
        throw new RangeError(`selectTopLogits: output buffers hold fewer than ${limit} entries`);
    }
    if (limit <= 0) {
        return 0;
    }

    let count = 0;
    const n = logits.length;
    for (let i = 0; i < n; i++) {
        const v = logits[i]!;
        // Also false for NaN, which is how NaN gets skipped.
        if (!(v > -Infinity)) {
            continue;
        }
        if (count < limit) {
            siftUp(outIds, outValues, count, i, v);
            count++;
        } else if (v > outValues[0]!) {
            // Ids arrive in ascending order, so an equal value never beats the root: the earlier,
            // lower id is already kept. Hence the strict comparison is the full tie rule here.
            siftDown(outIds, outValues, count, i, v);
        }
    }
    return count;
}

/** True when (va, ia) ranks below (vb, ib): smaller logit, or same logit and higher id. */
function weaker(va: number, ia: number, vb: number, ib: number): boolean {
    return va < vb || (va === vb && ia > ib);
}

function siftUp(ids: Int32Array, values: Float64Array, index: number, id: number, value: number): void {
    let child = index;
    while (child > 0) {
        const parent = (child - 1) >> 1;
        const parentValue = values[parent]!;
        const parentId = ids[parent]!;
        if (!weaker(value, id, parentValue, parentId)) {
            break;
        }
        values[child] = parentValue;
        ids[child] = parentId;
        child = parent;
    }
    values[child] = value;
    ids[child] = id;
}

/** Replaces the root with (id, value) and restores the heap property. */
function siftDown(ids: Int32Array, values: Float64Array, size: number, id: number, value: number): void {
    let parent = 0;
    for (;;) {
        let child = 2 * parent + 1;
        if (child >= size) {
            break;
        }
        const right = child + 1;
        if (right < size && weaker(values[right]!, ids[right]!, values[child]!, ids[child]!)) {
            child = right;
        }
        if (!weaker(values[child]!, ids[child]!, value, id)) {
            break;
        }
        values[parent] = values[child]!;
        ids[parent] = ids[child]!;
        parent = child;
    }
    values[parent] = value;
    ids[parent] = id;
}
