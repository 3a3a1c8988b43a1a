// Builds what the end-to-end tests run, so they never test a stale dist/: the engine + CLI +
// Electron main (build:ts) and the renderer (build:renderer). TILLER_E2E_SKIP_BUILD=1 skips this.
// The renderer first: vite empties dist/renderer/, which also holds tsc's output of the renderer
// modules the engine's tests and benches import (renderer/src/scenarios), so tsc must write after it.
import { execSync } from "node:child_process";
import path from "node:path";

export default function globalSetup(): void {
    if (process.env.TILLER_E2E_SKIP_BUILD === "1")
        return;
    const root = path.resolve(import.meta.dirname, "..", "..");
    for (const script of ["build:renderer", "build:ts"]) {
        process.stdout.write(`e2e: npm run ${script}\n`);
        execSync(`npm run --silent ${script}`, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
    }
}
