// The engagement state of a run's triggered patches: intervals of generated tokens during which
// each is engaged, extended as the run reads projections and text. See PatchTrigger for timing.
import type { CapturedLayers } from "./TillerContext.js";
import type { PatchSet } from "./PatchSet.js";
import type { PatchTrigger } from "./SteeringPatch.js";
import { vectorNorm } from "./SteeringVector.js";
import { toSigmaUnits } from "./vectorCalibration.js";

export interface TriggerEvent {
    patchId: string;
    kind: "engaged" | "released";
    /** the first generated token whose distribution the change affects */
    atToken: number;
    /** the generated token whose projection or text caused it (−1: the last prompt token) */
    triggerToken: number;
    /** the projection that crossed the threshold (projection triggers), in the trigger's units (raw or σ) */
    value?: number;
}

interface Interval {
    from: number;
    until: number; // exclusive; Infinity while open
}

export class TriggerTracker {
    private readonly intervals = new Map<string, Interval[]>();
    private readonly units = new Map<string, { vector: unknown; layer: number; unit: Float32Array }>();
    /** recent projections per projection-triggered patch, for windowed triggers */
    private readonly history = new Map<string, number[]>();
    /** projection-triggered patches that must see the value back on the quiet side before they may engage again */
    private readonly disarmed = new Set<string>();
    public readonly events: TriggerEvent[] = [];

    public constructor(private readonly patches: PatchSet, private readonly onEvent?: (event: TriggerEvent) => void) {}

    public readonly isEngaged = (patchId: string, token: number): boolean =>
        (this.intervals.get(patchId) ?? []).some((interval) => token >= interval.from && token < interval.until);

    /** blocks whose output the projection triggers need */
    public layers(): number[] {
        return [...new Set(this.patches.list().flatMap((patch) => (patch.trigger?.kind === "projection" ? [patch.trigger.layer] : [])))];
    }

    private open(patchId: string, token: number): Interval | undefined {
        return (this.intervals.get(patchId) ?? []).find((interval) => interval.until === Infinity || token < interval.until);
    }

    private engage(patchId: string, trigger: PatchTrigger, atToken: number, triggerToken: number, value?: number): void {
        const until = trigger.holdTokens != null ? atToken + trigger.holdTokens : Infinity;
        this.intervals.set(patchId, [...(this.intervals.get(patchId) ?? []), { from: atToken, until }]);
        this.record({ patchId, kind: "engaged", atToken, triggerToken, value });
        if (until !== Infinity)
            this.record({ patchId, kind: "released", atToken: until, triggerToken, value });
    }

    private record(event: TriggerEvent): void {
        this.events.push(event);
        this.onEvent?.(event);
    }

    private unitFor(patchId: string, trigger: Extract<PatchTrigger, { kind: "projection" }>): Float32Array {
        const cached = this.units.get(patchId);
        if (cached != null && cached.vector === trigger.vector && cached.layer === trigger.layer)
            return cached.unit;
        const direction = trigger.vector.directions.get(trigger.layer)!;
        const norm = vectorNorm(direction) || 1;
        const unit = direction.map((value) => value / norm);
        this.units.set(patchId, { vector: trigger.vector, layer: trigger.layer, unit });
        return unit;
    }

    /** After the decode of generated token `token` (−1: the prompt): read projection triggers. */
    public observeResiduals(token: number, captured: CapturedLayers): void {
        if (this.patches.size === 0)
            return;
        const atToken = token + 2;
        for (const patch of this.patches.list()) {
            const trigger = patch.trigger;
            if (trigger?.kind !== "projection")
                continue;
            const layer = captured.get(trigger.layer);
            if (layer == null || layer.rows === 0)
                continue;
            const unit = this.unitFor(patch.id, trigger);
            const offset = (layer.rows - 1) * unit.length; // the last row: this token's own position
            let projection = 0;
            for (let i = 0; i < unit.length; i++)
                projection += layer.data[offset + i]! * unit[i]!;
            const recent = [...(this.history.get(patch.id) ?? []), projection].slice(-(trigger.window ?? 1));
            this.history.set(patch.id, recent);
            if (recent.length < (trigger.window ?? 1))
                continue; // not enough tokens yet for the window
            const mean = recent.reduce((sum, entry) => sum + entry, 0) / recent.length;
            const value = trigger.units === "sigma" ? toSigmaUnits(mean, trigger.vector.calibration!.get(trigger.layer)!) : mean;
            const above = (trigger.when ?? "above") === "above";
            const crossed = above ? value > trigger.threshold : value < trigger.threshold;
            if (!crossed)
                this.disarmed.delete(patch.id); // back on the quiet side: the next crossing is a fresh one
            const current = this.open(patch.id, atToken);
            if (current == null) {
                if (crossed && !this.disarmed.has(patch.id)) {
                    this.engage(patch.id, trigger, atToken, token, value);
                    // a hold releases on its own; unless told to re-engage on the level, it waits for a new crossing
                    if (trigger.holdTokens != null && (trigger.rearm ?? "crossing") === "crossing")
                        this.disarmed.add(patch.id);
                }
            } else if (trigger.holdTokens == null) {
                const hysteresis = trigger.hysteresis ?? 0;
                const back = above ? value < trigger.threshold - hysteresis : value > trigger.threshold + hysteresis;
                if (back) {
                    current.until = atToken;
                    this.record({ patchId: patch.id, kind: "released", atToken, triggerToken: token, value });
                }
            }
        }
    }

    /** After generated token `token` was sampled: read text triggers against the text so far. */
    public observeText(token: number, textSoFar: string): void {
        if (this.patches.size === 0)
            return;
        const atToken = token + 1;
        for (const patch of this.patches.list()) {
            const trigger = patch.trigger;
            if (trigger?.kind !== "text" || this.open(patch.id, atToken) != null)
                continue;
            const matched = trigger.regex === true ? new RegExp(trigger.match).test(textSoFar) : textSoFar.includes(trigger.match);
            // a hold that ran out re-arms only on a new occurrence: count matches, engage on a new one
            const previous = (this.intervals.get(patch.id) ?? []).length;
            const occurrences = trigger.regex === true ? (textSoFar.match(new RegExp(trigger.match, "g")) ?? []).length : textSoFar.split(trigger.match).length - 1;
            if (matched && occurrences > previous)
                this.engage(patch.id, trigger, atToken, token);
        }
    }
}
