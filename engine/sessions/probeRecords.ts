// The session records of the engine's analyses: a note in events.jsonl with an analysis's settings
// and summary, and its arrays as .npy files under probes/<kind>/<id>/ that the note names. This file
// is the one place that decides what those records hold (the engine service only hands results over).
import fs from "node:fs";
import path from "node:path";
import { writeNpyFile } from "../io/npy.js";
import type { ProbesDetectResult, ProbesSweepResult } from "../protocol/probes.js";
import type { ForensicsDetectResult } from "../protocol/forensics.js";
import type { LayerDiagnosticsInfo } from "../protocol/shapes.js";
import type { SessionWriter } from "./SessionWriter.js";

/** The `kind` of each analysis note. */
export const noteKinds = {
    sweep: "probes.sweep",
    detection: "probes.detect",
    forensics: "forensics.detect",
    vectorBuild: "vector.build"
} as const;

/** A folder of its own for one analysis's arrays, and the session-relative names the note records. */
function analysisFolder(session: SessionWriter, kind: "sweeps" | "detections" | "forensics", id: string): { folder: string; relative: (name: string) => string } {
    const folder = path.join(session.folder, "probes", kind, id);
    fs.mkdirSync(folder, { recursive: true });
    return { folder, relative: (name) => `probes/${kind}/${id}/${name}` };
}

function appendNote(session: SessionWriter, kind: string, data: unknown): void {
    session.append({ type: "note", at: new Date().toISOString(), kind, data });
}

/** A sweep: settings and summary in the note; the curves and χ_{t,l} as .npy beside it. */
export async function recordSweep(session: SessionWriter, result: ProbesSweepResult, runId: string | undefined): Promise<void> {
    const { folder, relative } = analysisFolder(session, "sweeps", result.sweepId);
    const count = result.tokens.length;
    const arrays = [relative("logprobs.npy"), relative("chi.npy")];
    await writeNpyFile(path.join(folder, "logprobs.npy"), Float64Array.from(result.tokens.flatMap((token) => token.logprobs)), [count, result.alphas.length]);
    await writeNpyFile(path.join(folder, "chi.npy"), Float64Array.from(result.tokens.flatMap((token) => [token.chi, token.chiError, token.curvature, token.entropyResponse,
        token.fisher ?? Number.NaN, token.fdtGap ?? Number.NaN, token.fdtGapError ?? Number.NaN])), [count, 7]);
    const perLayer = result.tokens[0]?.chiPerLayer;
    if (perLayer != null) {
        await writeNpyFile(path.join(folder, "chi_per_layer.npy"), Float64Array.from(result.tokens.flatMap((token) => token.chiPerLayer ?? [])), [count, perLayer.length]);
        await writeNpyFile(path.join(folder, "chi_per_layer_error.npy"), Float64Array.from(result.tokens.flatMap((token) => token.chiPerLayerError ?? [])), [count, perLayer.length]);
        arrays.push(relative("chi_per_layer.npy"), relative("chi_per_layer_error.npy"));
    }
    appendNote(session, noteKinds.sweep, {
        sweepId: result.sweepId, runId, prompt: result.prompt, completion: result.completion, vectorId: result.vectorId, vectorName: result.vectorName,
        alphas: result.alphas, alpha0: result.alpha0, fromToken: result.fromToken, step: result.step, stepRule: result.stepRule, layerSteps: result.layerSteps,
        layers: result.layers, totalChi: result.totalChi, totalChiError: result.totalChiError,
        pathFreeEnergy: result.pathFreeEnergy, alphaML: result.alphaML, sumRule: result.sumRule,
        tokens: result.tokens.map((token) => ({ index: token.index, id: token.id, piece: token.piece, chi: token.chi, chiError: token.chiError })),
        decodes: result.decodes, elapsedMs: result.elapsedMs,
        columns: { chi: ["chi", "chiError", "curvature", "entropyResponse", "fisher", "fdtGap", "fdtGapError"] }, arrays
    });
}

