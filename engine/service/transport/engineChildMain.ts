// Entry point of the engine when `tiller serve` runs it as a child process (EngineProcessHost is
// the parent). A native crash in llama.cpp ends this process only; the parent keeps the HTTP and
// WebSocket server up and starts a fresh engine.
//
// IPC with the parent (Node's child_process channel):
//   parent → child  {kind:"connect"|"close", conn}  {kind:"message", conn, data}
//   child → parent  {kind:"ready", error?}          {kind:"frame", conn, frame}  (frame: a JSON ServerMessage)
// Frames go out already serialised, so the parent forwards them to the WebSocket untouched.
import { toTillerErrorPayload } from "../../protocol/TillerError.js";
import { EngineRpcServer } from "../EngineRpcServer.js";
import { EngineService } from "../EngineService.js";
import type { ChildToHost, HostToChild } from "./engineChildMessages.js";

const send = process.send?.bind(process);
if (send == null)
    throw new Error("engineChildMain must run as a child process with an IPC channel (EngineProcessHost)");

const post = (message: ChildToHost): void => {
    send(message);
};

const threads = process.env.TILLER_ENGINE_THREADS != null ? Number(process.env.TILLER_ENGINE_THREADS) : undefined;
const service = new EngineService({ threads }); // the data dir comes from $TILLER_DATA_DIR (defaultDataDir)
const rpc = new EngineRpcServer(service);
const connections = new Map<number, ReturnType<EngineRpcServer["connect"]>>();

process.on("message", (message: HostToChild) => {
    switch (message.kind) {
        case "connect":
            connections.set(message.conn, rpc.connect({ send: (reply) => post({ kind: "frame", conn: message.conn, frame: JSON.stringify(reply) }) }));
            break;
        case "message":
            connections.get(message.conn)?.receive(message.data);
            break;
        case "close":
            connections.get(message.conn)?.close();
            connections.delete(message.conn);
            break;
    }
});

// the parent went away (killed, crashed): nothing is left to serve
process.on("disconnect", () => process.exit(0));

const startupModel = process.env.TILLER_ENGINE_MODEL;
if (startupModel != null && startupModel !== "") {
    service.loadModel({ path: startupModel }, { requestId: "startup", signal: new AbortController().signal })
        .then(() => post({ kind: "ready" }), (error: unknown) => post({ kind: "ready", error: toTillerErrorPayload(error) }));
} else {
    post({ kind: "ready" });
}
