// The engine's side of EngineProcessHost, whatever carries the host's messages: Node's IPC channel
// (engineChildMain, under `tiller serve`) or Electron's parentPort (utilityProcessMain, under the
// desktop app). One connection to the RPC server per host connection id.
//   host → child  {kind:"connect"|"close", conn}  {kind:"message", conn, data}
//   child → host  {kind:"ready", error?}          {kind:"frame", conn, frame}  (frame: a JSON ServerMessage)
//                 {kind:"settled", conn, id}      (done with one message: the host's fair queue meters by it)
// Frames go out already serialised, so the host forwards them to its clients untouched.
import { toTillerErrorPayload } from "../../protocol/TillerError.js";
import { EngineRpcServer } from "../EngineRpcServer.js";
import { EngineService } from "../EngineService.js";
import { decodePriorityFromEnv } from "../../runtime/decodePriority.js";
import type { ChildToHost, HostToChild } from "./engineChildMessages.js";

export interface HostChannel {
    post(message: ChildToHost): void;
    onMessage(listener: (message: HostToChild) => void): void;
}

/** Serves the engine to the host on `channel`; loads $TILLER_ENGINE_MODEL first when it is set. */
export function serveEngineChild(channel: HostChannel): void {
    const threads = process.env.TILLER_ENGINE_THREADS != null ? Number(process.env.TILLER_ENGINE_THREADS) : undefined;
    // the data dir comes from $TILLER_DATA_DIR (defaultDataDir); the decode priority from $TILLER_DECODE_PRIORITY (default: background)
    let decodePriority;
    try {
        decodePriority = decodePriorityFromEnv();
    } catch (error) {
        channel.post({ kind: "ready", error: toTillerErrorPayload(error) }); // the host rejects its start with this message
        return;
    }
    const service = new EngineService({ threads, decodePriority });
    const rpc = new EngineRpcServer(service);
    const connections = new Map<number, ReturnType<EngineRpcServer["connect"]>>();

    channel.onMessage((message) => {
        switch (message.kind) {
            case "connect":
                connections.set(message.conn, rpc.connect({
                    send: (reply) => channel.post({ kind: "frame", conn: message.conn, frame: JSON.stringify(reply) }),
                    settled: (id) => channel.post({ kind: "settled", conn: message.conn, id })
                }));
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

    const startupModel = process.env.TILLER_ENGINE_MODEL;
    if (startupModel != null && startupModel !== "") {
        service.loadModel({ path: startupModel }, { requestId: "startup", signal: new AbortController().signal })
            .then(() => channel.post({ kind: "ready" }), (error: unknown) => channel.post({ kind: "ready", error: toTillerErrorPayload(error) }));
    } else {
        channel.post({ kind: "ready" });
    }
}
