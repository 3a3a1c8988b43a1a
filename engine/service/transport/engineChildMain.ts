// Entry point of the engine when `tiller serve` runs it as a Node child process (EngineProcessHost
// is the parent, speaking over Node's IPC channel). A native crash in llama.cpp ends this process
// only; the parent keeps the HTTP and WebSocket server up and starts a fresh engine.
import type { HostToChild } from "./engineChildMessages.js";
import { serveEngineChild } from "./serveEngineChild.js";

const send = process.send?.bind(process);
if (send == null)
    throw new Error("engineChildMain must run as a child process with an IPC channel (EngineProcessHost)");

// the parent went away (killed, crashed): nothing is left to serve
process.on("disconnect", () => process.exit(0));

serveEngineChild({
    post: (message) => {
        send(message);
    },
    onMessage: (listener) => process.on("message", (message: HostToChild) => listener(message))
});
