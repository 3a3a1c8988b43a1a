// The project's own `models/` folder (next to package.json), found from source (engine/models) or
// compiled (dist/engine/models) code. Downloads land there by default and the scan lists it first.
import fs from "node:fs";
import path from "node:path";

let cachedRoot: string | null | undefined;

/** The folder holding Tiller's package.json, or `null` when this code runs outside a checkout. */
export function projectRoot(): string | null {
    if (cachedRoot !== undefined)
        return cachedRoot;
    cachedRoot = null;
    for (let dir = import.meta.dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        try {
            if ((JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: unknown }).name === "tiller") {
                cachedRoot = dir;
                break;
            }
        } catch {
            // no (readable) package.json here: keep walking up
        }
    }
    return cachedRoot;
}

/**
 * Where Tiller keeps model files: `$TILLER_MODELS_DIR` when set, else `<project>/models`, else
 * `./models` of the working directory (an installed build without its checkout).
 */
export function projectModelsDir(env: NodeJS.ProcessEnv = process.env): string {
    const fromEnv = env.TILLER_MODELS_DIR;
    if (fromEnv != null && fromEnv !== "")
        return path.resolve(fromEnv);
    const root = projectRoot();
    return root != null ? path.join(root, "models") : path.resolve("models");
}
