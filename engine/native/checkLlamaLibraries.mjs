// The crash test of the direct start (engine/runtime/directBackend.ts), run in a child process:
// loads Tiller's addon, opens llama.cpp's libraries the way the parent is about to (the same
// files, the same backend loading), binds to them and checks that a CPU device came up. A library
// that does not run on this CPU kills this process, not the app. Plain JavaScript so that it runs
// from the source tree and from dist/ alike.
//
// argv[2]: JSON { addonPath, files: { llama, ggml, ggmlBase, backendsDir, logLevel } }
// stdout:  one JSON line { devices, systemInfo } on success; exit status 0
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

async function check() {
    const { addonPath, files } = JSON.parse(process.argv[2]);
    const addon = require(addonPath);
    const { devices } = await addon.openLlamaLibraries(files);
    const binding = addon.bind();
    if (!devices.some((device) => device.type === "cpu"))
        throw new Error(`no CPU device was loaded from ${files.backendsDir}`);
    process.stdout.write(`${JSON.stringify({ devices, systemInfo: binding.systemInfo })}\n`);
}

check().then(() => process.exit(0), (error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
});
