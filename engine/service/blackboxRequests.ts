// The blackbox.* requests: localisation against an HTTP log-prob oracle, run by the engine on the
// renderer's behalf. Needs no loaded model. The API key lives only as long as the request.
import type { BlackboxLocateParams, LocateResult } from "../protocol/blackbox.js";
import type { EngineEvents } from "../protocol/EngineContract.js";
import { HttpCompletionsOracle } from "../blackbox/HttpCompletionsOracle.js";
import { locateTrigger } from "../blackbox/locateTrigger.js";
import type { RequestContext } from "./requestContext.js";

/** What the blackbox requests need from the engine service. */
export interface BlackboxRequestsHost {
    emitProgress(data: EngineEvents["progress"]): void;
}

export class BlackboxRequests {
    public constructor(private readonly host: BlackboxRequestsHost) {}

    public locate(params: BlackboxLocateParams, request: RequestContext): Promise<LocateResult> {
        const oracle = new HttpCompletionsOracle({
            endpoint: params.endpoint, apiKey: params.apiKey, model: params.model,
            budget: params.budget ?? 400, timeoutMs: (params.timeoutSeconds ?? 30) * 1000
        });
        return locateTrigger(oracle, {
            prompt: params.prompt, probe: params.probe, bridge: params.bridge, carrier: params.carrier, signal: request.signal,
            onProgress: (progress) => this.host.emitProgress({ requestId: request.requestId, done: progress.queries, total: progress.budget, label: progress.phase })
        });
    }
}
