// Measures what the user sees: the time from the engine emitting a token (its wall clock, carried
// in `run.token`) to the first paint with that token in the DOM, and, to tell transport from
// rendering apart, the time to its arrival in the page (and from arrival to paint). Off unless a
// reader (the e2e suite) installs `window.__tillerTokenLatency`; then it costs a map insert per
// token, a lookup per mount and one message per committed frame.

const maxSamples = 20_000;

interface LatencyProbe {
    /** emitted → painted, ms */
    samples: number[];
    /** emitted → received by the page, ms */
    arrivals?: number[];
    /** received by the page → painted, ms (the renderer's own share) */
    renders?: number[];
}

declare global {
    interface Window {
        __tillerTokenLatency?: LatencyProbe;
    }
}

/** generated token index → when the engine emitted it and when the page received it (both epoch ms) */
const awaitingMount = new Map<number, { emittedAt: number; receivedAt: number }>();
/** mounted in the current commit, waiting for the paint that shows them */
let awaitingPaint: { emittedAt: number; receivedAt: number }[] = [];
/** true while the run event router delivers from an animation-frame callback */
let inFrameCallback = false;

/** The page received a token (called by the event router, before any batching). */
export function noteTokenReceived(index: number, emittedAt: number): void {
    const probe = window.__tillerTokenLatency;
    if (probe == null)
        return;
    if (index === 0)
        awaitingMount.clear(); // a new run: tokens of the last one that never mounted are moot
    const receivedAt = Date.now();
    awaitingMount.set(index, { emittedAt, receivedAt });
    probe.arrivals ??= [];
    if (probe.arrivals.length < maxSamples)
        probe.arrivals.push(receivedAt - emittedAt);
}

/**
 * Runs `deliver` marked as inside an animation-frame callback (see `afterPaint`). The mark lasts
 * through the microtasks `deliver` queued: React commits a store update in a microtask.
 */
export function deliverInFrame(deliver: () => void): void {
    inFrameCallback = true;
    try {
        deliver();
    } finally {
        queueMicrotask(() => {
            inFrameCallback = false;
        });
    }
}

/**
 * A strip token's element was inserted (called from its layout effect, i.e. in the commit that
 * put it in the DOM). The sample is taken after the paint that follows. Tokens scrolled out of a
 * virtualised strip never mount and are not counted.
 */
export function noteTokenMounted(index: number): void {
    if (window.__tillerTokenLatency == null)
        return;
    const times = awaitingMount.get(index);
    if (times == null)
        return; // remounted after scrolling back: not a first appearance
    awaitingMount.delete(index);
    if (awaitingPaint.length === 0)
        afterPaint(recordPainted);
    awaitingPaint.push(times);
}

function recordPainted(): void {
    const probe = window.__tillerTokenLatency;
    const painted = awaitingPaint;
    awaitingPaint = [];
    if (probe == null)
        return;
    const now = Date.now();
    probe.renders ??= [];
    for (const { emittedAt, receivedAt } of painted) {
        if (probe.samples.length < maxSamples)
            probe.samples.push(now - emittedAt);
        if (probe.renders.length < maxSamples)
            probe.renders.push(now - receivedAt);
    }
}

/**
 * Calls `callback` once the frame that shows the current DOM has been painted: a task queued from
 * inside an animation-frame callback runs after that frame's style, layout and paint; a commit
 * outside a frame (the router's fallback timer, a scroll) first waits for the next frame.
 */
function afterPaint(callback: () => void): void {
    const queueTask = (): void => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
            channel.port1.close();
            callback();
        };
        channel.port2.postMessage(null);
    };
    if (inFrameCallback)
        queueTask();
    else
        requestAnimationFrame(queueTask);
}
