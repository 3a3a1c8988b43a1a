// The renderer's one engine client (EngineClientCore) over both of its transports, against a real
// engine child process (EngineProcessHost, as `tiller serve` and Electron main run it):
//   WebSocket   → `tiller serve`'s loopback server (the browser path);
//   MessagePort → the relay Electron main runs (relayPort), here over a worker_threads channel in
//                 the shape of Electron's MessagePortMain (Electron itself cannot run here).
// Both must behave the same: requests, progress routed to their request, cancellation, requests
// made before the link opens, and the error codes when the engine dies under a request.
// Needs dist/ (`npm run build:ts`): the engine child is the compiled engineChildMain.js.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { WebSocket as NodeWebSocket } from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvents } from "../../engine/protocol/EngineContract.js";
import { TillerError } from "../../engine/protocol/TillerError.js";
import { startLoopbackServer, type LoopbackServer } from "../../engine/service/transport/loopbackServer.js";
import { relayPort, type RelayedPort } from "../../engine/service/transport/portRelay.js";
import type * as HostModule from "../../engine/service/transport/EngineProcessHost.js";
import type { EngineProcessHost as EngineProcessHostClass } from "../../engine/service/transport/EngineProcessHost.js";
import { EngineClientCore, TRANSPORT_LOST, type EngineConnector } from "../../renderer/src/engineClient/EngineClientCore.js";
import { messagePortConnector, webSocketConnector, type EnginePort } from "../../renderer/src/engineClient/engineLinks.js";
import { startRangeFileServer, type RangeFileServer } from "../support/rangeFileServer.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const hostModule = path.join(repoRoot, "dist", "engine", "service", "transport", "EngineProcessHost.js");

/** Node's MessagePort in the shape of Electron's MessagePortMain (`on("message", ({data}) => …)`), as main hands it to relayPort. */
function asMainProcessPort(port: MessagePort): RelayedPort {
    const on = (event: "message" | "close", listener: (event?: { data: unknown }) => void): void => {
        if (event === "message")
            port.addEventListener("message", (message) => listener({ data: message.data }));
        else
            port.addEventListener("close", () => listener());
    };
    return { postMessage: (message) => port.postMessage(message), on, start: () => port.start(), close: () => port.close() } as RelayedPort;
}

/** What Electron main does when the page asks for a connection: relay one end, hand over the other. */
function relayedPortSource(host: EngineProcessHostClass, opened: MessagePort[] = []): () => Promise<EnginePort> {
    return async () => {
        const { port1, port2 } = new MessageChannel();
        relayPort(host, asMainProcessPort(port1));
        opened.push(port2);
        return port2;
    };
}

function withoutCloseEvents(source: () => Promise<EnginePort>): () => Promise<EnginePort> {
    return async () => {
        const port = await source();
        return {
            get onmessage() {
                return port.onmessage;
            },
            set onmessage(listener) {
                port.onmessage = listener;
            },
            addEventListener: () => undefined,
            postMessage: (message) => port.postMessage(message),
            close: () => port.close()
        };
    };
}

async function failureOf(promise: Promise<unknown>): Promise<TillerError> {
    const outcome = await promise.then(() => null, (error: unknown) => error);
    if (!(outcome instanceof TillerError))
        throw new Error(`expected a TillerError, got ${String(outcome)}`);
    return outcome;
}

const engineBuilt = fs.existsSync(hostModule);
if (!engineBuilt)
    console.warn(`skipping: dist/ is missing (${hostModule}); run \`npm run build:ts\``);

