// The contract's run requests and the events a run streams: start a generation with patches and
// probes, change its patches mid-run, stop it. Pure TypeScript + zod.
import { z } from "zod";
import type { TillerErrorPayload } from "./TillerError.js";
import { patchSpecSchema, probeSpecSchema, samplingSchema, type TokenInfo } from "./shapes.js";

export const runStartSchema = z.object({
    prompt: z.string(),
    /** "chat": the prompt is a user message laid out with the model's chat template */
    promptMode: z.enum(["plain", "chat"]).optional(),
    maxTokens: z.number().int().min(1).max(100_000).optional(),
    sampling: samplingSchema.optional(),
    patches: z.array(patchSpecSchema).max(64).optional(),
    probes: z.array(probeSpecSchema).max(64).optional(),
    topAlternatives: z.number().int().min(0).max(50).optional()
});
export type RunStartParams = z.infer<typeof runStartSchema>;

export const runRequestSchemas = {
    "run.start": runStartSchema,
    /** replaces the run's patch set; the change acts from the next token */
    "run.setPatches": z.object({ runId: z.string(), patches: z.array(patchSpecSchema).max(64) }),
    "run.stop": z.object({ runId: z.string() })
} as const;

export type RunStopReason = "eog" | "maxTokens" | "contextFull" | "aborted";

export interface RunResults {
    /** resolves at once with the run's id; tokens arrive as `run.token` events */
    "run.start": { runId: string; promptTokens: { id: number; piece: string }[] };
    "run.setPatches": null;
    "run.stop": null;
}

export interface RunEvents {
    /** emittedAt: the engine's wall clock (ms since the epoch) when the token left it, for latency read-outs */
    "run.token": { runId: string; token: TokenInfo; emittedAt: number };
    /** the active patch set changed; it acts from generated token `atToken` */
    "run.patchChange": { runId: string; atToken: number; activePatches: string[] };
    /** a triggered patch engaged or released, acting from `atToken`; `triggerToken` caused it */
    "run.trigger": { runId: string; patchId: string; kind: "engaged" | "released"; atToken: number; triggerToken: number; value?: number };
    "run.end": { runId: string; stopReason: RunStopReason; text: string; tokensPerSecond: number; error?: TillerErrorPayload };
}
