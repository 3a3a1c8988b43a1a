// The engine over a WebSocket (`tiller serve`): JSON text frames of the contract's ClientMessage /
// ServerMessage. The only file in the renderer that touches WebSocket.
//   requests  → {kind:"request", id, method, params}; the promise settles on the matching
//               {kind:"response"} or {kind:"error"}; an AbortSignal sends {kind:"cancel", id}
//   events    → {kind:"event", event, data} fan out to `on()` listeners; `progress` events also go
//               to the request they belong to (options.onProgress)
//   transport → reconnects with exponential backoff; requests in flight when the socket drops fail
//               (the engine forgot them), requests made while it is down wait for the next socket
import type { EngineEventName, EngineEvents, EngineMethod, EngineParams, EngineResult } from "../../../engine/protocol/EngineContract";
import type { ClientMessage, ServerMessage } from "../../../engine/protocol/wire";
import { TillerError, tillerErrorCodes, type TillerErrorPayload } from "../../../engine/protocol/TillerError";
import type { EngineConnectionState } from "./tillerPreload";
import type { RendererEngineClient, RequestOptions } from "./RendererEngineClient";

/** the `cause` of errors of requests that failed because the transport dropped (the UI shows a banner instead) */
export const TRANSPORT_LOST = "transport-lost";

export interface WebSocketEngineClientOptions {
    /** first reconnect delay in ms; doubles per failed attempt (default 250) */
    initialBackoffMs?: number;
    /** longest reconnect delay in ms (default 5000) */
    maxBackoffMs?: number;
}

interface PendingRequest {
    method: EngineMethod;
    resolve(result: unknown): void;
    reject(error: TillerError): void;
    onProgress?: RequestOptions["onProgress"];
    /** the frame, kept until it went out on a socket */
    frame: string | null;
    detach(): void;
}

type AnyListener = (data: unknown) => void;

/**
 * The URL of the engine's WebSocket for a page served by `tiller serve` (same origin). The server
 * exchanged the URL's token for an HttpOnly cookie, which the browser sends with the upgrade; a
 * token still in the address (an older server) is passed on.
 */
