// Measures what the user sees: the time from the engine emitting a token (its wall clock, carried
// in `run.token`) to that token standing in the DOM, and, to tell transport from rendering apart,
// the time to its arrival in the page. Off unless a reader (the e2e suite) installs
// `window.__tillerTokenLatency`; then it costs a map insert per token and a lookup per mount.

const maxSamples = 20_000;

interface LatencyProbe {
    /** emitted → mounted in the DOM, ms */
    samples: number[];
    /** emitted → received by the page, ms */
    arrivals?: number[];
}

declare global {
    interface Window {
        __tillerTokenLatency?: LatencyProbe;
    }
}

/** generated token index → the engine's emittedAt, until the token mounts */
const awaitingMount = new Map<number, number>();

/** The page received a token (called by the event router, before any batching). */
export function noteTokenReceived(index: number, emittedAt: number): void {
    const probe = window.__tillerTokenLatency;
    if (probe == null)
        return;
    if (index === 0)
        awaitingMount.clear(); // a new run: tokens of the last one that never mounted are moot
    awaitingMount.set(index, emittedAt);
    probe.arrivals ??= [];
    if (probe.arrivals.length < maxSamples)
        probe.arrivals.push(Date.now() - emittedAt);
}

/**
 * A strip token's element was inserted (called from its layout effect, i.e. in the commit that
 * put it in the DOM). Tokens scrolled out of a virtualised strip never mount and are not counted.
 */
export function noteTokenMounted(index: number): void {
    const probe = window.__tillerTokenLatency;
    if (probe == null)
        return;
    const emittedAt = awaitingMount.get(index);
    if (emittedAt == null)
        return; // remounted after scrolling back: not a first appearance
    awaitingMount.delete(index);
    if (probe.samples.length < maxSamples)
        probe.samples.push(Date.now() - emittedAt);
}
