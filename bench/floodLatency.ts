// A well-behaved client's latency while another client floods the engine: the flooder keeps
// `backlog` engine.info requests outstanding (it reads every answer and sends a new request for
// each, so backpressure never slows it), while the polite client sends one engine.info at a time
// and times each round trip. Used by the fairness test and the bench's reliability section, against
// any RpcEndpoint (in practice `tiller serve`'s EngineProcessHost with a real engine child).
import type { ServerMessage } from "../engine/protocol/wire.js";
import type { RpcClientLink, RpcEndpoint } from "../engine/service/transport/rpcEndpoint.js";

export interface FloodLatencyOptions {
    /** requests the flooder keeps outstanding */
    backlog: number;
    /** the polite client's round trips */
    samples: number;
    /** give up on one round trip after this long */
    timeoutMs?: number;
}

export interface FloodLatencyResult {
    /** the polite client's round trips, milliseconds, in order */
    latencies: number[];
    /** answers the flooder got meanwhile */
    floodAnswers: number;
}

/** A client link that hands every answer (frame or object) to `onAnswer` as a parsed message. */
function link(onAnswer: (message: ServerMessage) => void): RpcClientLink {
    return {
        send: (message) => onAnswer(message),
        sendText: (frame) => onAnswer(JSON.parse(frame) as ServerMessage),
        drop: () => undefined
    };
}

const info = (id: string) => JSON.stringify({ kind: "request", id, method: "engine.info", params: {} });

export async function measureFloodLatency(endpoint: RpcEndpoint, options: FloodLatencyOptions): Promise<FloodLatencyResult> {
    let flooding = true;
    let floodAnswers = 0;
    let nextFlood = 0;
    const flooder = endpoint.connect(link((message) => {
        if (message.kind === "event")
            return;
        floodAnswers++;
        if (flooding)
            flooder.receive(info(`f${nextFlood++}`));
    }));
    const waiting = new Map<string, (message: ServerMessage) => void>();
    const polite = endpoint.connect(link((message) => {
        if (message.kind !== "event")
            waiting.get(message.id)?.(message);
    }));
    const roundTrip = (id: string) => new Promise<number>((resolve, reject) => {
        const started = performance.now();
        const timer = setTimeout(() => reject(new Error(`the polite client's ${id} got no answer within ${options.timeoutMs ?? 60_000} ms`)), options.timeoutMs ?? 60_000);
        waiting.set(id, (message) => {
            clearTimeout(timer);
            waiting.delete(id);
            if (message.kind === "error")
                reject(new Error(`${id}: ${message.error.code} ${message.error.message}`));
            else
                resolve(performance.now() - started);
        });
        polite.receive(info(id));
    });
    try {
        await roundTrip("warm-up"); // the engine's first engine.info loads the backend: not a sample
        for (let i = 0; i < options.backlog; i++)
            flooder.receive(info(`f${nextFlood++}`));
        const latencies: number[] = [];
        for (let i = 0; i < options.samples; i++)
            latencies.push(await roundTrip(`p${i}`));
        return { latencies, floodAnswers };
    } finally {
        flooding = false;
        flooder.close();
        polite.close();
    }
}

export function quantileOf(values: readonly number[], q: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}
