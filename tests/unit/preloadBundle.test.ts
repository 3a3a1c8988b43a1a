// The preload as vite.preload.config.ts bundles it (built afresh into a temp folder, so the test never
// reads a stale dist/), run as a sandboxed renderer runs it: a plain script whose `require` knows "electron" and nothing of this repo, with no
// `module` or `exports`. Electron cannot run here, so the script runs in a VM context whose
// `require("electron")` records what the preload asks of it; the channels and the API it exposes
// are checked against the one contract (electron/ipcContract.ts).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enginePortMessage, ipcChannels, type TillerPreloadApi } from "../../electron/ipcContract.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
let outDir: string;
let bundle: string;

beforeAll(async () => {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-preload-"));
    await build({ configFile: path.join(repoRoot, "vite.preload.config.ts"), logLevel: "silent", build: { outDir, sourcemap: false } });
    bundle = path.join(outDir, "preload.cjs");
}, 60_000);

afterAll(() => {
    if (outDir != null)
        fs.rmSync(outDir, { recursive: true, force: true });
});

interface Recorded {
    required: string[];
    exposed: Map<string, unknown>;
    listeners: Map<string, (event: unknown, ...args: unknown[]) => void>;
    sent: unknown[][];
    invoked: unknown[][];
    posted: unknown[][];
}

function runPreload(): Recorded {
    const recorded: Recorded = { required: [], exposed: new Map(), listeners: new Map(), sent: [], invoked: [], posted: [] };
    const electron = {
        contextBridge: { exposeInMainWorld: (key: string, api: unknown) => recorded.exposed.set(key, api) },
        ipcRenderer: {
            on: (channel: string, listener: (event: unknown, ...args: unknown[]) => void) => recorded.listeners.set(channel, listener),
            off: (channel: string) => recorded.listeners.delete(channel),
            send: (...args: unknown[]) => recorded.sent.push(args),
            invoke: (...args: unknown[]) => {
                recorded.invoked.push(args);
                return Promise.resolve(null);
            }
        },
        webUtils: { getPathForFile: (file: { name: string }) => `/dropped/${file.name}` }
    };
    const require = (name: string): unknown => {
        recorded.required.push(name);
        if (name !== "electron")
            throw new Error(`a sandboxed preload cannot require "${name}"`);
        return electron;
    };
    const window = { postMessage: (...args: unknown[]) => recorded.posted.push(args) };
    // what a sandboxed preload gets: require and the page's globals; no module, exports, __dirname
    vm.runInNewContext(`"use strict";\n${fs.readFileSync(bundle, "utf8")}`, { require, window }, { filename: bundle });
    return recorded;
}

describe("the bundled preload", () => {
    it("runs as a sandboxed script that requires only electron", () => {
        const recorded = runPreload();
        expect(recorded.required).toEqual(["electron"]);
        expect([...recorded.exposed.keys()]).toEqual(["tiller"]);
    });

    it("exposes exactly the contract's API on the contract's channels", async () => {
        const recorded = runPreload();
        const api = recorded.exposed.get("tiller") as TillerPreloadApi;
        const members: (keyof TillerPreloadApi)[] = ["connectEngine", "openFileDialog", "pathForFile", "onOpenModel"];
        expect(Object.keys(api).sort()).toEqual([...members].sort());

        api.connectEngine();
        expect(recorded.sent).toEqual([[ipcChannels.connectEngine]]);

        // main's port goes to the page as the contract's window message, ports transferred
        const port = { name: "port" };
        recorded.listeners.get(ipcChannels.enginePort)!({ ports: [port] });
        expect(recorded.posted).toEqual([[enginePortMessage, "*", [port]]]);

        await api.openFileDialog("vector");
        expect(recorded.invoked).toEqual([[ipcChannels.openFileDialog, "vector"]]);
        expect(api.pathForFile({ name: "a.gguf" } as File)).toBe("/dropped/a.gguf");

        const opened: string[] = [];
        const stop = api.onOpenModel((file) => opened.push(file));
        recorded.listeners.get(ipcChannels.openModel)!({}, "/models/x.gguf");
        recorded.listeners.get(ipcChannels.openModel)!({}, { not: "a path" });
        expect(opened).toEqual(["/models/x.gguf"]);
        stop();
        expect(recorded.listeners.has(ipcChannels.openModel)).toBe(false);
    });
});
