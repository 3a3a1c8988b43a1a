// binding.gyp defines NODE_ADDON_API_CPP_EXCEPTIONS_ALL: a std:: exception thrown on the JS thread
// inside any native entry becomes a JS Error instead of unwinding out of a Node-API callback (which
// ends the process in std::terminate). The real path used here: every entry that needs llama.cpp
// calls llama_library_get(), which throws std::runtime_error until bind() has run. That is only
// reachable in a process that loaded the addon without binding it, so a fresh Node process does it.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const addonPath = path.resolve(import.meta.dirname, "..", "..", "engine", "native", "build", "Release", "tiller_native.node");

const script = `
const addon = require(${JSON.stringify(addonPath)});
const outcomes = [];
const attempt = (name, call) => {
    try {
        const result = call();
        // an entry that reached its worker would return a promise: none may get that far
        outcomes.push({ name, returned: typeof result });
    } catch (error) {
        outcomes.push({ name, isError: error instanceof Error, message: String(error && error.message) });
    }
};
attempt("loadModel", () => addon.loadModel("/nonexistent.gguf", 0, false));
attempt("createTrainer", () => addon.createTrainer("/nonexistent.gguf", { seed: 1, threads: 1, contextSize: 256, initialisation: [] }));
attempt("quantizeModel", () => addon.quantizeModel("/nonexistent.gguf", "/tmp/never.gguf", { ftype: 7, threads: 1 }, () => {}));
// the process goes on: a later native call still works
outcomes.push({ name: "buildInfo", returned: typeof addon.buildInfo().llamaCppCommit });
process.stdout.write(JSON.stringify(outcomes));
`;

describe.skipIf(!fs.existsSync(addonPath))("C++ exceptions on the JS thread", () => {
    it("a std::runtime_error inside a native entry becomes a JS Error and the process lives on", () => {
        const child = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 60_000 });
        expect(child.signal, child.stderr).toBeNull(); // std::terminate would end it with SIGABRT
        expect(child.status, child.stderr).toBe(0);
        const outcomes = JSON.parse(child.stdout) as Array<{ name: string; isError?: boolean; message?: string; returned?: string }>;
        for (const name of ["loadModel", "createTrainer", "quantizeModel"])
            expect(outcomes.find((o) => o.name === name), name).toEqual({ name, isError: true, message: "Tiller's native addon is not bound to llama.cpp yet" });
        expect(outcomes.at(-1)).toEqual({ name: "buildInfo", returned: "string" });
    });
});
