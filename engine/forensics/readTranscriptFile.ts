// A transcript JSON file: {"prompt": "...", "promptMode": "plain"|"chat", "tokens": [ids] and/or
// "completion" (or "text"): "...", "sampling": {"temperature": 0.7, "topK": 40, "topP": 0.95, "minP": 0.05}}.
import fs from "node:fs";
import { z } from "zod";
import { TillerError } from "../protocol/TillerError.js";
import { transcriptSchema, type TranscriptParams } from "../protocol/forensics.js";

const fileSchema = transcriptSchema.omit({ runId: true }).extend({ text: z.string().optional() }).strict();

export function readTranscriptFile(file: string): TranscriptParams {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (error) {
        throw new TillerError("FILE_NOT_FOUND", `cannot read the transcript ${file}: ${(error as Error).message}`, { cause: error });
    }
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch (error) {
        throw new TillerError("INVALID_ARGUMENT", `the transcript ${file} is not JSON: ${(error as Error).message}`, { cause: error });
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new TillerError("INVALID_ARGUMENT", `the transcript ${file} is malformed at ${issue.path.join(".") || "the top level"}: ${issue.message}`);
    }
    const { text: alias, ...rest } = parsed.data;
    if (rest.prompt == null)
        throw new TillerError("INVALID_ARGUMENT", `the transcript ${file} has no "prompt"`);
    return { ...rest, completion: rest.completion ?? alias };
}