/** A patch detection: the verdict in the note; the black-box curves and the per-layer Δ norms as .npy. */
export async function recordDetection(session: SessionWriter, result: ProbesDetectResult, runId: string | undefined): Promise<void> {
    const { folder, relative } = analysisFolder(session, "detections", result.detectionId);
    const count = result.kl.length;
    await writeNpyFile(path.join(folder, "black_box.npy"), Float64Array.from(result.kl.flatMap((kl, k) => [kl, result.deltaLogprob[k]!])), [count, 2]);
    await writeNpyFile(path.join(folder, "delta_norms.npy"), Float64Array.from(result.deltaNorms.flat()), [result.deltaNorms.length, result.layers.length]);
    appendNote(session, noteKinds.detection, {
        detectionId: result.detectionId, runId, steered: result.steered, onsetToken: result.onsetToken, onsetPosition: result.onsetPosition,
        firstLayer: result.firstLayer, bestMatch: result.matches[0] ?? null, maxKl: Math.max(0, ...result.kl), elapsedMs: result.elapsedMs,
        columns: { blackBox: ["kl", "deltaLogprob"] }, arrays: [relative("black_box.npy"), relative("delta_norms.npy")]
    });
}

/** A blind detection: the verdict and the best hypothesis in the note; the per-token evidence as .npy. */
export async function recordForensics(session: SessionWriter, result: ForensicsDetectResult, runId: string | undefined): Promise<void> {
    const { folder, relative } = analysisFolder(session, "forensics", result.detectionId);
    const columns = ["llr", "kl", "deltaLogprob", "cleanLogprob", "surprise", "engaged"] as const;
    await writeNpyFile(path.join(folder, "evidence.npy"), Float64Array.from(result.tokens.flatMap((token) => columns.map((column) => Number(token[column])))),
        [result.tokens.length, columns.length]);
    appendNote(session, noteKinds.forensics, {
        detectionId: result.detectionId, runId, method: result.method, steered: result.steered, pValue: result.pValue, verdict: result.verdict,
        onsetToken: result.onsetToken, intervals: result.intervals, best: result.best, sampling: result.sampling,
        tokens: result.tokens.map((token) => token.id), elapsedMs: result.elapsedMs, columns: { evidence: columns }, arrays: [relative("evidence.npy")]
    });
}

/** What a vector build records: the library entry it made and the per-layer diagnostics. */
export interface VectorBuildRecord {
    vectorId: string;
    dataset: string;
    method: string;
    readAt: string;
    bestLayer: number;
    diagnostics: readonly unknown[];
}

export function recordVectorBuild(session: SessionWriter, build: VectorBuildRecord): void {
    appendNote(session, noteKinds.vectorBuild, build);
}

const finiteOrNull = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? value : null);

/** A `vector.build` note read back; null when the note does not have that shape (another version, a damaged line). */
export function readVectorBuild(data: unknown): { dataset: string; method: string; readAt: string; bestLayer: number; diagnostics: LayerDiagnosticsInfo[] } | null {
    const note = data as { dataset?: unknown; method?: unknown; readAt?: unknown; bestLayer?: unknown; diagnostics?: unknown } | null;
    if (note == null || typeof note.dataset !== "string" || !Array.isArray(note.diagnostics))
        return null;
    const diagnostics: LayerDiagnosticsInfo[] = (note.diagnostics as Record<string, unknown>[]).map((entry) => ({
        layer: finiteOrNull(entry.layer) ?? 0,
        norm: finiteOrNull(entry.norm) ?? 0,
        activationNorm: finiteOrNull(entry.activationNorm) ?? 0,
        trainAuroc: finiteOrNull(entry.trainAuroc) ?? 0.5,
        heldOutAuroc: finiteOrNull(entry.heldOutAuroc),
        standardizedMeanDifference: finiteOrNull(entry.standardizedMeanDifference) ?? 0,
        validationAuroc: finiteOrNull(entry.validationAuroc),
        pairedAccuracy: finiteOrNull(entry.pairedAccuracy)
    }));
    return {
        dataset: note.dataset, method: String(note.method ?? ""), readAt: String(note.readAt ?? ""),
        bestLayer: finiteOrNull(note.bestLayer) ?? diagnostics[0]?.layer ?? 0, diagnostics
    };
}
