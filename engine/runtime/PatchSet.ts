// The patches of one run. The run reads it before every decode, so a change made while the run is
// in progress takes effect at the next token.
import { TillerError } from "../protocol/TillerError.js";
import {
    composeControlVector, isPatchActiveAt, validatePatch, type ComposedControlVector, type EngagementQuery, type ModelDims, type SteeringPatch
} from "./SteeringPatch.js";

export class PatchSet {
    private readonly patches = new Map<string, SteeringPatch>();
    private revisionCounter = 0;
    /** the run's trigger state; without one, triggered patches never act */
    public engagement: EngagementQuery | undefined;

    public constructor(private readonly dims: ModelDims, initial: Iterable<SteeringPatch> = []) {
        for (const patch of initial) {
            if (this.patches.has(patch.id))
                throw new TillerError("INVALID_ARGUMENT", `two patches have the id "${patch.id}"`);
            this.set(patch);
        }
    }

    /** bumped by every change; lets the run skip recomposing when nothing changed */
    public get revision(): number {
        return this.revisionCounter;
    }

    /** Adds a patch, or replaces the one with the same id (e.g. a new strength). */
    public set(patch: SteeringPatch): void {
        validatePatch(patch, this.dims);
        this.patches.set(patch.id, { ...patch });
        this.revisionCounter++;
    }

    /** Changes some fields of an existing patch. */
    public update(id: string, changes: Partial<Omit<SteeringPatch, "id">>): void {
        const existing = this.patches.get(id);
        if (existing == null)
            throw new TillerError("INVALID_ARGUMENT", `there is no patch "${id}"`);
        this.set({ ...existing, ...changes, id });
    }

    /** Replaces every patch at once (all validated first, so a bad one changes nothing). */
    public replaceAll(patches: readonly SteeringPatch[]): void {
        const ids = new Set<string>();
        for (const patch of patches) {
            validatePatch(patch, this.dims);
            if (ids.has(patch.id))
                throw new TillerError("INVALID_ARGUMENT", `two patches have the id "${patch.id}"`);
            ids.add(patch.id);
        }
        this.patches.clear();
        for (const patch of patches)
            this.patches.set(patch.id, { ...patch });
        this.revisionCounter++;
    }

    public remove(id: string): boolean {
        const removed = this.patches.delete(id);
        if (removed)
            this.revisionCounter++;
        return removed;
    }

    public clear(): void {
        if (this.patches.size > 0)
            this.revisionCounter++;
        this.patches.clear();
    }

    public get(id: string): SteeringPatch | undefined {
        return this.patches.get(id);
    }

    /** how many patches the set holds */
    public get size(): number {
        return this.patches.size;
    }

    public list(): SteeringPatch[] {
        return [...this.patches.values()];
    }

    /** ids of the patches that act on generated token `token` */
    public activeAt(token: number): string[] {
        return this.list().filter((patch) => isPatchActiveAt(patch, token, this.engagement) && patch.strength !== 0).map((patch) => patch.id);
    }

    public composeAt(token: number): ComposedControlVector | null {
        return composeControlVector(this.patches.values(), token, this.dims, this.engagement);
    }
}
