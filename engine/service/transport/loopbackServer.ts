// `tiller serve`'s HTTP + WebSocket server: the built renderer over HTTP and the engine's RPC over a
// WebSocket, on a loopback address only, guarded by a per-launch token.
//
// Checks on every request:
//   Host    must name the loopback address and port we listen on (defeats DNS rebinding);
//   Origin  (sent by browsers) must be this server's own origin;
//   token   must match, compared in constant time: `?token=` on the page and on /rpc.
import { randomBytes, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { WebSocketServer, type WebSocket } from "ws";
import { TillerError } from "../../protocol/TillerError.js";
import type { ServerMessage } from "../../protocol/wire.js";
import { MAX_CLIENT_FRAME_BYTES, type RpcEndpoint } from "./rpcEndpoint.js";
import { parseRequestTarget, type RequestTarget } from "./requestTarget.js";

export interface LoopbackServerOptions {
    /** default 127.0.0.1; only loopback addresses are accepted */
    host?: string;
    /** default 0: any free port */
    port?: number;
    /** the built renderer (index.html + assets); when absent only /rpc is served */
    staticDir?: string;
    /** default: 32 random bytes, hex */
    token?: string;
}

export interface LoopbackServer {
    url: string;
    port: number;
    token: string;
    close(): Promise<void>;
}

const contentTypes: Record<string, string> = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml", ".png": "image/png", ".json": "application/json", ".woff2": "font/woff2", ".ico": "image/x-icon", ".map": "application/json"
};

function log(line: string): void {
    process.stderr.write(`${line}\n`);
}

