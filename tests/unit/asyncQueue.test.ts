// The queue a generation hands its tokens through: order kept whether the consumer waits or lags,
// buffered items delivered before a failure, a failure while waiting rejects, a consumer that
// stops early is let go.
import { describe, expect, it } from "vitest";
import { AsyncQueue } from "../../engine/runtime/AsyncQueue.js";

async function drain<T>(queue: AsyncQueue<T>): Promise<{ items: T[]; error?: unknown }> {
    const items: T[] = [];
    try {
        for await (const item of queue)
            items.push(item);
    } catch (error) {
        return { items, error };
    }
    return { items };
}

describe("AsyncQueue", () => {
    it("delivers in order to a consumer that waits and to one that lags", async () => {
        const queue = new AsyncQueue<number>();
        const waiting = drain(queue);
        for (let i = 0; i < 5; i++) {
            queue.push(i);
            await Promise.resolve();
        }
        for (let i = 5; i < 1000; i++)
            queue.push(i); // buffered: the consumer has not resumed yet
        queue.close();
        expect((await waiting).items).toEqual(Array.from({ length: 1000 }, (_, i) => i));

        const lagging = new AsyncQueue<string>();
        lagging.push("a");
        lagging.push("b");
        lagging.close();
        lagging.push("after close");
        expect(await drain(lagging)).toEqual({ items: ["a", "b"] });
    });

    it("hands on what was pushed before a failure, then the failure", async () => {
        const queue = new AsyncQueue<number>();
        queue.push(1);
        queue.push(2);
        queue.fail(new Error("decode failed"));
        const { items, error } = await drain(queue);
        expect(items).toEqual([1, 2]);
        expect((error as Error).message).toBe("decode failed");
    });

    it("a failure while the consumer waits rejects its read", async () => {
        const queue = new AsyncQueue<number>();
        const waiting = drain(queue);
        queue.push(7);
        await Promise.resolve();
        await Promise.resolve();
        queue.fail(new Error("model unloaded"));
        const { items, error } = await waiting;
        expect(items).toEqual([7]);
        expect((error as Error).message).toBe("model unloaded");
    });

    it("a consumer may stop early; the producer keeps pushing without error", async () => {
        const queue = new AsyncQueue<number>();
        for (let i = 0; i < 10; i++)
            queue.push(i);
        const seen: number[] = [];
        for await (const item of queue) {
            seen.push(item);
            if (item === 2)
                break;
        }
        expect(seen).toEqual([0, 1, 2]);
        queue.push(10);
        queue.close();
    });
});
