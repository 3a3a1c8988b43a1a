import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { TillerError } from "../protocol/TillerError.js";
import type { AddonBinding, TillerNativeAddon } from "./AddonTypes.js";

const require = createRequire(import.meta.url);

/** node-llama-cpp version the addon's struct layouts must match (package.json pins it). */
export const requiredNodeLlamaCppVersion = "3.21.1";

/** Finds engine/native/build/Release/tiller_native.node from source (engine/) or compiled (dist/engine/) code. */
function findAddonPath(): string {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const candidates = [
        path.resolve(here, "build", "Release", "tiller_native.node"),
        path.resolve(here, "..", "..", "..", "engine", "native", "build", "Release", "tiller_native.node")
    ];
    const found = candidates.find((candidate) => fs.existsSync(candidate));
    if (found == null)
        throw new TillerError("NATIVE_ADDON", "Tiller's native addon is not built: run `npm run build:native` (looked in " +
            candidates.join(", ") + ")");
    return found;
}

/** node-llama-cpp's installed package folder and version (its "exports" hide package.json, so walk up from its entry). */
export function nodeLlamaCppPackage(): { dir: string; version: string } {
    let dir = path.dirname(fileURLToPath(import.meta.resolve("node-llama-cpp")));
    for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        const manifest = path.join(dir, "package.json");
        if (fs.existsSync(manifest)) {
            const parsed = JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: string; version?: string };
            if (parsed.name === "node-llama-cpp" && parsed.version != null)
                return { dir, version: parsed.version };
        }
    }
    throw new TillerError("NATIVE_ADDON", "cannot find node-llama-cpp's package.json");
}

function installedNodeLlamaCppVersion(): string {
    return nodeLlamaCppPackage().version;
}

let required: TillerNativeAddon | undefined;
let loaded: { addon: TillerNativeAddon; binding: AddonBinding } | undefined;

/** The path of tiller_native.node (throws NATIVE_ADDON when it is not built). */
export function nativeAddonPath(): string {
    return findAddonPath();
}

/**
 * Loads tiller_native.node without binding it to llama.cpp. Refuses when the installed
 * node-llama-cpp is not the version the addon's headers came from: llama.cpp structs are passed by
 * value, so a mismatch would corrupt memory instead of failing.
 */
export function requireNativeAddon(): TillerNativeAddon {
    if (required != null)
        return required;
    const addon = require(findAddonPath()) as TillerNativeAddon;
    const built = addon.buildInfo();
    const installed = installedNodeLlamaCppVersion();
    if (built.nodeLlamaCppVersion !== installed || installed !== requiredNodeLlamaCppVersion)
        throw new TillerError("NATIVE_ADDON",
            `Tiller's native addon was built against node-llama-cpp ${built.nodeLlamaCppVersion} (llama.cpp ${built.llamaCppCommit}) ` +
            `but node-llama-cpp ${installed} is installed; Tiller requires exactly ${requiredNodeLlamaCppVersion}. ` +
            "Reinstall (npm ci) so the addon is rebuilt from the matching headers.");
    required = addon;
    return addon;
}

/**
 * Loads tiller_native.node and binds it to the llama.cpp already loaded in this process (by
 * node-llama-cpp's `getLlama()` or by the addon's own openLlamaLibraries); call after either.
 */
export function loadNativeAddon(): { addon: TillerNativeAddon; binding: AddonBinding } {
    if (loaded != null)
        return loaded;
    const addon = requireNativeAddon();
    let binding: AddonBinding;
    try {
        binding = addon.bind();
    } catch (error) {
        throw new TillerError("NATIVE_ADDON", (error as Error).message, { cause: error });
    }
    loaded = { addon, binding };
    return loaded;
}
