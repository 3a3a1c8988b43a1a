// Entry point of the engine when Electron runs it in a utility process. Electron main hands over
// one MessagePort per window; each becomes an RPC connection. A native crash here ends this
// process only: the window survives and main restarts the engine.
import { EngineRpcServer } from "../EngineRpcServer.js";
import { EngineService } from "../EngineService.js";

/** The slice of Electron's utility-process API used here (engine/ does not import electron). */
interface PortLike {
    postMessage(message: unknown): void;
    on(event: "message", listener: (event: { data: unknown }) => void): void;
    on(event: "close", listener: () => void): void;
    start(): void;
}
interface ParentPortLike {
    on(event: "message", listener: (event: { data: unknown; ports: PortLike[] }) => void): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
if (parentPort == null)
    throw new Error("utilityProcessMain must run in an Electron utility process");

const dataDir = process.env.TILLER_DATA_DIR;
const rpc = new EngineRpcServer(new EngineService({ dataDir }));

parentPort.on("message", (event) => {
    const message = event.data as { kind?: string } | null;
    const port = event.ports[0];
    if (message?.kind !== "connect" || port == null)
        return;
    const connection = rpc.connect({ send: (reply) => port.postMessage(reply) });
    port.on("message", (incoming) => connection.receive(incoming.data));
    port.on("close", () => connection.close());
    port.start();
});
