// One cold engine for bench/startup.bench.ts, run as its own process: builds the engine service
// and its RPC server in process (every request goes through the server's parsing and validation),
// then times `model.load` of the model in argv[2] twice (the first includes starting llama.cpp's
// backend, the second is a reload on the running engine). Prints one JSON line:
// { importedMs, firstLoadMs, reloadMs } — importedMs from process start (performance.now()).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { EngineRpcServer } from "../engine/service/EngineRpcServer.js";
import { EngineService } from "../engine/service/EngineService.js";

const importedMs = performance.now();
const [modelPath, threadsText] = process.argv.slice(2);
if (modelPath == null)
    throw new Error("usage: startupRpcProbe.js MODEL [THREADS]");
const threads = Number(threadsText ?? os.availableParallelism());

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-bench-startup-rpc-"));
const service = new EngineService({ dataDir, threads });
const server = new EngineRpcServer(service);
const pending = new Map<string, (message: { kind: string }) => void>();
const link = server.connect({
    send: (message) => {
        const parsed = (typeof message === "string" ? JSON.parse(message) : message) as { kind: string; id?: string };
        if (parsed.id != null && parsed.kind !== "event")
            pending.get(parsed.id)?.(parsed);
    }
});
const request = (id: string, method: string, params: unknown) => new Promise<{ kind: string }>((resolve) => {
    pending.set(id, resolve);
    link.receive(JSON.stringify({ kind: "request", id, method, params }));
});

async function timedLoad(id: string): Promise<number> {
    const start = performance.now();
    const reply = await request(id, "model.load", { path: modelPath, threads });
    const ms = performance.now() - start;
    if (reply.kind !== "response")
        throw new Error(`model.load failed: ${JSON.stringify(reply)}`);
    return ms;
}

const firstLoadMs = await timedLoad("load-1");
await request("unload-1", "model.unload", {});
const reloadMs = await timedLoad("load-2");
await request("unload-2", "model.unload", {});
link.close();
await service.dispose();
fs.rmSync(dataDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ importedMs, firstLoadMs, reloadMs })}\n`);
process.exit(0);
