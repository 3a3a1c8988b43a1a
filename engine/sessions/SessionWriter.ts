// Writes one session: session.json once, then append-only records, each flushed as it is written.
import { readoutColumns } from "../protocol/thermoReadouts.js";
import { readoutMatrix } from "./readoutMatrix.js";
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { encodeControlVector } from "../gguf/ControlVectorFile.js";
import { CALIBRATION_KEY, encodeCalibration } from "../runtime/vectorCalibration.js";
import { writeNpyFile } from "../io/npy.js";
import type { TokenInfo } from "../protocol/shapes.js";
import type { GenerationResult, GenerationRun, PatchChangeRecord } from "../runtime/generate.js";
import type { ProjectionProbe } from "../runtime/ProjectionReader.js";
import type { PatchTrigger, SteeringPatch } from "../runtime/SteeringPatch.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import type { TriggerEvent } from "../runtime/TriggerTracker.js";
import { claimRecording, releaseRecording } from "./recordingLock.js";
import { sessionFormatVersion, type RecordedPatch, type RecordedTrigger, type SessionInfo, type SessionRecord } from "./sessionRecords.js";

export interface RunSettings {
    prompt: string;
    maxTokens: number;
    sampling: { temperature: number; topK: number; topP: number; minP: number; seed: number };
    topAlternatives: number;
    patches: readonly SteeringPatch[];
    probes: readonly ProjectionProbe[];
    contextSize: number;
    threads: number;
}

export interface RunRecorder {
    runId: string;
    /** one generated token, with the run's patch changes (and trigger events) so far */
    token(token: TokenInfo, changes: readonly PatchChangeRecord[], triggers?: readonly TriggerEvent[]): void;
    end(result: GenerationResult): Promise<void>;
}

export class SessionWriter {
    public readonly folder: string;
    public readonly info: SessionInfo;
    private readonly fd: number;
    private readonly savedVectors = new Set<string>();
    /** bytes of events.jsonl that hold whole records; a failed append is cut back to this */
    private committedBytes: number;
    /** a failed append could not be cut back: the next record must start on a line of its own */
    private lineOpen = false;

    private constructor(folder: string, info: SessionInfo) {
        this.folder = folder;
        this.info = info;
        this.fd = fs.openSync(path.join(folder, "events.jsonl"), "a");
        this.committedBytes = fs.fstatSync(this.fd).size;
    }

    /** Creates a new session folder under `root`. */
    public static create(root: string, info: Omit<SessionInfo, "format" | "id" | "createdAt"> & { id?: string }): SessionWriter {
        const id = info.id ?? `${new Date().toISOString().replace(/[:.]/g, "-")}-${randomUUID().slice(0, 8)}`;
        const folder = path.join(root, id);
        fs.mkdirSync(path.join(folder, "vectors"), { recursive: true });
        const full: SessionInfo = { format: sessionFormatVersion, id, createdAt: new Date().toISOString(), ...info };
        const temporary = path.join(folder, "session.json.tmp");
        fs.writeFileSync(temporary, JSON.stringify(full, null, 2) + "\n");
        fs.renameSync(temporary, path.join(folder, "session.json"));
        claimRecording(folder);
        return new SessionWriter(folder, full);
    }

    /**
     * Appends one record as one line; the write reaches the OS before this returns. A short write is
     * continued; a failed one (ENOSPC, EIO) throws after cutting the file back to its last whole
     * record, so a partial line never glues onto the next record and the session stays readable.
     */
    public append(record: SessionRecord): void {
        const bytes = Buffer.from((this.lineOpen ? "\n" : "") + JSON.stringify(record) + "\n");
        let written = 0;
        try {
            while (written < bytes.length)
                written += fs.writeSync(this.fd, bytes, written, bytes.length - written);
        } catch (error) {
            this.cutBack(); // a failing write may still have moved some bytes
            throw error;
        }
        this.committedBytes += bytes.length;
        this.lineOpen = false;
    }

    private cutBack(): void {
        try {
            fs.ftruncateSync(this.fd, this.committedBytes);
        } catch {
            // the partial line stays; the reader skips it as unreadable, and the next record starts a new line
            this.lineOpen = true;
            try {
                this.committedBytes = fs.fstatSync(this.fd).size;
            } catch {
                // keep the old figure: a later cut-back then keeps a little more than needed, never less
            }
        }
    }

    /** Saves a vector once per content and returns its hash (the name under vectors/). */
    public saveVector(vector: SteeringVector): string {
        const hash = createHash("sha256");
        for (const layer of [...vector.directions.keys()].sort((a, b) => a - b)) {
            hash.update(String(layer));
            const direction = vector.directions.get(layer)!;
            hash.update(new Uint8Array(direction.buffer, direction.byteOffset, direction.byteLength));
        }
        if (vector.calibration != null)
            hash.update(encodeCalibration(vector.calibration)); // a calibrated copy is another file
        const id = hash.digest("hex").slice(0, 16);
        if (!this.savedVectors.has(id)) {
            const file = path.join(this.folder, "vectors", `${id}.gguf`);
            if (!fs.existsSync(file)) {
                fs.writeFileSync(file + ".tmp", encodeControlVector({
                    modelHint: "", nEmbd: vector.nEmbd, directions: new Map(vector.directions),
                    // the calibration travels with the vector, so σ-unit triggers replay the same
                    metadata: { "tiller.name": vector.name, ...(vector.calibration != null ? { [CALIBRATION_KEY]: encodeCalibration(vector.calibration) } : {}) }
                }));
                fs.renameSync(file + ".tmp", file);
            }
            this.savedVectors.add(id);
        }
        return id;
    }

