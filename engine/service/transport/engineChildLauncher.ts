// How EngineProcessHost starts an engine process, whatever kind it is: a Node child process
// (`tiller serve`, tests) or Electron's utility process (the desktop app, electron/engineLauncher.ts).
// The host needs only these few operations, so one supervisor serves both.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ChildToHost, HostToChild } from "./engineChildMessages.js";

/** One running engine process as its host drives it. */
export interface EngineChild {
    send(message: HostToChild): void;
    onMessage(listener: (message: ChildToHost) => void): void;
    /** once, when the process has ended; `reason` says how ("it exited with code 1", "it was ended by SIGKILL") */
    onExit(listener: (reason: string) => void): void;
    /** asks the process to end (SIGTERM where there are signals); `force` ends it outright */
    kill(force: boolean): void;
    /** true until the process has ended */
    readonly running: boolean;
}

/** Starts an engine process with this environment (TILLER_DATA_DIR, TILLER_ENGINE_MODEL, ...). */
export type EngineChildLauncher = (env: NodeJS.ProcessEnv) => EngineChild;

/** The engine as a Node child process running engineChildMain.js over Node's IPC channel. */
export const forkNodeEngineChild: EngineChildLauncher = (env) => {
    const entry = fileURLToPath(new URL("./engineChildMain.js", import.meta.url));
    // a session of its own on Linux, so that a background engine can lower its whole session's share
    // of the CPU against the browser's (runtime/sessionSchedulingGroup.ts). It still ends with the
    // host: it exits when the IPC channel closes (engineChildMain.ts), and the host ends it on close.
    const child = fork(entry, [], { env, stdio: ["ignore", "inherit", "inherit", "ipc"], detached: process.platform === "linux" });
    return {
        send: (message) => {
            if (child.connected)
                child.send(message);
        },
        onMessage: (listener) => child.on("message", (message: ChildToHost) => listener(message)),
        onExit: (listener) => child.once("exit", (code, signal) => listener(signal != null ? `it was ended by ${signal}` : `it exited with code ${code}`)),
        kill: (force) => child.kill(force ? "SIGKILL" : "SIGTERM"),
        get running() {
            return child.exitCode == null && child.signalCode == null;
        }
    };
};
