#!/usr/bin/env node
// `npm start [-- --model FILE]`: the desktop app when Electron can run here, otherwise `tiller
// serve` with its URL printed. Builds first when dist/ is missing.
//
// Electron needs its binary (the `electron` package downloads it on first use; where the network
// does not allow that, we fall back) and, on Linux, a display.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const log = (message) => process.stdout.write(`[tiller start] ${message}\n`);

/**
 * Builds what is missing, and only that: `npm ci` has already built the native addon, and
 * rebuilding it while another Tiller process has it loaded is slow and needless.
 */
function ensureBuilt() {
    const parts = [
        { script: "build:native", outputs: ["engine/native/build/Release/tiller_native.node"] },
        { script: "build:ts", outputs: ["dist/engine/cli/main.js", "dist/electron/main.js", "dist/electron/preload.cjs"] },
        { script: "build:renderer", outputs: ["dist/renderer/index.html"] }
    ];
    for (const { script, outputs } of parts) {
        if (outputs.every((file) => fs.existsSync(path.join(root, file))))
            continue;
        log(`building (first start): npm run ${script}`);
        const result = spawnSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", script], { cwd: root, stdio: "inherit" });
        if (result.status !== 0)
            process.exit(result.status ?? 1);
    }
}

/** The Electron binary's path, fetching it through the electron package's installer if absent. */
function electronBinary() {
    const tryResolve = () => {
        try {
            const binary = require("electron");
            return typeof binary === "string" && fs.existsSync(binary) ? binary : undefined;
        } catch {
            return undefined;
        }
    };
    let binary = tryResolve();
    if (binary != null)
        return binary;
    let installer;
    try {
        installer = require.resolve("electron/install.js");
    } catch {
        return undefined;
    }
    log("fetching the Electron binary (first start)...");
    const result = spawnSync(process.execPath, [installer], { cwd: path.dirname(installer), stdio: "inherit", timeout: 180_000 });
    if (result.status !== 0) {
        log("could not fetch Electron here (no network?)");
        return undefined;
    }
    binary = tryResolve();
    return binary;
}

function hasDisplay() {
    if (process.platform !== "linux")
        return true;
    return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

ensureBuilt();
const binary = hasDisplay() ? electronBinary() : undefined;
let child;
if (binary != null) {
    log("launching the desktop app");
    child = spawn(binary, [path.join(root, "dist", "electron", "main.js"), ...args], { cwd: root, stdio: "inherit" });
} else {
    log(hasDisplay() ? "Electron is not available: serving the lab to your browser instead" : "no display: serving the lab to your browser instead");
    child = spawn(process.execPath, [path.join(root, "bin", "tiller.js"), "serve", ...args], { cwd: root, stdio: "inherit" });
}
for (const signal of ["SIGINT", "SIGTERM"])
    process.on(signal, () => child.kill(signal));
child.on("exit", (code) => process.exit(code ?? 0));
