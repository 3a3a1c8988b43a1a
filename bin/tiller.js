#!/usr/bin/env node
// Launcher for the `tiller` CLI: runs the compiled engine/cli/main.ts from dist/.
import fs from "node:fs";
import { fileURLToPath } from "node:url";

const mainUrl = new URL("../dist/engine/cli/main.js", import.meta.url);
if (!fs.existsSync(fileURLToPath(mainUrl))) {
    process.stderr.write("tiller: error: the CLI is not built (dist/engine/cli/main.js is missing); run `npm run build`\n");
    process.exit(1);
}
// llama.cpp's backend starts loading while the CLI's modules are imported (engine/cli/prestartBackend.ts)
const { prestartBackend } = await import(new URL("../dist/engine/cli/prestartBackend.js", import.meta.url).href);
prestartBackend(process.argv);
const { main } = await import(mainUrl.href);
const status = await main(process.argv);
// flush stdout before leaving: the native backend may hold the event loop open
process.stdout.write("", () => process.exit(status));
