// The EngineClient the renderer codes against: the contract's interface, whose request options
// also take the request's progress listener (the contract keys `progress` events by request id,
// which only the transport knows).
import type { EngineEvents, EngineMethod, EngineParams, EngineResult } from "../../../engine/protocol/EngineContract";
import type { EngineClient } from "../../../engine/protocol/wire";

export interface RequestOptions {
    signal?: AbortSignal;
    /** `progress` events of this request */
    onProgress?: (progress: EngineEvents["progress"]) => void;
}

export interface RendererEngineClient extends EngineClient {
    request<M extends EngineMethod>(method: M, params: EngineParams<M>, options?: RequestOptions): Promise<EngineResult<M>>;
}
