// Bundles the Electron preload (electron/preload.ts) into dist/electron/preload.cjs. A sandboxed
// preload is a CommonJS script whose `require` knows only "electron" and a few builtins, so what it
// imports from the repo (the IPC contract) is inlined here and "electron" stays a require.
// Run after `tsc -p tsconfig.electron.json` (it shares dist/electron and must not empty it).
import path from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
    publicDir: false,
    logLevel: "warn",
    build: {
        outDir: path.join(import.meta.dirname, "dist", "electron"),
        emptyOutDir: false,
        sourcemap: true,
        minify: false,
        target: "chrome120",
        lib: {
            entry: path.join(import.meta.dirname, "electron", "preload.ts"),
            formats: ["cjs"],
            fileName: () => "preload.cjs"
        },
        rollupOptions: { external: ["electron"] }
    }
});
