// The one client of the engine's RPC in the renderer, whatever carries it: JSON text frames of the
// contract's ClientMessage / ServerMessage over an EngineLink (a WebSocket to `tiller serve`, or the
// MessagePort Electron main relays to the engine process; see engineLinks.ts).
//   requests  → {kind:"request", id, method, params}; the promise settles on the matching
//               {kind:"response"} or {kind:"error"}; an AbortSignal sends {kind:"cancel", id}
//   events    → {kind:"event", event, data} fan out to `on()` listeners; `progress` events also go
//               to the request they belong to (options.onProgress)
//   transport → reconnects with exponential backoff; requests made while it is down wait for the
//               next link; requests in flight when a link drops fail (the engine forgot them) with
//               cause TRANSPORT_LOST and code ENGINE_RESTARTED when the engine said it restarted
//               (`engine.restarted` ends the link at once), INTERNAL otherwise. The same codes on
//               every transport.
import type { EngineEventName, EngineEvents, EngineMethod, EngineParams, EngineResult } from "../../../engine/protocol/EngineContract";
import type { ClientMessage, EngineClient, ServerMessage } from "../../../engine/protocol/wire";
import { TillerError, tillerErrorCodes, type TillerErrorPayload } from "../../../engine/protocol/TillerError";
import type { RendererEngineClient, RequestOptions } from "./RendererEngineClient";

/** the `cause` of errors of requests that failed because the transport dropped (the UI shows a banner instead) */
export const TRANSPORT_LOST = "transport-lost";

export type EngineConnectionState = EngineClient["state"];

/** What a link reports; calls from a link the client has given up on are ignored. */
export interface EngineLinkEvents {
    /** the link carries frames now */
    opened(): void;
    received(frame: string): void;
    /** the link failed to open or dropped; the client opens a new one after a back-off */
    closed(): void;
}

/** One connection to the engine. */
export interface EngineLink {
    send(frame: string): void;
    close(): void;
}

/** Opens a link; it reports through `events`. */
export type EngineConnector = (events: EngineLinkEvents) => EngineLink;

export interface EngineClientOptions {
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
    /** the frame, kept until it went out on a link */
    frame: string | null;
    detach(): void;
}

/** The link in use and what it said. */
interface LinkState {
    link: EngineLink | null;
    open: boolean;
    /** the engine behind this link announced a restart (engine.restarted) */
    engineRestarted: string | null;
}

type AnyListener = (data: unknown) => void;

export class EngineClientCore implements RendererEngineClient {
    private current: LinkState | null = null;
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

    public constructor(private readonly connector: EngineConnector, options: EngineClientOptions = {}) {
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

    /** Closes the link for good; pending requests fail. */
    public close(): void {
        this.closed = true;
        if (this.reconnectTimer != null)
            clearTimeout(this.reconnectTimer);
        const current = this.current;
        this.current = null;
        current?.link?.close();
        this.failPending(new TillerError("INTERNAL", "the engine client was closed"), false);
        this.setState("disconnected");
    }

    // ---- the link ------------------------------------------------------------------------------

    private connect(): void {
        this.reconnectTimer = null;
        if (this.closed)
            return;
        this.setState(this.attempt === 0 ? "connecting" : this.currentState);
        const state: LinkState = { link: null, open: false, engineRestarted: null };
        this.current = state;
        const live = (): boolean => this.current === state;
        let link: EngineLink;
        try {
            link = this.connector({
                opened: () => {
                    if (!live())
                        return;
                    state.open = true;
                    this.attempt = 0;
                    this.setState("connected");
                    this.flush();
                },
                received: (frame) => {
                    if (live())
                        this.receive(state, frame);
                },
                closed: () => this.linkLost(state)
            });
        } catch {
            this.current = null;
            this.scheduleReconnect();
            return;
        }
        if (live())
            state.link = link;
    }

    /** The link dropped (or the engine behind it restarted): fail what it carried, reconnect. */
    private linkLost(state: LinkState): void {
        if (this.current !== state)
            return;
        this.current = null;
        state.link?.close();
        // the engine forgets requests with the link that carried them
        const error = state.engineRestarted != null
            ? new TillerError("ENGINE_RESTARTED", `the engine restarted (${state.engineRestarted})`, { cause: TRANSPORT_LOST })
            : new TillerError("INTERNAL", "the connection to the engine was lost", { cause: TRANSPORT_LOST });
        this.failPending(error, true);
        this.setState("disconnected");
        this.scheduleReconnect();
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

    private openLink(): EngineLink | null {
        const current = this.current;
        return current?.open === true ? current.link : null;
    }

    private send(message: ClientMessage): void {
        this.openLink()?.send(JSON.stringify(message));
    }

    /** Sends every request that has not gone out yet. */
    private flush(): void {
        const link = this.openLink();
        if (link == null)
            return;
        for (const entry of this.pending.values()) {
            if (entry.frame != null) {
                link.send(entry.frame);
                entry.frame = null;
            }
        }
    }

    /** Fails requests that went out (and, unless `sentOnly`, the ones still waiting). */
    private failPending(error: TillerError, sentOnly: boolean): void {
        for (const [id, entry] of this.pending) {
            if (sentOnly && entry.frame != null)
                continue;
            this.pending.delete(id);
            entry.detach();
            entry.reject(new TillerError(error.code, `${error.message} (during ${entry.method})`, { cause: error.cause }));
        }
    }

    private receive(state: LinkState, text: string): void {
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
                } else if (message.event === "engine.restarted") {
                    state.engineRestarted = (message.data as EngineEvents["engine.restarted"]).reason;
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
                // the engine that served this link is gone: do not wait for the transport to say so
                // (a WebSocket closes right after; a MessagePort's close event is not sent everywhere)
                if (message.event === "engine.restarted")
                    this.linkLost(state);
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
