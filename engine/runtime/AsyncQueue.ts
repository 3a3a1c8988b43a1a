/**
 * An unbounded single-consumer queue exposed as an async iterable: the producer never waits for
 * the consumer (a generation runs at the engine's pace whatever reads it). Items pushed before a
 * failure are delivered before it. The iterator is written out rather than an async generator:
 * a generation hands on every token through it, and a generator's extra promises per item showed
 * up in the per-token cost.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
    private items: T[] = [];
    private head = 0;
    private waiting: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void } | undefined;
    private failure: { error: unknown } | undefined;
    private closed = false;

    public push(item: T): void {
        if (this.closed)
            return;
        if (this.waiting != null) {
            const { resolve } = this.waiting;
            this.waiting = undefined;
            resolve({ value: item, done: false });
        } else
            this.items.push(item);
    }

    public close(): void {
        this.closed = true;
        this.settleWaiting();
    }

    public fail(error: unknown): void {
        if (this.closed)
            return;
        this.failure = { error };
        this.closed = true;
        this.settleWaiting();
    }

    private settleWaiting(): void {
        const waiting = this.waiting;
        this.waiting = undefined;
        if (waiting == null)
            return;
        if (this.failure != null)
            waiting.reject(this.failure.error);
        else
            waiting.resolve({ value: undefined, done: true });
    }

    private next(): Promise<IteratorResult<T>> {
        if (this.head < this.items.length) {
            const value = this.items[this.head++]!;
            if (this.head === this.items.length) {
                this.items = [];
                this.head = 0;
            }
            return Promise.resolve({ value, done: false });
        }
        if (this.failure != null)
            return Promise.reject(this.failure.error);
        if (this.closed)
            return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
            this.waiting = { resolve, reject };
        });
    }

    public [Symbol.asyncIterator](): AsyncIterator<T> {
        return {
            next: () => this.next(),
            // the consumer stopped reading (break, throw): nothing to release, the producer never waits
            return: () => Promise.resolve({ value: undefined, done: true })
        };
    }
}
