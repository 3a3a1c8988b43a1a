// The contract's session requests: list, open, rename, delete, replay and export the sessions the
// engine records on disk. Pure TypeScript + zod.
import { z } from "zod";
import type { LayerDiagnosticsInfo, TokenInfo } from "./shapes.js";

/** A session is named by its folder name under the engine's sessions folder: no separators, no "..". */
const sessionIdSchema = z.string().min(1).max(200).regex(/^(?!\.\.?$)[A-Za-z0-9._-]+$/, "a session id is its folder name: letters, digits, '.', '_' and '-'");

export const sessionRequestSchemas = {
    /** sessions, newest first; `search` matches name, id or model file name */
    "sessions.list": z.object({ search: z.string().max(200).optional() }),
    /** a session's records, read from disk: no model needed */
    "sessions.open": z.object({ id: sessionIdSchema }),
    "sessions.rename": z.object({ id: sessionIdSchema, name: z.string().trim().min(1).max(200) }),
    "sessions.delete": z.object({ id: sessionIdSchema }),
    /** re-runs the session's runs (or run `runIndex`) on its model, loading that model when another (or none) is loaded */
    "sessions.replay": z.object({ id: sessionIdSchema, runIndex: z.number().int().min(0).optional(), threads: z.number().int().min(1).max(256).optional() }),
    /** writes CSV, .npy and JSON with a README to `path`: a new folder, or a `.zip` file */
    "sessions.export": z.object({ id: sessionIdSchema, path: z.string().min(1), format: z.enum(["folder", "zip"]) })
} as const;

// ---- results ------------------------------------------------------------------------------------

export interface SessionSummaryInfo {
    id: string;
    name: string;
    createdAt: string;
    /** the model's file name, or null for a session without one */
    model: string | null;
    runs: number;
}

/** A patch as the session recorded it (the vector is kept inside the session by content hash). */
export interface SessionPatchInfo {
    id: string;
    vectorName: string;
    strength: number;
    layers?: { first: number; last: number };
    fromToken?: number;
    untilToken?: number;
}

export interface SessionRunInfo {
    runId: string;
    at: string;
    prompt: string;
    maxTokens: number;
    sampling: { temperature: number; topK: number; topP: number; minP: number; seed: number };
    patches: SessionPatchInfo[];
    /** the read-outs recorded with each token, by probe name (the id the tokens' projections carry) and the vector's own name */
    probes: { name: string; vectorName: string; layers?: number[] }[];
    /** the generated tokens; `position` is not recorded and is -1 */
    tokens: TokenInfo[];
    /** mid-run changes of the patch set, acting from `atToken` */
    changes: { atToken: number; activePatches: string[]; patches: SessionPatchInfo[] }[];
    /** conditional patches engaging and releasing, acting from `atToken` (`triggerToken` caused it) */
    triggers: { patchId: string; kind: "engaged" | "released"; atToken: number; triggerToken: number; value?: number }[];
    /** null when the run was cut short (a crash, a kill) */
    end: { stopReason: string; text: string; tokensPerSecond: number } | null;
}

export interface SessionVectorBuildInfo {
    at: string;
    dataset: string;
    method: string;
    readAt: string;
    bestLayer: number;
    diagnostics: LayerDiagnosticsInfo[];
}

export interface SessionDetailInfo {
    id: string;
    name: string;
    createdAt: string;
    appVersion: string;
    model: { fileName: string; path: string; sizeBytes: number; sha256: string } | null;
    settings: Record<string, unknown>;
    runs: SessionRunInfo[];
    vectorBuilds: SessionVectorBuildInfo[];
    /** every other note, as recorded */
    notes: { at: string; kind: string; data: unknown }[];
    /** lines that could not be read (the last one may be cut by a crash) */
    problems: { line: number; message: string }[];
    /** whether the engine is still recording into this session (it cannot be deleted then) */
    recording: boolean;
}

export interface RunReplayInfo {
    runIndex: number;
    runId: string;
    identical: boolean;
    recordedTokens: number;
    replayedTokens: number;
    firstDivergence: { index: number; recorded: number | null; replayed: number | null } | null;
}

export interface SessionResults {
    "sessions.list": SessionSummaryInfo[];
    "sessions.open": SessionDetailInfo;
    "sessions.rename": SessionSummaryInfo;
    "sessions.delete": null;
    "sessions.replay": { runs: RunReplayInfo[]; identical: boolean; modelPath: string; loadedModel: boolean };
    "sessions.export": { path: string; format: "folder" | "zip"; files: number };
}
