// Fair sharing of the engine between `tiller serve`'s clients. The engine child reads its IPC
// channel in order, so a client that sends requests as fast as it can (while reading its answers,
// so backpressure never stops it) used to put thousands of its requests ahead of everyone else's:
// another tab's `engine.info` waited behind all of them. Here each connection's requests wait in
// its own queue; at most `perConnection` of a connection's, and `total` of everyone's, are in the
// engine at once, and each free slot goes to the waiting connection with the fewest in the engine. A request
// counts as in the engine from forwarding until the engine reports it settled (answered).
//
// Cancels do not queue: a cancel for a request still waiting here takes it out of the queue (the
// caller answers it ABORTED), one for a request in the engine is forwarded at once, and one for an
// unknown id is dropped (the engine would ignore it), so cancels cannot be used to flood either.

export interface FairQueueLimits {
    /** requests of one connection in the engine at once */
    perConnection: number;
    /** requests of all connections in the engine at once */
    total: number;
    /** requests one connection may have waiting here; more are refused (the caller answers BUSY) */
    queuedPerConnection: number;
}

/** 32 in the engine per connection: a pipelining client keeps most of its throughput, and another client waits behind at most 32 of its requests */
export const FAIR_QUEUE_LIMITS: FairQueueLimits = { perConnection: 32, total: 128, queuedPerConnection: 4096 };

/** A client message as far as metering needs it: the id of a request, or of the request a cancel is for. */
export interface MeteredMessage<T> {
    kind: "request" | "cancel" | "other";
    /** "" when the message carries no usable id (the engine answers it with an error) */
    id: string;
    payload: T;
}

interface ConnectionQueue<T> {
    waiting: Array<MeteredMessage<T>>;
    /** ids in the engine, with how many (a client may reuse an id; the engine refuses the second) */
    inEngine: Map<string, number>;
    inEngineCount: number;
    /** request ids whose cancel was already forwarded */
    cancelled: Set<string>;
    /** when it last got a slot (a counter) */
    lastServed: number;
}

export class FairRequestQueue<T> {
    private readonly connections = new Map<number, ConnectionQueue<T>>();
    /** connections with waiting messages */
    private turn: number[] = [];
    private inEngineTotal = 0;
    private served = 0;
    private open = false;

    public constructor(
        /** hands a message to the engine */
        private readonly forward: (conn: number, payload: T) => void,
        private readonly limits: FairQueueLimits = FAIR_QUEUE_LIMITS
    ) {}

    public addConnection(conn: number): void {
        this.connections.set(conn, { waiting: [], inEngine: new Map(), inEngineCount: 0, cancelled: new Set(), lastServed: 0 });
    }

    /** Forgets a connection: its waiting messages are dropped, its slots in the engine freed. */
    public removeConnection(conn: number): void {
        const queue = this.connections.get(conn);
        if (queue == null)
            return;
        this.connections.delete(conn);
        this.inEngineTotal -= queue.inEngineCount;
        this.turn = this.turn.filter((each) => each !== conn);
        this.pump();
    }

    /** Opens (the engine serves) or closes (it is starting) the way to the engine. */
    public setOpen(open: boolean): void {
        this.open = open;
        this.pump();
    }

    /** The engine is gone: nothing of anyone is in it any more, and every connection is dropped. */
    public reset(): void {
        this.connections.clear();
        this.turn = [];
        this.inEngineTotal = 0;
    }

    /**
     * Takes one client message. Returns "queued" (or forwarded), "refused" when the connection's
     * queue is full, or "withdrawn" when it was a cancel for a request that was still waiting here
     * (that request is removed and must be answered ABORTED by the caller).
     */
    public submit(conn: number, message: MeteredMessage<T>): "queued" | "refused" | "withdrawn" | "dropped" {
        const queue = this.connections.get(conn);
        if (queue == null)
            return "dropped";
        if (message.kind === "cancel") {
            const waitingAt = queue.waiting.findIndex((each) => each.kind === "request" && each.id === message.id);
            if (waitingAt >= 0) {
                queue.waiting.splice(waitingAt, 1);
                return "withdrawn";
            }
            if (queue.inEngine.has(message.id) && !queue.cancelled.has(message.id) && this.open) {
                queue.cancelled.add(message.id);
                this.send(conn, queue, message);
            }
            return "dropped";
        }
        if (queue.waiting.length >= this.limits.queuedPerConnection)
            return "refused";
        queue.waiting.push(message);
        if (queue.waiting.length === 1)
            this.turn.push(conn);
        this.pump();
        return "queued";
    }

    /** The engine is done with one of the connection's messages (its answer was sent). */
    public settled(conn: number, id: string): void {
        const queue = this.connections.get(conn);
        if (queue == null)
            return;
        const count = queue.inEngine.get(id);
        if (count == null)
            return; // a forwarded cancel (not metered) settling
        if (count <= 1) {
            queue.inEngine.delete(id);
            queue.cancelled.delete(id);
        } else {
            queue.inEngine.set(id, count - 1);
        }
        queue.inEngineCount--;
        this.inEngineTotal--;
        this.pump();
    }

    /** Waiting messages of a connection (for tests and the bench). */
    public waitingCount(conn: number): number {
        return this.connections.get(conn)?.waiting.length ?? 0;
    }

    private send(conn: number, queue: ConnectionQueue<T>, message: MeteredMessage<T>): void {
        if (message.kind !== "cancel") {
            queue.inEngine.set(message.id, (queue.inEngine.get(message.id) ?? 0) + 1);
            queue.inEngineCount++;
            this.inEngineTotal++;
        }
        this.forward(conn, message.payload);
    }

    /**
     * Hands out free slots one at a time: each goes to the waiting connection with the fewest
     * requests in the engine (ties: the one served longest ago), so a connection that floods gets
     * no more than its share while anyone else waits.
     */
    private pump(): void {
        if (!this.open)
            return;
        while (this.inEngineTotal < this.limits.total) {
            let best: { conn: number; queue: ConnectionQueue<T> } | undefined;
            this.turn = this.turn.filter((conn) => (this.connections.get(conn)?.waiting.length ?? 0) > 0);
            for (const conn of this.turn) {
                const queue = this.connections.get(conn)!;
                if (queue.inEngineCount >= this.limits.perConnection)
                    continue;
                if (best == null || queue.inEngineCount < best.queue.inEngineCount ||
                    (queue.inEngineCount === best.queue.inEngineCount && queue.lastServed < best.queue.lastServed))
                    best = { conn, queue };
            }
            if (best == null)
                return;
            best.queue.lastServed = ++this.served;
            this.send(best.conn, best.queue, best.queue.waiting.shift()!);
        }
    }
}
