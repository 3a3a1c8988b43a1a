// Entry point of the engine when `tiller serve` runs it as a Node child process (EngineProcessHost
// is the parent, speaking over Node's IPC channel). A native crash in llama.cpp ends this process
// only; the parent keeps the HTTP and WebSocket server up and starts a fresh engine.
import { decodePriorityFromEnv, UI_ENGINE_DECODE_PRIORITY } from "../../runtime/decodePriority.js";
import { lowerOwnSessionPriority } from "../../runtime/sessionSchedulingGroup.js";
import type { HostToChild } from "./engineChildMessages.js";
import { serveEngineChild } from "./serveEngineChild.js";

const send = process.send?.bind(process);
if (send == null)
    throw new Error("engineChildMain must run as a child process with an IPC channel (EngineProcessHost)");

// the parent went away (killed, crashed): nothing is left to serve
process.on("disconnect", () => process.exit(0));

yieldToOtherSessionsWhenInBackground();

serveEngineChild({
    post: (message) => {
        send(message);
    },
    onMessage: (listener) => process.on("message", (message: HostToChild) => listener(message))
});

/**
 * A background engine yields to the browser and the rest of the desktop as a whole process, not
 * only by its decode thread's nice value (runtime/sessionSchedulingGroup.ts: the launcher made this
 * process a session of its own). An unknown $TILLER_DECODE_PRIORITY is left to serveEngineChild,
 * which reports it to the host.
 */
function yieldToOtherSessionsWhenInBackground(): void {
    let priority;
    try {
        priority = decodePriorityFromEnv() ?? UI_ENGINE_DECODE_PRIORITY;
    } catch {
        return;
    }
    if (priority !== "background")
        return;
    const result = lowerOwnSessionPriority();
    if (!result.lowered && !result.expected)
        process.stderr.write(`tiller: the engine could not lower its session's priority (${result.why}); a browser in another session may wait for a core while it decodes\n`);
}
