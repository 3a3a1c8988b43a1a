// Picks the transport at the edge (DESIGN.md §1): the Electron preload's engine when there is one,
// otherwise the WebSocket of `tiller serve` on the page's own origin.
import type { EngineEventName, EngineEvents, EngineMethod, EngineParams, EngineResult } from "../../../engine/protocol/EngineContract";
import { TillerError } from "../../../engine/protocol/TillerError";
import type { RendererEngineClient, RequestOptions } from "./RendererEngineClient";
import type { EngineConnectionState, PreloadEngine } from "./tillerPreload";
import { WebSocketEngineClient, engineSocketUrl, toTillerError } from "./WebSocketEngineClient";

let client: RendererEngineClient | null = null;

export function getEngineClient(): RendererEngineClient {
    if (client == null) {
        const preload = typeof window !== "undefined" ? window.tiller?.engine : undefined;
        client = preload != null ? new PreloadEngineClient(preload) : new WebSocketEngineClient(engineSocketUrl(window.location));
    }
    return client;
}

/**
 * Adapts the preload's engine: keeps the connection state itself (contextBridge copies no getters),
 * turns errors that lost their class crossing the bridge back into TillerErrors, names each
 * request so that an abort cancels it in the engine and its progress events reach it alone.
 */
class PreloadEngineClient implements RendererEngineClient {
    private currentState: EngineConnectionState;
    private nextId = 1;

    public constructor(private readonly engine: PreloadEngine) {
        this.currentState = engine.getState?.() ?? engine.state ?? "connected";
        engine.onStateChange((state) => {
            this.currentState = state;
        });
    }

    public get state(): EngineConnectionState {
        return this.currentState;
    }

    public async request<M extends EngineMethod>(method: M, params: EngineParams<M>, options: RequestOptions = {}): Promise<EngineResult<M>> {
        const { signal, onProgress } = options;
        // an AbortSignal cannot cross the bridge: the request gets an id of ours, and an abort cancels that id
        const requestId = `r${this.nextId++}`;
        const stopProgress = onProgress != null
            ? this.engine.on("progress", (progress) => {
                if (progress.requestId === requestId)
                    onProgress(progress);
            })
            : () => undefined;
        try {
            const request = this.engine.request(method, params, requestId);
            if (signal == null)
                return await request;
            return await Promise.race([request, new Promise<never>((_, reject) => {
                const abort = (): void => {
                    this.engine.cancel?.(requestId);
                    reject(new TillerError("ABORTED", `${method} was cancelled`));
                };
                if (signal.aborted)
                    abort();
                signal.addEventListener("abort", abort, { once: true });
            })]);
        } catch (error) {
            throw error instanceof TillerError ? error : toTillerError(asPayload(error));
        } finally {
            stopProgress();
        }
    }

    public on<E extends EngineEventName>(event: E, listener: (data: EngineEvents[E]) => void): () => void {
        return this.engine.on(event, listener);
    }

    public onStateChange(listener: (state: EngineConnectionState) => void): () => void {
        return this.engine.onStateChange(listener);
    }
}

function asPayload(error: unknown): { code?: TillerError["code"]; message: string } {
    if (error != null && typeof error === "object") {
        const { code, message } = error as { code?: unknown; message?: unknown };
        return { code: typeof code === "string" ? code as TillerError["code"] : undefined, message: typeof message === "string" ? message : String(error) };
    }
    return { message: String(error) };
}