    public recordPatches(patches: readonly SteeringPatch[]): RecordedPatch[] {
        return patches.map((patch) => ({
            id: patch.id, vector: this.saveVector(patch.vector), vectorName: patch.vector.name, strength: patch.strength,
            ...(patch.layers != null ? { layers: patch.layers } : {}),
            ...(patch.fromToken != null ? { fromToken: patch.fromToken } : {}),
            ...(patch.untilToken != null ? { untilToken: patch.untilToken } : {}),
            ...(patch.trigger != null ? { trigger: this.recordTrigger(patch.trigger) } : {})
        }));
    }

    private recordTrigger(trigger: PatchTrigger): RecordedTrigger {
        if (trigger.kind === "text")
            return { ...trigger };
        const { vector, ...rest } = trigger;
        return { ...rest, vector: this.saveVector(vector), vectorName: vector.name };
    }

    /**
     * Starts recording a run: its settings now; the caller (whoever consumes the run's tokens)
     * then reports every token, the patch changes as they appear, and the end.
     */
    public startRun(settings: RunSettings): RunRecorder {
        const runId = randomUUID();
        this.append({
            type: "run.start", runId, at: new Date().toISOString(), prompt: settings.prompt, maxTokens: settings.maxTokens,
            sampling: settings.sampling, topAlternatives: settings.topAlternatives, patches: this.recordPatches(settings.patches),
            probes: settings.probes.map((probe) => ({ name: probe.name ?? probe.vector.name, vector: this.saveVector(probe.vector), ...(probe.layers != null ? { layers: [...probe.layers] } : {}) })),
            contextSize: settings.contextSize, threads: settings.threads
        });
        let changesWritten = 0;
        let triggersWritten = 0;
        const writeTriggers = (events: readonly TriggerEvent[]) => {
            for (; triggersWritten < events.length; triggersWritten++)
                this.append({ type: "trigger", runId, ...events[triggersWritten]! });
        };
        const writeChanges = (changes: readonly PatchChangeRecord[]) => {
            for (; changesWritten < changes.length; changesWritten++) {
                const change = changes[changesWritten]!;
                this.append({ type: "patch.change", runId, atToken: change.atToken, activePatches: change.activePatches, patches: this.recordPatches(change.patches) });
            }
        };
        return {
            runId,
            token: (token, changes, triggers = []) => {
                writeChanges(changes);
                writeTriggers(triggers);
                this.append({ type: "token", runId, index: token.index, id: token.id, piece: token.piece, logprob: token.logprob, entropy: token.entropy,
                    top: token.top, activePatches: token.activePatches, projections: token.projections, readouts: token.readouts });
            },
            end: async (result) => {
                writeChanges(result.patchChanges);
                writeTriggers(result.triggerEvents);
                const arrays = await this.writeRunArrays(runId, result);
                this.append({ type: "run.end", runId, at: new Date().toISOString(), stopReason: result.stopReason, text: result.text,
                    tokensPerSecond: result.timings.tokensPerSecond, arrays });
            }
        };
    }

    /** Records a whole run, consuming its tokens (for callers that do nothing else with them). */
    public async recordRun(run: GenerationRun, settings: RunSettings): Promise<{ runId: string; result: GenerationResult }> {
        const recorder = this.startRun(settings);
        for await (const token of run)
            recorder.token(token, run.patchChanges, run.triggerEvents);
        const result = await run.result;
        await recorder.end(result);
        return { runId: recorder.runId, result };
    }

    /**
     * projections.npy: [tokens, read-outs] float32, columns in the order of columns.json;
     * readouts.npy: [tokens, thermodynamic read-outs] float64, columns in readout_columns.json
     */
    private async writeRunArrays(runId: string, result: GenerationResult): Promise<string[]> {
        const folder = path.join(this.folder, "runs", runId);
        const written: string[] = [];
        const readouts = readoutMatrix(result.tokens);
        if (readouts != null) {
            fs.mkdirSync(folder, { recursive: true });
            await writeNpyFile(path.join(folder, "readouts.npy"), readouts, [result.tokens.length, readoutColumns.length]);
            fs.writeFileSync(path.join(folder, "readout_columns.json"), JSON.stringify(readoutColumns.map((column) => column.name)) + "\n");
            written.push(`runs/${runId}/readouts.npy`);
        }
        const columns = result.tokens[0]?.projections.map((projection) => `${projection.probe}@L${projection.layer}`) ?? [];
        if (columns.length === 0)
            return written;
        fs.mkdirSync(folder, { recursive: true });
        const dots = new Float32Array(result.tokens.length * columns.length);
        const cosines = new Float32Array(result.tokens.length * columns.length);
        for (const [row, token] of result.tokens.entries()) {
            for (const [column, projection] of token.projections.entries()) {
                dots[row * columns.length + column] = projection.dot;
                cosines[row * columns.length + column] = projection.cosine;
            }
        }
        await writeNpyFile(path.join(folder, "projections.npy"), dots, [result.tokens.length, columns.length]);
        await writeNpyFile(path.join(folder, "cosines.npy"), cosines, [result.tokens.length, columns.length]);
        fs.writeFileSync(path.join(folder, "columns.json"), JSON.stringify(columns) + "\n");
        return [`runs/${runId}/projections.npy`, `runs/${runId}/cosines.npy`, ...written];
    }

    public close(): void {
        fs.closeSync(this.fd);
        releaseRecording(this.folder);
    }
}