/** More sockets than this are refused (503): each holds memory, and the engine serves one user. */
export const MAX_RPC_CLIENTS = 256;
/** Above this much unsent data, a client's further requests are not read until it reads its answers. */
const PAUSE_ABOVE_BYTES = 1024 * 1024;
const RESUME_BELOW_BYTES = 256 * 1024;
/** A client with more unsent data than this (events keep coming) is not reading: it is dropped, not buffered. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export function isLoopbackHost(host: string): boolean {
    return host === "localhost" || host === "::1" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host);
}

export function tokensMatch(given: string | null, expected: string): boolean {
    if (given == null)
        return false;
    const a = Buffer.from(given);
    const b = Buffer.from(expected);
    return a.length === b.length && timingSafeEqual(a, b);
}

export async function startLoopbackServer(rpc: RpcEndpoint, options: LoopbackServerOptions = {}): Promise<LoopbackServer> {
    const host = options.host ?? "127.0.0.1";
    if (!isLoopbackHost(host))
        throw new TillerError("INVALID_ARGUMENT", `tiller serve binds loopback addresses only (127.0.0.1, ::1, localhost), not "${host}"`);
    const token = options.token ?? randomBytes(32).toString("hex");
    let port = 0;
    // cookies ignore ports: the name carries it, so two servers on one machine do not overwrite each other's
    const cookieName = () => `tiller_token_${port}`;
    const cookieToken = (request: http.IncomingMessage): string | null => {
        for (const part of (request.headers.cookie ?? "").split(";")) {
            const [name, ...value] = part.trim().split("=");
            if (name === cookieName())
                return value.join("=");
        }
        return null;
    };

    const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, ...(host.includes(":") ? [`[${host}]:${port}`] : [`${host}:${port}`])]);
    const allowedOrigins = () => new Set([...allowedHosts()].map((entry) => `http://${entry}`));
    /** null when the request may proceed, else why it may not */
    const refusal = (request: http.IncomingMessage, target: RequestTarget, needsToken: boolean): string | null => {
        if (request.headers.host == null || !allowedHosts().has(request.headers.host.toLowerCase()))
            return "wrong Host header";
        const origin = request.headers.origin;
        if (origin != null && !allowedOrigins().has(origin.toLowerCase()))
            return "foreign Origin";
        if (needsToken && !tokensMatch(target.query.get("token"), token) && !tokensMatch(cookieToken(request), token))
            return "missing or wrong token";
        return null;
    };

    const handleRequest = (request: http.IncomingMessage, response: http.ServerResponse) => {
        const target = parseRequestTarget(request.url);
        if (target == null) {
            response.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end("Bad request: malformed path.\n");
            return;
        }
        const isPage = target.pathname === "/" || target.pathname === "/index.html";
        const reason = refusal(request, target, isPage);
        if (reason != null) {
            response.writeHead(reason === "missing or wrong token" ? 401 : 403, { "content-type": "text/plain; charset=utf-8" });
            response.end(`Refused: ${reason}. Open the exact URL that \`tiller serve\` printed.\n`);
            return;
        }
        if (request.method !== "GET" && request.method !== "HEAD") {
            response.writeHead(405).end();
            return;
        }
        if (isPage && target.query.has("token")) {
            // the token is exchanged once for an HttpOnly same-site cookie and leaves the address bar
            // (and with it the history, screenshots and the Referer of anything the page loads)
            response.writeHead(303, {
                "location": "/",
                "set-cookie": `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`,
                "cache-control": "no-store",
                "referrer-policy": "no-referrer"
            }).end();
            return;
        }
        serveStatic(options.staticDir, isPage ? "/index.html" : target.pathname, port, response);
    };
    const server = http.createServer((request, response) => {
        // whatever a request contains, it must not end the server (and the engine with it)
        try {
            handleRequest(request, response);
        } catch (error) {
            log(`tiller serve: a request failed: ${(error as Error).message}`);
            if (!response.headersSent)
                response.writeHead(500);
            response.end();
        }
    });
    // unparseable requests, oversized headers, resets: answer if still possible, never throw
    server.on("clientError", (_error, socket) => {
        if (socket.writable)
            socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
        else
            socket.destroy();
    });

    const sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES });
    server.on("upgrade", (request, socket, head) => {
        // a reset while we answer must not become an unhandled 'error' event
        socket.on("error", () => socket.destroy());
        try {
            const target = parseRequestTarget(request.url);
            const reason = target == null ? "malformed path" : target.pathname !== "/rpc" ? "unknown path" : refusal(request, target, true);
            if (reason != null) {
                const status = reason === "missing or wrong token" ? "401 Unauthorized" : reason === "malformed path" ? "400 Bad Request" : "403 Forbidden";
                socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
                return;
            }
            if (sockets.clients.size >= MAX_RPC_CLIENTS) {
                socket.end("HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\n\r\n");
                return;
            }
            sockets.handleUpgrade(request, socket, head, (ws) => attach(ws));
        } catch (error) {
            log(`tiller serve: a WebSocket upgrade failed: ${(error as Error).message}`);
            socket.destroy();
        }
    });

    const attach = (ws: WebSocket) => {
        let resumeTimer: ReturnType<typeof setInterval> | undefined;
        const stopWatching = () => {
            clearInterval(resumeTimer);
            resumeTimer = undefined;
        };
        const sendFrame = (frame: string) => {
            if (ws.readyState !== ws.OPEN)
                return;
            if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
                log(`tiller serve: dropping a client that does not read (${ws.bufferedAmount} bytes unsent)`);
                stopWatching();
                ws.terminate();
                return;
            }
            ws.send(frame);
            // backpressure: a client that does not read its answers gets no more requests read
            if (ws.bufferedAmount > PAUSE_ABOVE_BYTES && resumeTimer == null) {
                ws.pause();
                resumeTimer = setInterval(() => {
                    if (ws.readyState !== ws.OPEN) {
                        stopWatching();
                    } else if (ws.bufferedAmount < RESUME_BELOW_BYTES) {
                        stopWatching();
                        ws.resume();
                    }
                }, 50);
            }
        };
        const connection = rpc.connect({
            send: (message: ServerMessage) => sendFrame(JSON.stringify(message)),
            sendText: sendFrame,
            // 1012 "service restart": the client should reconnect
            drop: (reason) => ws.close(1012, reason)
        });
        ws.on("message", (data, isBinary) => {
            if (!isBinary)
                connection.receive(data.toString());
        });
        ws.on("close", () => {
            stopWatching();
            connection.close();
        });
        ws.on("error", () => {
            stopWatching();
            connection.close();
        });
    };

    await listen(server, options.port ?? 0, host === "localhost" ? "127.0.0.1" : host);
    port = (server.address() as AddressInfo).port;
    // "localhost" may resolve to ::1 as well as 127.0.0.1: answer on both, with the same port
    let second: http.Server | undefined;
    if (host === "localhost") {
        second = http.createServer(server.listeners("request")[0] as http.RequestListener);
        for (const event of ["upgrade", "clientError"] as const) {
            for (const listener of server.listeners(event))
                second.on(event, listener as (...args: unknown[]) => void);
        }
        await listen(second, port, "::1").catch((error: NodeJS.ErrnoException) => {
            second = undefined; // no IPv6 loopback here: 127.0.0.1 alone
            if (error.code !== "EADDRNOTAVAIL" && error.code !== "EAFNOSUPPORT")
                log(`tiller serve: not listening on [::1]:${port} (${error.message})`);
        });
    }
    const urlHost = host.includes(":") ? `[${host}]` : host;
    return {
        url: `http://${urlHost}:${port}/?token=${token}`,
        port,
        token,
        close: async () => {
            for (const client of sockets.clients)
                client.terminate();
            sockets.close();
            await Promise.all([server, second].map((each) => each == null ? undefined : new Promise<void>((resolve) => each.close(() => resolve()))));
        }
    };
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
            server.off("error", reject);
            resolve();
        });
    });
}

function serveStatic(staticDir: string | undefined, pathname: string, port: number, response: http.ServerResponse): void {
    if (staticDir == null) {
        response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("The renderer is not built: run `npm run build`.\n");
        return;
    }
    const root = path.resolve(staticDir);
    const file = path.resolve(root, "." + pathname); // pathname is decoded and NUL-free (parseRequestTarget)
    if (file !== root && !file.startsWith(root + path.sep)) {
        response.writeHead(403).end();
        return;
    }
    fs.readFile(file, (error, data) => {
        if (error != null) {
            response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found\n");
            return;
        }
        response.writeHead(200, {
            "content-type": contentTypes[path.extname(file)] ?? "application/octet-stream",
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            // the page may talk only to this server; recharts sets inline style attributes
            "content-security-policy": `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; ` +
                `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port} ws://[::1]:${port}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`
        });
        response.end(data);
    });
}
