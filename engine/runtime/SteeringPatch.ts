// A steering patch is plain, serialisable data: h_l(t) ← h_l(t) + strength · v_l for blocks l in
// `layers` and generated tokens t in [fromToken, untilToken). Several patches sum per layer.
import { TillerError } from "../protocol/TillerError.js";
import { assertSteerableRange, controlVectorBufferLength, controlVectorChunkOffset, type LayerRange } from "./layers.js";
import { assertVectorFitsModel, type SteeringVector } from "./SteeringVector.js";
import { requireCalibration } from "./vectorCalibration.js";

/**
 * A condition that switches a patch on while a run goes (the patch's token window still applies).
 *
 *  projection  fires when ⟨h_layer(t), v̂⟩ of generated token t crosses `threshold` (`when`
 *              "above": rises above it; "below": falls under it). A token's residual is known once
 *              it has been decoded, and that decode already produced the next token's logits, so
 *              the patch acts from token t+2. It releases after `holdTokens` tokens, or (without
 *              holdTokens) once the projection is back past threshold ∓ hysteresis (also from t+2).
 *              A hold that ran out re-engages only after a fresh crossing (see `rearm`).
 *              The last prompt token counts as t = −1.
 *  text        fires when the generated text so far contains `match` (a regular expression when
 *              `regex`); it is known as soon as token t is sampled, so the patch acts from t+1,
 *              for `holdTokens` tokens or to the end.
 * A patch whose layers lie at or below the trigger layer feeds back into its own condition.
 */
export type PatchTrigger =
    | {
        kind: "projection"; vector: SteeringVector; layer: number; threshold: number; when?: "above" | "below"; holdTokens?: number; hysteresis?: number;
        /** compare the mean over the last `window` tokens (default 1: the token alone); per-token projections are noisy */
        window?: number;
        /**
         * "raw" (default): threshold and hysteresis are in units of ⟨h, v̂⟩. "sigma": in σ units of the
         * vector's calibration at `layer` ((⟨h, v̂⟩ − midpoint) / σ; 0 is halfway between its training
         * classes), so a threshold means the same for every vector; needs a calibrated vector.
         */
        units?: "raw" | "sigma";
        /**
         * After a hold (`holdTokens`) runs out: "crossing" (default) re-engages only on a fresh crossing —
         * the value must first be seen back on the quiet side of the threshold; "level" re-engages at
         * once while the value is still past it (a held patch then never lets go while the condition holds).
         */
        rearm?: "crossing" | "level";
    }
    | { kind: "text"; match: string; regex?: boolean; holdTokens?: number };

export interface SteeringPatch {
    /** unique within a run; changes and removals refer to it */
    id: string;
    vector: SteeringVector;
    /** α; must be finite */
    strength: number;
    /** inclusive, llama.cpp numbering; default: every steerable layer the vector has */
    layers?: LayerRange;
    /**
     * First generated token whose distribution is steered (default 0). 0 steers from the prompt on,
     * like llama.cpp's --control-vector; K > 0 leaves tokens 0..K-1 exactly as unsteered.
     */
    fromToken?: number;
    /** first generated token no longer steered (exclusive end); default: never off */
    untilToken?: number;
    /** when set, the patch acts only while its trigger has it engaged */
    trigger?: PatchTrigger;
}

/** Says whether a triggered patch is engaged at a token; untriggered patches ignore it. */
export type EngagementQuery = (patchId: string, token: number) => boolean;

export interface ModelDims {
    nLayer: number;
    nEmbd: number;
}

/** Validates a patch against a model; throws TillerError naming the field. */
export function validatePatch(patch: SteeringPatch, dims: ModelDims): void {
    if (!Number.isFinite(patch.strength))
        throw new TillerError("INVALID_ARGUMENT", `patch "${patch.id}": strength must be a finite number, got ${patch.strength}`);
    assertVectorFitsModel(patch.vector, dims);
    if (patch.layers != null)
        assertSteerableRange(patch.layers, dims.nLayer);
    const from = patch.fromToken ?? 0;
    if (!Number.isInteger(from) || from < 0)
        throw new TillerError("INVALID_ARGUMENT", `patch "${patch.id}": fromToken must be a whole number ≥ 0, got ${from}`);
    if (patch.untilToken != null && (!Number.isInteger(patch.untilToken) || patch.untilToken <= from))
        throw new TillerError("INVALID_ARGUMENT",
            `patch "${patch.id}": untilToken must be a whole number after fromToken (${from}), got ${patch.untilToken}`);
    if (patch.trigger != null)
        validateTrigger(patch.id, patch.trigger, dims);
}

