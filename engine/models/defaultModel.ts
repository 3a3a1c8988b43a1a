// The model Tiller opens when the user has not chosen one: the toy world (engine/toyworld), a
// tiny chat model with a planted sycophancy behaviour that the project trains itself and ships in
// models/. It makes the lab work offline on a fresh clone.
import fs from "node:fs";
import path from "node:path";
import { projectModelsDir } from "./projectModelsDir.js";

export const DEFAULT_MODEL_FILE = "toyworld.gguf";

/** The default model's path, or `null` when it is not there (an install without the project's models/). */
export function defaultModelPath(env: NodeJS.ProcessEnv = process.env): string | null {
    const file = path.join(projectModelsDir(env), DEFAULT_MODEL_FILE);
    return fs.existsSync(file) ? file : null;
}
