// The engine in Electron's utility process, in the shape EngineProcessHost drives (the same host
// `tiller serve` uses with a Node child process): one supervisor, one restart policy, one protocol.
import { utilityProcess } from "electron";
import path from "node:path";
import type { EngineChild, EngineChildLauncher } from "../engine/service/transport/engineChildLauncher.js";
import type { ChildToHost } from "../engine/service/transport/engineChildMessages.js";

export function utilityProcessLauncher(entry: string): EngineChildLauncher {
    return (env) => {
        const child = utilityProcess.fork(path.resolve(entry), [], { serviceName: "Tiller engine", stdio: "inherit", env });
        let running = true;
        child.once("exit", () => {
            running = false;
        });
        const engine: EngineChild = {
            send: (message) => {
                if (running)
                    child.postMessage(message);
            },
            onMessage: (listener) => child.on("message", (message: ChildToHost) => listener(message)),
            onExit: (listener) => child.once("exit", (code) => listener(`it exited with code ${code}`)),
            // a utility process has no signals to choose from: kill() ends it
            kill: () => child.kill(),
            get running() {
                return running;
            }
        };
        return engine;
    };
}
