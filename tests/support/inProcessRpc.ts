// A client of the real EngineRpcServer in this process: every request goes through the server's zod
// validation and error mapping exactly as over a WebSocket, without a socket. It collects events and
// can cancel a request, like the renderer's clients.
import type { EngineEvents, EngineMethod, EngineParams, EngineResult } from "../../engine/protocol/EngineContract.js";
import { EngineRpcServer } from "../../engine/service/EngineRpcServer.js";
import type { EngineService } from "../../engine/service/EngineService.js";
import { RpcError, RpcReplies } from "./rpcReplies.js";

export { RpcError };

export class InProcessRpcClient {
    private readonly replies = new RpcReplies("t");
    public readonly events = this.replies.events;
    private readonly server: EngineRpcServer;
    private readonly link: { receive(raw: unknown): void; close(): void };

    public constructor(service: EngineService) {
        this.server = new EngineRpcServer(service);
        this.link = this.server.connect({ send: (message) => this.replies.receive(message) });
    }

    /** Sends a request; `id` is the request id its progress events carry. */
    public start<M extends EngineMethod>(method: M, params: EngineParams<M>): { id: string; result: Promise<EngineResult<M>> } {
        const { id, result } = this.replies.open<EngineResult<M>>();
        // round-trip through JSON as a transport would
        this.link.receive(JSON.stringify({ kind: "request", id, method, params }));
        return { id, result };
    }

    public request<M extends EngineMethod>(method: M, params: EngineParams<M>): Promise<EngineResult<M>> {
        return this.start(method, params).result;
    }

    public cancel(id: string): void {
        this.link.receive(JSON.stringify({ kind: "cancel", id }));
    }

    /** The error a request fails with (fails the test when it succeeds). */
    public async failure<M extends EngineMethod>(method: M, params: EngineParams<M>): Promise<RpcError> {
        const outcome = await this.request(method, params).then(() => null, (error: unknown) => error);
        if (!(outcome instanceof RpcError))
            throw new Error(`${method} was expected to fail, but it ${outcome == null ? "succeeded" : `threw ${String(outcome)}`}`);
        return outcome;
    }

    /** Polls the collected events until one passes `test`. */
    public async waitForEvent<E extends keyof EngineEvents>(event: E, test: (data: EngineEvents[E]) => boolean, timeoutMs = 60_000): Promise<EngineEvents[E]> {
        const started = Date.now();
        for (;;) {
            const found = this.events.find((entry) => entry.event === event && test(entry.data));
            if (found != null)
                return found.data;
            if (Date.now() - started > timeoutMs)
                throw new Error(`no ${event} event within ${timeoutMs} ms`);
            await new Promise((resolve) => setTimeout(resolve, 10));
        }
    }

    public async close(): Promise<void> {
        this.link.close();
        await this.server.dispose();
    }
}
