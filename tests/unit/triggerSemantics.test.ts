// Projection-trigger semantics on a fixed sequence of read-outs (the tracker is pure: it reads the
// captured block outputs it is given): a hold releases and waits for a fresh crossing, "level"
// re-arming re-engages while the value stays high, and thresholds in σ units use the vector's
// calibration.
import { describe, expect, it } from "vitest";
import { PatchSet } from "../../engine/runtime/PatchSet.js";
import type { PatchTrigger } from "../../engine/runtime/SteeringPatch.js";
import type { SteeringVector } from "../../engine/runtime/SteeringVector.js";
import { TriggerTracker } from "../../engine/runtime/TriggerTracker.js";

const dims = { nLayer: 3, nEmbd: 2 };
// direction (3, 4): its unit is (0.6, 0.8), so a residual (x, 0) projects to 0.6·x
const condition: SteeringVector = { name: "cond", nEmbd: 2, directions: new Map([[1, Float32Array.of(3, 4)]]),
    calibration: new Map([[1, { midpoint: 6, sigma: 3 }]]) };

/** Feeds projections (one per token, from the prompt's last token t = −1 on) and returns the events. */
function run(trigger: Omit<Extract<PatchTrigger, { kind: "projection" }>, "kind" | "vector" | "layer">, projections: number[]) {
    const patches = new PatchSet(dims, [{ id: "p", vector: condition, strength: 1, trigger: { kind: "projection", vector: condition, layer: 1, ...trigger } }]);
    const tracker = new TriggerTracker(patches);
    projections.forEach((projection, i) => tracker.observeResiduals(i - 1, new Map([[1, { rows: 1, data: Float32Array.of(projection / 0.6, 0) }]])));
    return tracker.events.map(({ kind, atToken, triggerToken }) => ({ kind, atToken, triggerToken }));
}

describe("projection-trigger holds", () => {
    // high from t = 0 to t = 9, low at t = 10, high again from t = 11
    const values = [0, ...Array.from({ length: 10 }, () => 10), 0, 10, 10, 10];

    it("release after the hold and stay released while the value stays high; a fresh crossing engages again", () => {
        expect(run({ threshold: 5, holdTokens: 3 }, values)).toEqual([
            { kind: "engaged", atToken: 2, triggerToken: 0 },
            { kind: "released", atToken: 5, triggerToken: 0 },
            // t = 10 is low (re-armed), t = 11 crosses afresh
            { kind: "engaged", atToken: 13, triggerToken: 11 },
            { kind: "released", atToken: 16, triggerToken: 11 }
        ]);
    });

    it("with rearm \"level\" re-engage as soon as the hold ends while the value is still high", () => {
        const events = run({ threshold: 5, holdTokens: 3, rearm: "level" }, values);
        expect(events.filter((event) => event.kind === "engaged").map((event) => event.atToken)).toEqual([2, 5, 8, 11, 14]);
    });

    it("a dip during the hold re-arms it, so the value rising again engages right when the hold ends", () => {
        const dipping = [0, 10, 10, 0, 10, 10, 10, 10];
        expect(run({ threshold: 5, holdTokens: 3 }, dipping).filter((event) => event.kind === "engaged").map((event) => event.atToken)).toEqual([2, 5]);
    });

    it("without a hold: engaged while high, released when it falls back, engaged again on the next crossing", () => {
        expect(run({ threshold: 5 }, [0, 10, 10, 0, 0, 10])).toEqual([
            { kind: "engaged", atToken: 2, triggerToken: 0 },
            { kind: "released", atToken: 4, triggerToken: 2 },
            { kind: "engaged", atToken: 6, triggerToken: 4 }
        ]);
    });
});

describe("σ-unit thresholds", () => {
    it("compare (projection − midpoint) / σ with the threshold", () => {
        // midpoint 6, σ 3: a projection of 10 is +1.33σ, 8 is +0.67σ
        expect(run({ threshold: 1, units: "sigma" }, [8, 8, 10])).toEqual([{ kind: "engaged", atToken: 3, triggerToken: 1 }]);
        expect(run({ threshold: 1, units: "raw" }, [8, 8, 10])).toEqual([{ kind: "engaged", atToken: 1, triggerToken: -1 }]);
    });

    it("are refused, naming the problem, for a vector without calibration at the trigger's layer", () => {
        const bare: SteeringVector = { name: "bare", nEmbd: 2, directions: condition.directions };
        expect(() => new PatchSet(dims, [{ id: "p", vector: bare, strength: 1, trigger: { kind: "projection", vector: bare, layer: 1, threshold: 1, units: "sigma" } }]))
            .toThrow(/σ units needs the vector's calibration at layer 1, and the vector has none/);
    });
});
