// The records of a probe session. A session is a folder:
//   session.json   what the session is: name, model (file name, size, sha256), settings, app version
//   events.jsonl   append-only, one JSON record per line (written and flushed one at a time, so a
//                  crash loses at most the line being written)
//   vectors/       every steering vector a run used, as llama.cpp control-vector GGUF, by content hash
//   runs/<id>/     arrays as .npy (projections), written when a run ends
import { z } from "zod";
import { tokenReadoutsSchema } from "../protocol/thermoReadouts.js";

export const sessionFormatVersion = 1;

export const sessionInfoSchema = z.object({
    format: z.literal(sessionFormatVersion),
    id: z.string(),
    name: z.string(),
    createdAt: z.string(),
    appVersion: z.string(),
    model: z.object({ fileName: z.string(), path: z.string(), sizeBytes: z.number(), sha256: z.string() }).nullable(),
    settings: z.record(z.string(), z.unknown())
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

/** A patch as recorded: the vector by content hash (vectors/<hash>.gguf). */
/** A conditional patch's trigger; projection triggers name their condition vector by content hash. */
export const recordedTriggerSchema = z.discriminatedUnion("kind", [
    z.object({
        kind: z.literal("projection"), vector: z.string(), vectorName: z.string(), layer: z.number(), threshold: z.number(),
        when: z.enum(["above", "below"]).optional(), holdTokens: z.number().optional(), hysteresis: z.number().optional(), window: z.number().optional(),
        units: z.enum(["raw", "sigma"]).optional(), rearm: z.enum(["crossing", "level"]).optional()
    }),
    z.object({ kind: z.literal("text"), match: z.string(), regex: z.boolean().optional(), holdTokens: z.number().optional() })
]);
export type RecordedTrigger = z.infer<typeof recordedTriggerSchema>;

export const recordedPatchSchema = z.object({
    id: z.string(),
    vector: z.string(),
    vectorName: z.string(),
    strength: z.number(),
    layers: z.object({ first: z.number(), last: z.number() }).optional(),
    fromToken: z.number().optional(),
    untilToken: z.number().optional(),
    /** absent in sessions written before conditional patches were recorded */
    trigger: recordedTriggerSchema.optional()
});
export type RecordedPatch = z.infer<typeof recordedPatchSchema>;

export const recordedProbeSchema = z.object({ name: z.string(), vector: z.string(), layers: z.array(z.number()).optional() });

const runStart = z.object({
    type: z.literal("run.start"),
    runId: z.string(),
    at: z.string(),
    prompt: z.string(),
    maxTokens: z.number(),
    sampling: z.object({ temperature: z.number(), topK: z.number(), topP: z.number(), minP: z.number(), seed: z.number() }),
    topAlternatives: z.number(),
    patches: z.array(recordedPatchSchema),
    probes: z.array(recordedProbeSchema),
    contextSize: z.number(),
    threads: z.number()
});

const token = z.object({
    type: z.literal("token"),
    runId: z.string(),
    index: z.number(),
    id: z.number(),
    piece: z.string(),
    logprob: z.number(),
    entropy: z.number(),
    top: z.array(z.object({ id: z.number(), piece: z.string(), logprob: z.number() })),
    activePatches: z.array(z.string()),
    projections: z.array(z.object({ probe: z.string(), layer: z.number(), dot: z.number(), cosine: z.number(), sigma: z.number().optional() })),
    /** absent in sessions recorded before the read-outs existed */
    readouts: tokenReadoutsSchema.optional()
});

const patchChange = z.object({
    type: z.literal("patch.change"),
    runId: z.string(),
    atToken: z.number(),
    activePatches: z.array(z.string()),
    patches: z.array(recordedPatchSchema)
});

/** A conditional patch engaged or released (TriggerTracker's event), acting from `atToken`. */
const trigger = z.object({
    type: z.literal("trigger"),
    runId: z.string(),
    patchId: z.string(),
    kind: z.enum(["engaged", "released"]),
    atToken: z.number(),
    triggerToken: z.number(),
    value: z.number().optional()
});

const runEnd = z.object({
    type: z.literal("run.end"),
    runId: z.string(),
    at: z.string(),
    stopReason: z.string(),
    text: z.string(),
    tokensPerSecond: z.number(),
    arrays: z.array(z.string())
});

const note = z.object({ type: z.literal("note"), at: z.string(), kind: z.string(), data: z.unknown() });

export const sessionRecordSchema = z.discriminatedUnion("type", [runStart, token, patchChange, trigger, runEnd, note]);
export type SessionRecord = z.infer<typeof sessionRecordSchema>;
export type RunStartRecord = z.infer<typeof runStart>;
export type TokenRecord = z.infer<typeof token>;
export type PatchChangeRecordLine = z.infer<typeof patchChange>;
export type RunEndRecord = z.infer<typeof runEnd>;
export type TriggerRecord = z.infer<typeof trigger>;
