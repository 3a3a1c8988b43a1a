// Measures what the user sees: the time from the engine emitting a token (its wall clock, carried
// in `run.token`) to that token standing in the DOM. Samples are read by the e2e suite, which
// reports their median; nothing here changes behaviour.

const maxSamples = 20_000;

interface LatencyProbe {
    samples: number[];
}

declare global {
    interface Window {
        __tillerTokenLatency?: LatencyProbe;
    }
}

function probe(): LatencyProbe {
    window.__tillerTokenLatency ??= { samples: [] };
    return window.__tillerTokenLatency;
}

/**
 * Call right after handing tokens to the stores: React commits store updates before the next
 * task, so a zero-delay timeout runs once they are in the DOM. Tokens scrolled out of a
 * virtualised strip are not in the DOM and are not counted.
 */
export function recordTokenLatency(tokens: readonly { index: number; emittedAt: number }[]): void {
    if (tokens.length === 0)
        return;
    setTimeout(() => {
        const now = Date.now();
        const samples = probe().samples;
        for (const token of tokens) {
            if (samples.length >= maxSamples)
                return;
            if (document.querySelector(`[data-testid="token"][data-index="${token.index}"]`) != null)
                samples.push(now - token.emittedAt);
        }
    }, 0);
}
