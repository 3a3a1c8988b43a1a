// Trigger marks are keyed by the first token a change acts on. A trigger that engages on a run's
// last step acts from a token the run never showed — the run stopped there, at its token limit or
// because the token sampled under the patch ended the text — so its mark had no token to sit on.
// When the run ends, such engagements move onto its last token, flagged. (A release planned after
// the end is not shown: the hold had not run out when the run stopped.)

/** A conditional patch engaged or released, acting from `atToken` (see the engine's PatchTrigger). */
export interface TriggerMark {
    patchId: string;
    label: string;
    kind: "engaged" | "released";
    atToken: number;
    /** the token whose projection or text fired it */
    triggerToken: number;
    value?: number;
    /** acts from a token after the run's last one (the run ended there); shown on the last token */
    afterLastToken?: boolean;
}

/**
 * `triggers` with every engagement keyed after `lastIndex` moved onto `lastIndex` (flagged
 * afterLastToken) and later releases dropped; null when there is nothing after `lastIndex`.
 */
export function foldMarksAfterLastToken(triggers: Readonly<Record<number, TriggerMark[]>>, lastIndex: number): Record<number, TriggerMark[]> | null {
    const late = Object.keys(triggers).map(Number).filter((at) => at > lastIndex).sort((a, b) => a - b);
    if (late.length === 0)
        return null;
    const folded: Record<number, TriggerMark[]> = { ...triggers };
    const moved = late.flatMap((at) => folded[at]!.filter((mark) => mark.kind === "engaged").map((mark) => ({ ...mark, afterLastToken: true })));
    for (const at of late)
        delete folded[at];
    if (moved.length > 0)
        folded[lastIndex] = [...(folded[lastIndex] ?? []), ...moved];
    return folded;
}
