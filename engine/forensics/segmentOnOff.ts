// Two-state (off/on) segmentation of a run of per-token evidence: the on/off path that maximises
// Σ_{on} llr_k − penalty·(switches), starting off. One switch on is a change point (a patch from
// token k on: the GLRT over onsets, i.e. the maximum of CUSUM's suffix sums); more switches are a
// conditional patch engaging and releasing. Exact, by dynamic programming (Viterbi), O(n).
import type { TokenInterval } from "../protocol/forensics.js";

/** nats a switch costs; a lone token must carry this much evidence to open an interval of its own */
export const DEFAULT_SWITCH_PENALTY = 3;

export interface Segmentation {
    /** Σ_{on} llr − penalty·switches (≥ 0: all off scores 0) */
    score: number;
    intervals: TokenInterval[];
}

/** Score only (no path): the inner loop of the null simulation. */
export function segmentationScore(llr: ArrayLike<number>, penalty = DEFAULT_SWITCH_PENALTY): number {
    let off = 0;
    let on = -Infinity;
    for (let k = 0; k < llr.length; k++) {
        const nextOn = Math.max(on, off - penalty) + llr[k]!;
        const nextOff = Math.max(off, on - penalty);
        on = nextOn;
        off = nextOff;
    }
    return Math.max(off, on);
}

export function segmentOnOff(llr: ArrayLike<number>, penalty = DEFAULT_SWITCH_PENALTY): Segmentation {
    const n = llr.length;
    // fromOff[k] / fromOn[k]: whether the best path into state (k, on|off) came from off (1) or on (0)
    const onCameFromOff = new Uint8Array(n);
    const offCameFromOn = new Uint8Array(n);
    let off = 0;
    let on = -Infinity;
    for (let k = 0; k < n; k++) {
        const stayOn = on, switchOn = off - penalty;
        const nextOn = Math.max(stayOn, switchOn) + llr[k]!;
        onCameFromOff[k] = switchOn > stayOn ? 1 : 0;
        const stayOff = off, switchOff = on - penalty;
        offCameFromOn[k] = switchOff > stayOff ? 1 : 0;
        on = nextOn;
        off = Math.max(stayOff, switchOff);
    }
    const engaged = new Uint8Array(n);
    let state: "on" | "off" = on > off ? "on" : "off";
    for (let k = n - 1; k >= 0; k--) {
        if (state === "on") {
            engaged[k] = 1;
            if (onCameFromOff[k] === 1)
                state = "off";
        } else if (offCameFromOn[k] === 1)
            state = "on";
    }
    return { score: Math.max(off, on), intervals: intervalsOf(engaged) };
}

/** Maximal runs of 1s as [from, until). */
export function intervalsOf(engaged: ArrayLike<number>): TokenInterval[] {
    const intervals: TokenInterval[] = [];
    for (let k = 0; k < engaged.length; k++) {
        if (engaged[k] !== 1)
            continue;
        const from = k;
        while (k < engaged.length && engaged[k] === 1)
            k++;
        intervals.push({ from, until: k });
    }
    return intervals;
}

/** 1 on every token inside an interval. */
export function maskOf(intervals: readonly TokenInterval[], n: number): Uint8Array {
    const mask = new Uint8Array(n);
    for (const { from, until } of intervals)
        mask.fill(1, Math.max(0, from), Math.min(n, until));
    return mask;
}