export function engineSocketUrl(location: Pick<Location, "protocol" | "host" | "search">): string {
    const token = new URLSearchParams(location.search).get("token");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}/rpc${token != null ? `?token=${encodeURIComponent(token)}` : ""}`;
}

export class WebSocketEngineClient implements RendererEngineClient {
    private socket: WebSocket | null = null;
    private currentState: EngineConnectionState = "connecting";
    private readonly pending = new Map<string, PendingRequest>();
    private readonly listeners = new Map<EngineEventName, Set<AnyListener>>();
    private readonly stateListeners = new Set<(state: EngineConnectionState) => void>();
    private nextId = 1;
    private attempt = 0;
    private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
    private closed = false;
    private readonly initialBackoffMs: number;
    private readonly maxBackoffMs: number;

    public constructor(private readonly url: string, options: WebSocketEngineClientOptions = {}) {
        this.initialBackoffMs = options.initialBackoffMs ?? 250;
        this.maxBackoffMs = options.maxBackoffMs ?? 5000;
        this.connect();
    }

    public get state(): EngineConnectionState {
        return this.currentState;
    }

    public request<M extends EngineMethod>(method: M, params: EngineParams<M>, options: RequestOptions = {}): Promise<EngineResult<M>> {
        const { signal, onProgress } = options;
        if (signal?.aborted)
            return Promise.reject(new TillerError("ABORTED", `${method} was cancelled`));
        if (this.closed)
            return Promise.reject(new TillerError("INTERNAL", "the engine client is closed"));
        const id = `r${this.nextId++}`;
        const message: ClientMessage = { kind: "request", id, method, params };
        return new Promise<EngineResult<M>>((resolve, reject) => {
            const onAbort = (): void => {
                const entry = this.pending.get(id);
                if (entry == null)
                    return;
                this.pending.delete(id);
                if (entry.frame == null)
                    this.send({ kind: "cancel", id }); // it reached the engine: tell it to stop
                reject(new TillerError("ABORTED", `${method} was cancelled`));
            };
            signal?.addEventListener("abort", onAbort, { once: true });
            this.pending.set(id, {
                method,
                resolve: resolve as (result: unknown) => void,
                reject,
                onProgress,
                frame: JSON.stringify(message),
                detach: () => signal?.removeEventListener("abort", onAbort)
            });
            this.flush();
        });
    }

    public on<E extends EngineEventName>(event: E, listener: (data: EngineEvents[E]) => void): () => void {
        let set = this.listeners.get(event);
        if (set == null) {
            set = new Set();
            this.listeners.set(event, set);
        }
        set.add(listener as AnyListener);
        return () => set.delete(listener as AnyListener);
    }

    public onStateChange(listener: (state: EngineConnectionState) => void): () => void {
        this.stateListeners.add(listener);
        return () => this.stateListeners.delete(listener);
    }

    /** Closes the socket for good; pending requests fail. */
    public close(): void {
        this.closed = true;
        if (this.reconnectTimer != null)
            clearTimeout(this.reconnectTimer);
        this.socket?.close();
        this.failPending("the engine client was closed");
        this.setState("disconnected");
    }

    // ---- transport ----------------------------------------------------------------------------

    private connect(): void {
        this.reconnectTimer = null;
        this.setState(this.attempt === 0 ? "connecting" : this.currentState);
        let socket: WebSocket;
        try {
            socket = new WebSocket(this.url);
        } catch {
            this.scheduleReconnect();
            return;
        }
        this.socket = socket;
        socket.onopen = () => {
            this.attempt = 0;
            this.setState("connected");
            this.flush();
        };
        socket.onmessage = (message) => {
            if (typeof message.data === "string")
                this.receive(message.data);
        };
        socket.onclose = () => {
            if (this.socket !== socket)
                return;
            this.socket = null;
            // the engine forgets requests with the socket that carried them
            this.failPending("the connection to the engine was lost", true);
            this.setState("disconnected");
            this.scheduleReconnect();
        };
        socket.onerror = () => {
            // onclose follows and handles it
        };
    }

    private scheduleReconnect(): void {
        if (this.closed || this.reconnectTimer != null)
            return;
        const delay = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** this.attempt);
        this.attempt++;
        this.reconnectTimer = setTimeout(() => this.connect(), delay * (0.8 + 0.4 * Math.random()));
    }

    private setState(state: EngineConnectionState): void {
        if (state === this.currentState)
            return;
        this.currentState = state;
        for (const listener of [...this.stateListeners])
            listener(state);
    }

    private send(message: ClientMessage): boolean {
        if (this.socket?.readyState !== WebSocket.OPEN)
            return false;
        this.socket.send(JSON.stringify(message));
        return true;
    }

    /** Sends every request that has not gone out yet. */
    private flush(): void {
        if (this.socket?.readyState !== WebSocket.OPEN)
            return;
        for (const entry of this.pending.values()) {
            if (entry.frame != null) {
                this.socket.send(entry.frame);
                entry.frame = null;
            }
        }
    }

    /** Fails requests that went out (and, unless `sentOnly`, the ones still waiting). */
    private failPending(message: string, sentOnly = false): void {
        for (const [id, entry] of this.pending) {
            if (sentOnly && entry.frame != null)
                continue;
            this.pending.delete(id);
            entry.detach();
            entry.reject(new TillerError("INTERNAL", `${message} (during ${entry.method})`, { cause: TRANSPORT_LOST }));
        }
    }

    private receive(text: string): void {
        let message: ServerMessage;
        try {
            message = JSON.parse(text) as ServerMessage;
        } catch {
            console.warn("tiller: ignoring a frame that is not JSON");
            return;
        }
        switch (message.kind) {
            case "response":
            case "error": {
                const entry = this.pending.get(message.id);
                if (entry == null)
                    return; // cancelled meanwhile
                this.pending.delete(message.id);
                entry.detach();
                if (message.kind === "response")
                    entry.resolve(message.result);
                else
                    entry.reject(toTillerError(message.error));
                return;
            }
            case "event": {
                if (message.event === "progress") {
                    const progress = message.data as EngineEvents["progress"];
                    this.pending.get(progress.requestId)?.onProgress?.(progress);
                }
                const set = this.listeners.get(message.event);
                if (set != null) {
                    for (const listener of [...set]) {
                        try {
                            listener(message.data);
                        } catch (error) {
                            console.error(`tiller: a listener of ${message.event} threw`, error);
                        }
                    }
                }
                return;
            }
        }
    }
}

/** A wire error as a TillerError; an unknown code becomes INTERNAL. */
export function toTillerError(payload: Partial<TillerErrorPayload> | null | undefined): TillerError {
    const code = (tillerErrorCodes as readonly string[]).includes(payload?.code ?? "") ? payload!.code! : "INTERNAL";
    return new TillerError(code, payload?.message ?? "unknown error");
}
