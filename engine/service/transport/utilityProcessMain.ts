// Entry point of the engine when Electron main runs it in a utility process (electron/
// engineLauncher.ts): the same EngineProcessHost protocol as `tiller serve`'s child, carried by
// Electron's parentPort instead of Node's IPC channel. A native crash here ends this process only:
// the window survives and main's EngineProcessHost starts a fresh engine.
import type { ChildToHost, HostToChild } from "./engineChildMessages.js";
import { serveEngineChild } from "./serveEngineChild.js";

/** The slice of Electron's utility-process API used here (engine/ does not import electron). */
interface ParentPortLike {
    postMessage(message: ChildToHost): void;
    on(event: "message", listener: (event: { data: HostToChild }) => void): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
if (parentPort == null)
    throw new Error("utilityProcessMain must run in an Electron utility process");

serveEngineChild({
    post: (message) => parentPort.postMessage(message),
    onMessage: (listener) => parentPort.on("message", (event) => listener(event.data))
});