describe.skipIf(!engineBuilt)("one engine client over WebSocket and MessagePort", () => {
    let host: EngineProcessHostClass;
    let server: LoopbackServer;
    let files: RangeFileServer;
    let dataDir: string;

    beforeAll(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-client-transports-"));
        const { EngineProcessHost } = await import(pathToFileURL(hostModule).href) as typeof HostModule;
        host = await EngineProcessHost.start({ dataDir, threads: 1 });
        server = await startLoopbackServer(host);
        // a model file served slowly, so that a download stays in flight while the test acts on it
        files = await startRangeFileServer({ "slow.gguf": { body: Buffer.alloc(4 * 1024 * 1024, 7), delayMs: 200 } }, { lifetimeMs: 300_000 });
        // the renderer's WebSocket is the browser's; ws offers the same API in Node
        (globalThis as { WebSocket?: unknown }).WebSocket ??= NodeWebSocket;
    });

    afterAll(async () => {
        await server?.close();
        await host?.dispose();
        await files?.close();
        if (dataDir != null)
            fs.rmSync(dataDir, { recursive: true, force: true });
    });

    const transports: { name: string; connector: () => EngineConnector }[] = [
        { name: "WebSocket (tiller serve)", connector: () => webSocketConnector(`ws://127.0.0.1:${server.port}/rpc?token=${server.token}`) },
        { name: "MessagePort (Electron main's relay)", connector: () => messagePortConnector(relayedPortSource(host)) },
        // Chromium sends no `close` when the far end of a port closes (Electron adds one): the client
        // must still notice an engine restart from the engine.restarted notice alone
        { name: "MessagePort without close events", connector: () => messagePortConnector(withoutCloseEvents(relayedPortSource(host))) }
    ];

    for (const transport of transports) {
        describe(transport.name, () => {
            it("answers requests, routes progress to its request, and cancels", async () => {
                const client = new EngineClientCore(transport.connector(), { initialBackoffMs: 50, maxBackoffMs: 200 });
                try {
                    // made before the link is open: it waits for it instead of failing
                    expect(client.state).toBe("connecting");
                    const info = await client.request("engine.info", {});
                    expect(info.pid).toBeGreaterThan(0);
                    expect(info.pid).not.toBe(process.pid);
                    expect(client.state).toBe("connected");

                    // the engine's own validation and codes come through unchanged
                    const bad = await failureOf(client.request("model.load", { path: path.join(dataDir, "absent.gguf") }));
                    expect(bad.code).toBe("FILE_NOT_FOUND");
                    const unknown = await failureOf(client.request("no.such" as "engine.info", {}));
                    expect(unknown.code).toBe("INVALID_ARGUMENT");

                    const progress: EngineEvents["progress"][] = [];
                    const controller = new AbortController();
                    const download = client.request("models.download", { uri: files.url("slow.gguf"), directory: dataDir, fileName: `cancelled-${transports.indexOf(transport)}.gguf` },
                        { signal: controller.signal, onProgress: (event) => progress.push(event) });
                    const started = Date.now();
                    while (progress.length === 0 && Date.now() - started < 30_000)
                        await new Promise((resolve) => setTimeout(resolve, 20));
                    expect(progress.length, "progress events reached the request").toBeGreaterThan(0);
                    expect(new Set(progress.map((event) => event.requestId)).size).toBe(1);
                    controller.abort();
                    expect((await failureOf(download)).code).toBe("ABORTED");
                    // the connection still serves after a cancel
                    expect((await client.request("engine.info", {})).pid).toBe(info.pid);
                } finally {
                    client.close();
                }
                expect((await failureOf(client.request("engine.info", {}))).code).toBe("INTERNAL");
            }, 60_000);

            it("when the engine dies: engine.restarted, the request in flight fails ENGINE_RESTARTED (transport lost), and it reconnects", async () => {
                const client = new EngineClientCore(transport.connector(), { initialBackoffMs: 50, maxBackoffMs: 200 });
                try {
                    const before = await client.request("engine.info", {});
                    const notices: string[] = [];
                    client.on("engine.restarted", ({ reason }) => notices.push(reason));
                    const states: string[] = [];
                    client.onStateChange((state) => states.push(state));
                    const inFlight = client.request("models.download", { uri: files.url("slow.gguf"), directory: dataDir, fileName: `in-flight-${transports.indexOf(transport)}.gguf` });
                    const failed = failureOf(inFlight);
                    await new Promise((resolve) => setTimeout(resolve, 300)); // it reached the engine
                    process.kill(before.pid, "SIGKILL"); // what a native crash in llama.cpp looks like from outside

                    const error = await failed;
                    expect(error.code).toBe("ENGINE_RESTARTED");
                    expect(error.cause).toBe(TRANSPORT_LOST);
                    expect(error.message).toContain("SIGKILL");
                    expect(notices).toHaveLength(1);
                    expect(notices[0]).toContain("SIGKILL");

                    // a request made while it is down waits for the fresh engine
                    const after = await client.request("engine.info", {});
                    expect(after.pid).not.toBe(before.pid);
                    expect(states).toEqual(["disconnected", "connected"]);
                } finally {
                    client.close();
                }
            }, 60_000);
        });
    }

    it("the relay takes the WebSocket's frames only: bad JSON is answered, non-text is ignored, an oversized frame ends the port", async () => {
        const { port1, port2 } = new MessageChannel();
        relayPort(host, asMainProcessPort(port1));
        const received: unknown[] = [];
        port2.onmessage = (message) => received.push(JSON.parse(message.data as string));
        const closed = new Promise<void>((resolve) => port2.addEventListener("close", () => resolve()));
        const next = async (): Promise<unknown> => {
            const started = Date.now();
            while (received.length === 0 && Date.now() - started < 20_000)
                await new Promise((resolve) => setTimeout(resolve, 10));
            return received.shift();
        };

        port2.postMessage("{not json");
        expect(await next()).toMatchObject({ kind: "error", error: { code: "INVALID_ARGUMENT", message: expect.stringContaining("JSON") } });
        port2.postMessage({ kind: "request", id: "x1", method: "engine.info", params: {} }); // an object, not a frame
        port2.postMessage(JSON.stringify({ kind: "request", id: "x2", method: "engine.info", params: {} }));
        expect(await next()).toMatchObject({ kind: "response", id: "x2" });
        expect(received).toEqual([]);

        port2.postMessage("x".repeat(16 * 1024 * 1024 + 1));
        await closed;
    }, 60_000);
});

describe("EngineClientCore over a link that fails to open", () => {
    it("keeps requests made meanwhile and sends them once a link opens", async () => {
        let attempts = 0;
        const sent: string[] = [];
        const connector: EngineConnector = (events) => {
            attempts++;
            if (attempts < 3) {
                setTimeout(() => events.closed(), 0);
                return { send: () => undefined, close: () => undefined };
            }
            setTimeout(() => events.opened(), 0);
            return {
                send: (frame) => {
                    sent.push(frame);
                    const { id } = JSON.parse(frame) as { id: string };
                    setTimeout(() => events.received(JSON.stringify({ kind: "error", id, error: { code: "NOT_A_CODE", message: "odd" } })), 0);
                },
                close: () => undefined
            };
        };
        const client = new EngineClientCore(connector, { initialBackoffMs: 10, maxBackoffMs: 20 });
        const error = await failureOf(client.request("engine.info", {}));
        expect(attempts).toBe(3);
        expect(sent).toHaveLength(1);
        // a code outside the closed set becomes INTERNAL, the message is kept
        expect(error.code).toBe("INTERNAL");
        expect(error.message).toBe("odd");
        client.close();
    });
});
