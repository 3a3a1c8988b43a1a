// The run view's trigger marks when a run ends: an engagement that acts from a token after the
// last one shown moves onto the last token (flagged), a release planned after the end is dropped,
// and marks within the run stay where they are.
import { describe, expect, it } from "vitest";
import { foldMarksAfterLastToken, type TriggerMark } from "../../renderer/src/state/triggerMarks.js";

const mark = (kind: TriggerMark["kind"], atToken: number, patchId = "p"): TriggerMark => ({ patchId, label: patchId, kind, atToken, triggerToken: atToken - 1 });

describe("foldMarksAfterLastToken", () => {
    it("moves an engagement after the last token onto it, flagged, and drops a release planned after the end", () => {
        const triggers = { 3: [mark("engaged", 3)], 9: [mark("released", 9)], 12: [mark("engaged", 12, "q"), mark("released", 20, "q")] };
        const folded = foldMarksAfterLastToken(triggers, 10)!;
        expect(Object.keys(folded).map(Number)).toEqual([3, 9, 10]);
        expect(folded[3]).toEqual([mark("engaged", 3)]);
        expect(folded[10]).toEqual([{ ...mark("engaged", 12, "q"), afterLastToken: true }]);
        expect(triggers[12]).toHaveLength(2); // the input is left as it was
    });

    it("adds to marks already on the last token, and returns null when nothing lies after it", () => {
        const folded = foldMarksAfterLastToken({ 5: [mark("engaged", 5)], 6: [mark("engaged", 6, "q")] }, 5)!;
        expect(folded[5]!.map((m) => [m.patchId, m.afterLastToken])).toEqual([["p", undefined], ["q", true]]);
        expect(foldMarksAfterLastToken({ 2: [mark("engaged", 2)] }, 5)).toBeNull();
        expect(foldMarksAfterLastToken({ 8: [mark("released", 8)] }, 5)).toEqual({});
    });
});
