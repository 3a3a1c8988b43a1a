// Vite build of the renderer: renderer/ is the root, the bundle lands in dist/renderer/, which
// `tiller serve` serves over HTTP and Electron loads from disk (hence the relative base).
// Dev server: `npx vite` and open /?token=TOKEN; set TILLER_ENGINE=http://127.0.0.1:PORT to proxy
// the engine's WebSocket (/rpc) to a running `tiller serve`.
import path from "node:path";
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

const engine = process.env.TILLER_ENGINE;

export default defineConfig({
    root: path.join(import.meta.dirname, "renderer"),
    base: "./",
    plugins: [react()],
    build: {
        outDir: path.join(import.meta.dirname, "dist", "renderer"),
        // emptied on every build; it also holds tsc's output of renderer/src/scenarios (imported by the
        // engine's tests and benches), so `npm run build` and the e2e setup run tsc after this
        emptyOutDir: true,
        sourcemap: true,
        chunkSizeWarningLimit: 1500
    },
    server: {
        host: "127.0.0.1",
        proxy: engine == null ? undefined : { "/rpc": { target: engine, ws: true } }
    }
});
