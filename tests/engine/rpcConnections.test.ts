// Request ids belong to the connection that chose them: every client numbers its requests r0, r1, …,
// so two tabs (or a reload during a sweep) send the same ids. A cancel or a closed connection must
// reach only that client's own requests, and a request's progress only the client that sent it.
// Real engine, stories260K, two connections to one EngineRpcServer.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineRpcServer } from "../../engine/service/EngineRpcServer.js";
import { EngineService } from "../../engine/service/EngineService.js";
import { RpcError, RpcReplies } from "../support/rpcReplies.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

/** One connection to the shared server, numbering its requests r0, r1, … like the real clients. */
class Client {
    public readonly replies = new RpcReplies("r");
    private readonly link: ReturnType<EngineRpcServer["connect"]>;

    public constructor(server: EngineRpcServer) {
        this.link = server.connect({ send: (message) => this.replies.receive(JSON.parse(JSON.stringify(message))) });
    }

    public start(method: string, params: unknown): { id: string; result: Promise<any> } {
        const { id, result } = this.replies.open<any>();
        this.link.receive(JSON.stringify({ kind: "request", id, method, params }));
        result.catch(() => undefined); // observed by the test through `settle`
        return { id, result };
    }

    public cancel(id: string): void {
        this.link.receive(JSON.stringify({ kind: "cancel", id }));
    }

    public close(): void {
        this.link.close();
    }
}

/** "ok" or the error code the request ended with */
async function settle(result: Promise<unknown>): Promise<string> {
    try {
        await result;
        return "ok";
    } catch (error) {
        return error instanceof RpcError ? error.code : `thrown: ${String(error)}`;
    }
}

describe.skipIf(missing(sharedFiles.stories260K))("request ids are scoped to their connection", () => {
    let dataDir: string;
    let service: EngineService;
    let server: EngineRpcServer;

    beforeAll(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-rpc-conn-"));
        service = new EngineService({ dataDir, threads: 1 });
        server = new EngineRpcServer(service);
        await service.loadModel({ path: sharedFiles.stories260K, gpuLayers: 0, contextSize: 512, threads: 1 }, { requestId: "setup", signal: new AbortController().signal });
    }, 120_000);
    afterAll(async () => {
        await server?.dispose();
        if (dataDir != null)
            fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("a cancel from one client does not abort another client's request with the same id", async () => {
        const a = new Client(server);
        const b = new Client(server);
        const build = { dataset: "sentiment", readAt: "mean" };
        // b sends first, then a: with one global id map, a's entry replaced b's and b's cancel hit a
        const fromB = b.start("vectors.build", build);
        const fromA = a.start("vectors.build", build);
        expect(fromA.id).toBe(fromB.id);
        b.cancel(fromB.id);
        expect(await settle(fromB.result)).toBe("ABORTED");
        expect(await settle(fromA.result)).toBe("ok");
        // a's progress reached a under a's id, and none of it reached b
        expect(a.replies.events.some((entry) => entry.event === "progress" && entry.data.requestId === fromA.id && entry.data.label === "building the vector")).toBe(true);
        expect(b.replies.events.filter((entry) => entry.event === "progress" && entry.data.label === "building the vector" && entry.data.done > 0)).toEqual([]);
        a.close();
        b.close();
    }, 120_000);

    it("closing one client aborts only its own requests", async () => {
        const a = new Client(server);
        const b = new Client(server);
        const build = { dataset: "sentiment", readAt: "mean" };
        const fromB = b.start("vectors.build", build);
        const fromA = a.start("vectors.build", build);
        expect(fromA.id).toBe(fromB.id);
        b.close(); // a closed tab
        expect(await settle(fromA.result)).toBe("ok");
        a.close();
    }, 120_000);

    it("a second request with an id still in flight on the same connection is refused, the first one goes on", async () => {
        const replies: { kind: string; id: string }[] = [];
        const raw = server.connect({ send: (message) => replies.push(JSON.parse(JSON.stringify(message))) });
        raw.receive(JSON.stringify({ kind: "request", id: "x", method: "vectors.build", params: { dataset: "sentiment", readAt: "mean" } }));
        raw.receive(JSON.stringify({ kind: "request", id: "x", method: "engine.info", params: {} }));
        expect(replies[0]).toMatchObject({ kind: "error", id: "x", error: { code: "INVALID_ARGUMENT", message: expect.stringMatching(/already in flight/) } });
        for (let i = 0; i < 3000 && !replies.some((reply) => reply.kind === "response"); i++)
            await new Promise((resolve) => setTimeout(resolve, 20));
        expect(replies.filter((reply) => reply.kind !== "event").map((reply) => reply.kind)).toEqual(["error", "response"]);
        raw.close();
    }, 120_000);
});
