// Where requests over RPC may write. A holder of the token is the user, but `tiller serve` may run
// on a shared GPU box: files are written only under folders fixed at launch — the data folder, the
// models folder and the export folders — never over an existing file unless the request says so,
// and only with the extension the format calls for. Resolved through symlinks, so a link inside an
// allowed folder cannot lead a write outside it.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { projectModelsDir } from "../models/projectModelsDir.js";
import { TillerError } from "../protocol/TillerError.js";

/**
 * The export folders: $TILLER_EXPORT_DIRS (separated by the platform's path delimiter), else the
 * home and temporary folders (where a user types an export path on a desktop).
 */
export function defaultExportDirs(env: NodeJS.ProcessEnv = process.env): string[] {
    const configured = env.TILLER_EXPORT_DIRS;
    if (configured != null && configured.trim() !== "")
        return configured.split(path.delimiter).filter((entry) => entry.trim() !== "");
    return [os.homedir(), os.tmpdir()];
}

export class WritePolicy {
    /** the allowed folders, absolute, symlinks resolved where they exist */
    public readonly roots: readonly string[];

    public constructor(roots: readonly string[]) {
        this.roots = [...new Set(roots.map((root) => realPathOrResolved(root)))];
    }

    /** The data folder, the models folder and the export folders. */
    public static forDataDir(dataDir: string, env: NodeJS.ProcessEnv = process.env): WritePolicy {
        return new WritePolicy([dataDir, projectModelsDir(env), ...defaultExportDirs(env)]);
    }

    /** Throws INVALID_ARGUMENT unless `target` (absolute) lies in an allowed folder; returns it resolved. */
    public checkInside(target: string, what: string): string {
        if (!path.isAbsolute(target))
            throw new TillerError("INVALID_ARGUMENT", `${what} must be an absolute path on the engine's machine, got "${target}"`);
        const resolved = path.resolve(target);
        // the deepest folder on the way that exists, with its links resolved, decides
        let existing = path.dirname(resolved);
        while (!fs.existsSync(existing) && path.dirname(existing) !== existing)
            existing = path.dirname(existing);
        const real = path.join(realPathOrResolved(existing), path.relative(existing, resolved));
        if (!this.roots.some((root) => real === root || real.startsWith(root + path.sep)))
            throw new TillerError("INVALID_ARGUMENT", `${what} "${resolved}" is outside the folders this engine may write to (${this.roots.join(", ")}); ` +
                "choose a path inside one of them, or start the engine with $TILLER_EXPORT_DIRS (tiller serve --export-dir) naming the folder");
        return resolved;
    }

    /** A new file of the given extension in an allowed folder; an existing one only when `overwrite` is set. */
    public checkNewFile(target: string, extension: string, options: { overwrite?: boolean; what: string }): string {
        const resolved = this.checkInside(target, options.what);
        if (!resolved.toLowerCase().endsWith(extension))
            throw new TillerError("INVALID_ARGUMENT", `${options.what} must end in ${extension}, got "${target}"`);
        let existing: fs.Stats | undefined;
        try {
            existing = fs.lstatSync(resolved);
        } catch {
            existing = undefined;
        }
        if (existing != null) {
            if (!existing.isFile())
                throw new TillerError("INVALID_ARGUMENT", `"${resolved}" exists and is not a plain file; choose another name`);
            if (options.overwrite !== true)
                throw new TillerError("INVALID_ARGUMENT", `"${resolved}" already exists; choose a new name, or ask to overwrite it`);
        }
        return resolved;
    }
}

function realPathOrResolved(file: string): string {
    try {
        return fs.realpathSync(file);
    } catch {
        return path.resolve(file);
    }
}
