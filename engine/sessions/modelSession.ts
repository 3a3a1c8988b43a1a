// The session the engine records a loaded model's work into: its session.json names the model file
// (size and SHA-256, so a replay can tell a changed file) and the settings it was loaded with.
import fs from "node:fs";
import { sha256OfFile } from "../io/sha256File.js";
import { SessionWriter } from "./SessionWriter.js";

/** The loaded model a session records: what session.json says of it. */
export interface RecordedModelLoad {
    path: string;
    fileName: string;
    threads: number;
    contextSize: number;
    gpuLayers: number;
}

/** Creates a new session under `root` for `load`, named after the model file and the time (to the minute). */
export async function createModelSession(root: string, load: RecordedModelLoad, appVersion: string): Promise<SessionWriter> {
    return SessionWriter.create(root, {
        name: `${load.fileName} ${new Date().toISOString().slice(0, 16).replace("T", " ")}`,
        appVersion,
        model: { fileName: load.fileName, path: load.path, sizeBytes: fs.statSync(load.path).size, sha256: await sha256OfFile(load.path) },
        settings: { threads: load.threads, contextSize: load.contextSize, gpuLayers: load.gpuLayers }
    });
}
