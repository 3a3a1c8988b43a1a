/**
 * An unbounded single-consumer queue exposed as an async iterable: the producer never waits for
 * the consumer (a generation runs at the engine's pace whatever reads it).
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
    private readonly items: T[] = [];
    private waiting: ((result: IteratorResult<T>) => void) | undefined;
    private failure: { error: unknown } | undefined;
    private closed = false;

    public push(item: T): void {
        if (this.closed)
            return;
        if (this.waiting != null) {
            const resolve = this.waiting;
            this.waiting = undefined;
            resolve({ value: item, done: false });
        } else
            this.items.push(item);
    }

    public close(): void {
        this.closed = true;
        this.waiting?.({ value: undefined, done: true });
        this.waiting = undefined;
    }

    public fail(error: unknown): void {
        this.failure = { error };
        this.closed = true;
        const resolve = this.waiting;
        this.waiting = undefined;
        resolve?.({ value: undefined, done: true });
    }

    public async *[Symbol.asyncIterator](): AsyncIterator<T> {
        for (;;) {
            if (this.items.length > 0) {
                yield this.items.shift()!;
                continue;
            }
            if (this.failure != null)
                throw this.failure.error;
            if (this.closed)
                return;
            const next = await new Promise<IteratorResult<T>>((resolve) => {
                this.waiting = resolve;
            });
            if (next.done) {
                const failure = this.failure as { error: unknown } | undefined; // set while we waited
                if (failure != null)
                    throw failure.error;
                return;
            }
            yield next.value;
        }
    }
}
