import { InvalidLogitsError } from "./InvalidLogitsError.js";

/**
 * Index of the largest logit, lowest id on ties (a strict `>` keeps the first maximum), so greedy
 * decoding is deterministic even when a model produces exactly equal logits.
 *
 * It doubles as the validation pass for the whole sampling module: one cheap O(nVocab) scan that
 * rejects NaN, +Infinity and all-masked vectors before anything downstream divides by them.
 * -Infinity entries are legal and mean "this token is masked".
 */
export function argmaxLogit(logits: Float32Array): number {
    const n = logits.length;
    if (n === 0) {
        throw new InvalidLogitsError("logits are empty");
    }
    let best = -1;
    let bestValue = -Infinity;
    for (let i = 0; i < n; i++) {
        const v = logits[i]!;
        if (v > bestValue) {
            if (v === Infinity) {
                throw new InvalidLogitsError(`logit of token ${i} is +Infinity`);
            }
            best = i;
            bestValue = v;
        } else if (v !== v) {
            throw new InvalidLogitsError(`logit of token ${i} is NaN`);
        }
    }
    if (best < 0) {
        throw new InvalidLogitsError("every logit is -Infinity; no token can be produced");
    }
    return best;
}
