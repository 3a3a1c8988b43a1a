// The fair queue in front of `tiller serve`'s engine child: per-connection and total caps, round
// robin between connections, cancels that withdraw waiting requests, a full queue refused.
import { describe, expect, it } from "vitest";
import { FairRequestQueue, type MeteredMessage } from "../../engine/service/transport/fairRequestQueue.js";

const request = (id: string): MeteredMessage<string> => ({ kind: "request", id, payload: id });
const cancel = (id: string): MeteredMessage<string> => ({ kind: "cancel", id, payload: `cancel ${id}` });

function setup(limits = { perConnection: 2, total: 3, queuedPerConnection: 5 }) {
    const forwarded: string[] = [];
    const queue = new FairRequestQueue<string>((conn, payload) => forwarded.push(`${conn}:${payload}`), limits);
    return { queue, forwarded };
}

describe("FairRequestQueue", () => {
    it("holds everything until open, then forwards up to the per-connection cap", () => {
        const { queue, forwarded } = setup({ perConnection: 2, total: 10, queuedPerConnection: 10 });
        queue.addConnection(1);
        for (const id of ["a", "b", "c"]) queue.submit(1, request(id));
        expect(forwarded).toEqual([]);
        queue.setOpen(true);
        expect(forwarded).toEqual(["1:a", "1:b"]);
        queue.settled(1, "a");
        expect(forwarded).toEqual(["1:a", "1:b", "1:c"]);
    });

    it("a flooding connection cannot keep another's requests waiting: each free slot goes to the connection with the fewest in the engine", () => {
        const { queue, forwarded } = setup({ perConnection: 2, total: 3, queuedPerConnection: 100 });
        queue.setOpen(true);
        queue.addConnection(1);
        queue.addConnection(2);
        for (let i = 0; i < 50; i++) queue.submit(1, request(`a${i}`));
        expect(forwarded).toEqual(["1:a0", "1:a1"]);
        queue.submit(2, request("b0"));
        queue.submit(2, request("b1"));
        queue.submit(2, request("b2"));
        expect(forwarded).toEqual(["1:a0", "1:a1", "2:b0"]);
        // answer the oldest request in the engine, again and again: b1 and b2 get slots long before
        // a's backlog is through (FIFO would put them after a49)
        const inEngine = ["a0", "a1", "b0"];
        while (forwarded.length < 9) {
            const oldest = inEngine.shift()!;
            queue.settled(oldest.startsWith("a") ? 1 : 2, oldest);
            inEngine.push(forwarded.at(-1)!.slice(2));
        }
        // (equal counts in the engine: the connection served longer ago goes first, so they alternate)
        expect(forwarded.slice(0, 9)).toEqual(["1:a0", "1:a1", "2:b0", "1:a2", "2:b1", "1:a3", "2:b2", "1:a4", "1:a5"]);
    });

    it("a cancel withdraws a waiting request, is forwarded once for one in the engine, and is dropped for an unknown id", () => {
        const { queue, forwarded } = setup({ perConnection: 1, total: 5, queuedPerConnection: 10 });
        queue.setOpen(true);
        queue.addConnection(1);
        queue.submit(1, request("a"));
        queue.submit(1, request("b"));
        expect(queue.submit(1, cancel("b"))).toBe("withdrawn");
        expect(queue.waitingCount(1)).toBe(0);
        expect(queue.submit(1, cancel("a"))).toBe("dropped");
        expect(queue.submit(1, cancel("a"))).toBe("dropped");
        expect(queue.submit(1, cancel("zzz"))).toBe("dropped");
        expect(forwarded).toEqual(["1:a", "1:cancel a"]);
    });

    it("refuses past the per-connection queue limit, and frees a closed connection's slots", () => {
        const { queue, forwarded } = setup({ perConnection: 1, total: 1, queuedPerConnection: 2 });
        queue.setOpen(true);
        queue.addConnection(1);
        queue.addConnection(2);
        expect(queue.submit(1, request("a"))).toBe("queued");
        expect(queue.submit(1, request("b"))).toBe("queued");
        expect(queue.submit(1, request("c"))).toBe("queued");
        expect(queue.submit(1, request("d"))).toBe("refused");
        queue.submit(2, request("x"));
        expect(forwarded).toEqual(["1:a"]);
        queue.removeConnection(1);
        expect(forwarded).toEqual(["1:a", "2:x"]);
        expect(queue.submit(1, request("e"))).toBe("dropped");
    });
});
