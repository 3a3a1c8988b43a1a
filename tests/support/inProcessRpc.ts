// A client of the real EngineRpcServer in this process: every request goes through the server's zod
// validation and error mapping exactly as over a WebSocket, without a socket. It collects events and
// can cancel a request, like the renderer's clients.
import type { EngineEvents, EngineMethod, EngineParams, EngineResult, ServerMessage } from "../../engine/protocol/EngineContract.js";
import type { TillerErrorCode } from "../../engine/protocol/TillerError.js";
import { EngineRpcServer } from "../../engine/service/EngineRpcServer.js";
import type { EngineService } from "../../engine/service/EngineService.js";

export class RpcError extends Error {
    public constructor(public readonly code: TillerErrorCode, message: string) {
        super(message);
    }
}

export class InProcessRpcClient {
    public readonly events: { event: keyof EngineEvents; data: any }[] = [];
    private readonly server: EngineRpcServer;
    private readonly pending = new Map<string, { resolve(value: unknown): void; reject(error: unknown): void }>();
    private readonly link: { receive(raw: unknown): void; close(): void };
    private next = 0;

    public constructor(service: EngineService) {
        this.server = new EngineRpcServer(service);
        this.link = this.server.connect({ send: (message) => this.onMessage(message) });
    }

    private onMessage(message: ServerMessage): void {
        if (message.kind === "event") {
            this.events.push({ event: message.event, data: message.data });
            return;
        }
        const entry = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.kind === "response")
            entry?.resolve(message.result);
        else
            entry?.reject(new RpcError(message.error.code, message.error.message));
    }

    /** Sends a request; `id` is the request id its progress events carry. */
    public start<M extends EngineMethod>(method: M, params: EngineParams<M>): { id: string; result: Promise<EngineResult<M>> } {
        const id = `t${this.next++}`;
        const result = new Promise<EngineResult<M>>((resolve, reject) => {
            this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        });
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
