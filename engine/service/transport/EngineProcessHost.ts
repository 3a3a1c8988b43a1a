// The engine runs in a process of its own, so a native crash in llama.cpp takes down neither
// `tiller serve` nor the desktop app's window: the host tells every connected client that the
// engine restarted and why, drops their connections (clients reconnect), and starts a fresh engine.
// `tiller serve` runs it as a Node child process (engineChildMain), Electron main as a utility
// process (utilityProcessMain, via electron/engineLauncher.ts): one supervisor, the same semantics
// for WebSocket and MessagePort clients.
import type { ServerMessage } from "../../protocol/wire.js";
import { TillerError } from "../../protocol/TillerError.js";
import type { HostToChild } from "./engineChildMessages.js";
import { forkNodeEngineChild, type EngineChild, type EngineChildLauncher } from "./engineChildLauncher.js";
import type { RpcClientLink, RpcEndpoint } from "./rpcEndpoint.js";
import { RestartBackoff } from "../../protocol/restartBackoff.js";
import { FAIR_QUEUE_LIMITS, FairRequestQueue, type FairQueueLimits, type MeteredMessage } from "./fairRequestQueue.js";
import type { DecodePriority } from "../../runtime/decodePriority.js";

export interface EngineProcessHostOptions {
    dataDir?: string;
    threads?: number;
    /** the engine's decode priority (runtime/decodePriority.ts); passed as $TILLER_DECODE_PRIORITY (default: background) */
    decodePriority?: DecodePriority;
    /** the engine's backend (auto, cuda, vulkan, metal, cpu); passed as $TILLER_GPU */
    gpu?: string;
    /** loaded by the first engine before it reports ready (not again after a crash) */
    model?: string;
    /** how an engine process is started (default: a Node child process) */
    launch?: EngineChildLauncher;
    /** how clients share the engine (default FAIR_QUEUE_LIMITS) */
    fairness?: FairQueueLimits;
}

function log(line: string): void {
    process.stderr.write(`${line}\n`);
}

/** What the host needs to meter a client message: its kind and id, without validating the rest. */
function meter(raw: string): MeteredMessage<unknown> {
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch {
        return { kind: "other", id: "", payload: raw }; // the engine answers "not valid JSON"
    }
    const { kind, id } = (typeof parsed === "object" && parsed !== null ? parsed : {}) as { kind?: unknown; id?: unknown };
    const validId = typeof id === "string" && id.length > 0 && id.length <= 100 ? id : "";
    if (kind === "cancel" && validId !== "")
        return { kind: "cancel", id: validId, payload: parsed };
    return { kind: kind === "request" ? "request" : "other", id: typeof id === "string" ? id : "", payload: parsed };
}

export class EngineProcessHost implements RpcEndpoint {
    private child: EngineChild | null = null;
    private ready = false;
    /** connect/close notices held while the engine starts (client messages wait in `fair`) */
    private pendingNotices: HostToChild[] = [];
    /** client messages: each connection's own queue, metered into the engine (fairRequestQueue.ts) */
    private readonly fair: FairRequestQueue<unknown>;
    /** connection ids are never reused, so a link dropped in a crash stays gone */
    private readonly links = new Map<number, RpcClientLink>();
    private nextConn = 1;
    private stopping = false;
    /** a crash loop waits longer each time (the same policy as Electron main's) */
    private readonly backoff = new RestartBackoff();
    private restartTimer: ReturnType<typeof setTimeout> | null = null;

    private constructor(private readonly options: EngineProcessHostOptions) {
        this.fair = new FairRequestQueue((conn, data) => this.child?.send({ kind: "message", conn, data }), options.fairness ?? FAIR_QUEUE_LIMITS);
    }

    /** Starts the engine; resolves once it serves (and has loaded `options.model`, if given). */
    public static async start(options: EngineProcessHostOptions = {}): Promise<EngineProcessHost> {
        const host = new EngineProcessHost(options);
        try {
            await host.spawn(options.model);
        } catch (error) {
            await host.dispose();
            throw error;
        }
        return host;
    }

