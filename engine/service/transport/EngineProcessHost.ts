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

export interface EngineProcessHostOptions {
    dataDir?: string;
    threads?: number;
    /** the engine's backend (auto, cuda, vulkan, metal, cpu); passed as $TILLER_GPU */
    gpu?: string;
    /** loaded by the first engine before it reports ready (not again after a crash) */
    model?: string;
    /** how an engine process is started (default: a Node child process) */
    launch?: EngineChildLauncher;
}

function log(line: string): void {
    process.stderr.write(`${line}\n`);
}

/** Messages held while the engine starts; a client that sends more is dropped (nothing grows without bound). */
const MAX_QUEUED_MESSAGES = 4096;

export class EngineProcessHost implements RpcEndpoint {
    private child: EngineChild | null = null;
    private ready = false;
    private queue: HostToChild[] = [];
    /** connection ids are never reused, so a link dropped in a crash stays gone */
    private readonly links = new Map<number, RpcClientLink>();
    private nextConn = 1;
    private stopping = false;
    /** a crash loop waits longer each time (the same policy as Electron main's) */
    private readonly backoff = new RestartBackoff();
    private restartTimer: ReturnType<typeof setTimeout> | null = null;

    private constructor(private readonly options: EngineProcessHostOptions) {}

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
        this.post({ kind: "connect", conn });
        return {
            receive: (raw) => {
                if (!this.links.has(conn))
                    return;
                if (!this.ready && this.queue.length >= MAX_QUEUED_MESSAGES) {
                    this.links.delete(conn);
                    client.drop("too many messages while the engine starts");
                    return;
                }
                this.post({ kind: "message", conn, data: raw });
            },
            close: () => {
                if (this.links.delete(conn))
                    this.post({ kind: "close", conn });
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
        const child = (this.options.launch ?? forkNodeEngineChild)(env);
        this.child = child;
        this.ready = false;
        return new Promise<void>((resolve, reject) => {
            let started = false;
            child.onMessage((message) => {
                if (message.kind === "frame") {
                    this.links.get(message.conn)?.sendText(message.frame);
                } else if (message.kind === "ready" && !started) {
                    started = true;
                    if (message.error != null) {
                        reject(new TillerError(message.error.code, message.error.message));
                        return;
                    }
                    this.ready = true;
                    const queued = this.queue;
                    this.queue = [];
                    for (const item of queued)
                        child.send(item);
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
            this.queue.push(message);
    }

    private onExit(child: EngineChild, reason: string): void {
        if (this.child !== child)
            return;
        this.child = null;
        this.ready = false;
        if (this.stopping)
            return;
        log(`tiller: the engine stopped unexpectedly (${reason}); starting a fresh one`);
        // the dead engine's clients: tell them, then drop them so they reconnect to the new one
        const notice: ServerMessage = { kind: "event", event: "engine.restarted", data: { reason } };
        const clients = [...this.links.values()];
        this.links.clear();
        this.queue = [];
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