function validateTrigger(id: string, trigger: PatchTrigger, dims: ModelDims): void {
    if (trigger.holdTokens != null && (!Number.isInteger(trigger.holdTokens) || trigger.holdTokens < 1))
        throw new TillerError("INVALID_ARGUMENT", `patch "${id}": trigger holdTokens must be a whole number ≥ 1, got ${trigger.holdTokens}`);
    if (trigger.kind === "text") {
        if (trigger.match.length === 0)
            throw new TillerError("INVALID_ARGUMENT", `patch "${id}": a text trigger needs something to match`);
        if (trigger.regex === true) {
            try {
                new RegExp(trigger.match);
            } catch (error) {
                throw new TillerError("INVALID_ARGUMENT", `patch "${id}": the trigger's regular expression is invalid: ${(error as Error).message}`);
            }
        }
        return;
    }
    if (trigger.window != null && (!Number.isInteger(trigger.window) || trigger.window < 1))
        throw new TillerError("INVALID_ARGUMENT", `patch "${id}": trigger window must be a whole number ≥ 1, got ${trigger.window}`);
    if (!Number.isFinite(trigger.threshold) || (trigger.hysteresis != null && !(trigger.hysteresis >= 0)))
        throw new TillerError("INVALID_ARGUMENT", `patch "${id}": the trigger's threshold must be finite and its hysteresis ≥ 0`);
    if (trigger.units != null && trigger.units !== "raw" && trigger.units !== "sigma")
        throw new TillerError("INVALID_ARGUMENT", `patch "${id}": trigger units must be "raw" or "sigma", got ${String(trigger.units)}`);
    if (trigger.rearm != null && trigger.rearm !== "crossing" && trigger.rearm !== "level")
        throw new TillerError("INVALID_ARGUMENT", `patch "${id}": trigger rearm must be "crossing" or "level", got ${String(trigger.rearm)}`);
    if (trigger.units === "sigma")
        requireCalibration(trigger.vector.calibration, trigger.layer, `patch "${id}"`);
    if (!Number.isInteger(trigger.layer) || trigger.layer < 0 || trigger.layer > dims.nLayer - 1)
        throw new TillerError("INVALID_LAYER_RANGE", `patch "${id}": trigger layer ${trigger.layer} is outside the model's layers 0-${dims.nLayer - 1}`);
    if (trigger.vector.nEmbd !== dims.nEmbd || trigger.vector.directions.get(trigger.layer)?.length !== dims.nEmbd)
        throw new TillerError("VECTOR_MISMATCH", `patch "${id}": the trigger vector "${trigger.vector.name}" has no direction of width ${dims.nEmbd} at layer ${trigger.layer}`);
}

export function isPatchActiveAt(patch: SteeringPatch, token: number, engaged?: EngagementQuery): boolean {
    if (token < (patch.fromToken ?? 0) || (patch.untilToken != null && token >= patch.untilToken))
        return false;
    return patch.trigger == null || (engaged?.(patch.id, token) ?? false);
}

/** The control vector llama.cpp should apply: the full buffer plus the range of blocks it touches. */
export interface ComposedControlVector {
    data: Float32Array;
    firstLayer: number;
    lastLayer: number;
}

/**
 * Sums the patches active at `token` into llama_set_adapter_cvec's buffer. Returns null when no
 * patch contributes, so the caller clears steering and the graph is exactly the unsteered one.
 */
export function composeControlVector(patches: Iterable<SteeringPatch>, token: number, dims: ModelDims, engaged?: EngagementQuery): ComposedControlVector | null {
    let data: Float32Array | undefined;
    let firstLayer = Infinity;
    let lastLayer = -Infinity;
    for (const patch of patches) {
        if (!isPatchActiveAt(patch, token, engaged) || patch.strength === 0)
            continue;
        const first = patch.layers?.first ?? 1;
        const last = patch.layers?.last ?? dims.nLayer - 1;
        for (let layer = first; layer <= last; layer++) {
            const direction = patch.vector.directions.get(layer);
            if (direction == null)
                continue;
            data ??= new Float32Array(controlVectorBufferLength(dims.nLayer, dims.nEmbd));
            const offset = controlVectorChunkOffset(layer, dims.nEmbd);
            for (let i = 0; i < dims.nEmbd; i++)
                data[offset + i]! += patch.strength * direction[i]!;
            firstLayer = Math.min(firstLayer, layer);
            lastLayer = Math.max(lastLayer, layer);
        }
    }
    return data == null ? null : { data, firstLayer, lastLayer };
}