    public connect(client: RpcClientLink): { receive(raw: string): void; close(): void } {
        const conn = this.nextConn++;
        this.links.set(conn, client);
        this.fair.addConnection(conn);
        this.post({ kind: "connect", conn });
        return {
            receive: (raw) => {
                if (!this.links.has(conn))
                    return;
                const message = meter(raw);
                const outcome = this.fair.submit(conn, message);
                if (outcome === "withdrawn")
                    client.send({ kind: "error", id: message.id, error: { code: "ABORTED", message: "cancelled before the engine started it" } });
                else if (outcome === "refused")
                    client.send({ kind: "error", id: message.id, error: { code: "BUSY", message: "too many requests waiting on this connection; wait for answers before sending more" } });
            },
            close: () => {
                if (this.links.delete(conn)) {
                    this.fair.removeConnection(conn);
                    this.post({ kind: "close", conn });
                }
            }
        };
    }

    public async dispose(): Promise<void> {
        this.stopping = true;
        if (this.restartTimer != null)
            clearTimeout(this.restartTimer);
        const child = this.child;
        if (child == null || !child.running)
            return;
        const exited = new Promise<void>((resolve) => child.onExit(() => resolve()));
        child.kill(false);
        const force = setTimeout(() => child.kill(true), 5_000);
        await exited;
        clearTimeout(force);
    }

    private spawn(model: string | undefined): Promise<void> {
        const env: NodeJS.ProcessEnv = { ...process.env, TILLER_ENGINE_MODEL: model ?? "" };
        if (this.options.dataDir != null)
            env.TILLER_DATA_DIR = this.options.dataDir;
        if (this.options.gpu != null)
            env.TILLER_GPU = this.options.gpu;
        if (this.options.threads != null)
            env.TILLER_ENGINE_THREADS = String(this.options.threads);
        if (this.options.decodePriority != null)
            env.TILLER_DECODE_PRIORITY = this.options.decodePriority;
        const child = (this.options.launch ?? forkNodeEngineChild)(env);
        this.child = child;
        this.ready = false;
        return new Promise<void>((resolve, reject) => {
            let started = false;
            child.onMessage((message) => {
                if (message.kind === "frame") {
                    this.links.get(message.conn)?.sendText(message.frame);
                } else if (message.kind === "settled") {
                    this.fair.settled(message.conn, message.id);
                } else if (message.kind === "ready" && !started) {
                    started = true;
                    if (message.error != null) {
                        reject(new TillerError(message.error.code, message.error.message));
                        return;
                    }
                    this.ready = true;
                    const notices = this.pendingNotices;
                    this.pendingNotices = [];
                    for (const item of notices)
                        child.send(item);
                    this.fair.setOpen(true);
                    resolve();
                }
            });
            child.onExit((reason) => {
                if (!started) {
                    started = true;
                    reject(new TillerError("INTERNAL", `the engine process exited while starting (${reason})`));
                }
                this.onExit(child, reason);
            });
        });
    }

    private post(message: HostToChild): void {
        if (this.ready && this.child?.running === true)
            this.child.send(message);
        else
            this.pendingNotices.push(message);
    }

    private onExit(child: EngineChild, reason: string): void {
        if (this.child !== child)
            return;
        this.child = null;
        this.ready = false;
        this.fair.setOpen(false);
        if (this.stopping)
            return;
        log(`tiller: the engine stopped unexpectedly (${reason}); starting a fresh one`);
        // the dead engine's clients: tell them, then drop them so they reconnect to the new one
        const notice: ServerMessage = { kind: "event", event: "engine.restarted", data: { reason } };
        const clients = [...this.links.values()];
        this.links.clear();
        this.pendingNotices = [];
        this.fair.reset();
        for (const client of clients) {
            client.send(notice);
            client.drop("the engine restarted");
        }
        const delay = this.backoff.delayAfterCrash();
        this.restartTimer = setTimeout(() => {
            this.restartTimer = null;
            this.spawn(undefined).catch((error: unknown) => log(`tiller: the engine did not restart: ${(error as Error).message}`));
        }, delay);
    }
}
