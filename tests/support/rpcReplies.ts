// The client side of the engine's RPC messages, whatever carries them: request ids, the requests
// waiting for their response, and the events received on the way. The in-process client
// (inProcessRpc.ts) and the WebSocket client of `tiller serve` (serve.test.ts) both route what the
// server sends through this, so they settle requests and collect events the same way. It imports only
// the contract's types: serve.test.ts talks to a separate process and must not load the engine.
import type { EngineEvents } from "../../engine/protocol/EngineContract.js";
import type { ServerMessage } from "../../engine/protocol/wire.js";
import type { TillerErrorCode } from "../../engine/protocol/TillerError.js";

/** An error response: the engine's error code and message. */
export class RpcError extends Error {
    public constructor(public readonly code: TillerErrorCode, message: string) {
        super(message);
    }
}

export class RpcReplies {
    /** every event received, in order */
    public readonly events: { event: keyof EngineEvents; data: any }[] = [];
    private readonly pending = new Map<string, { resolve(value: unknown): void; reject(error: unknown): void }>();
    private readonly eventWaiters: { test(event: keyof EngineEvents, data: any): boolean; resolve(data: any): void }[] = [];
    private next = 0;

    /** `idPrefix` starts every request id. */
    public constructor(private readonly idPrefix: string) {}

    /** A new request id and the promise its response settles; send the request after this, so no answer comes first. */
    public open<T>(): { id: string; result: Promise<T> } {
        const id = `${this.idPrefix}${this.next++}`;
        const result = new Promise<T>((resolve, reject) => {
            this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        });
        return { id, result };
    }

    /** Takes one message from the server: an event is kept (and wakes its waiters), an answer settles its request. */
    public receive(message: ServerMessage): void {
        if (message.kind === "event") {
            this.events.push({ event: message.event, data: message.data });
            for (const waiter of [...this.eventWaiters]) {
                if (waiter.test(message.event, message.data)) {
                    this.eventWaiters.splice(this.eventWaiters.indexOf(waiter), 1);
                    waiter.resolve(message.data);
                }
            }
            return;
        }
        const entry = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.kind === "response")
            entry?.resolve(message.result);
        else
            entry?.reject(new RpcError(message.error.code, message.error.message));
    }

    /** The data of the next event that passes `test`; events received before the call do not count. */
    public nextEvent(test: (event: keyof EngineEvents, data: any) => boolean): Promise<any> {
        return new Promise((resolve) => this.eventWaiters.push({ test, resolve }));
    }
}
