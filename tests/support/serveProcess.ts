// Starting `tiller serve` (the compiled dist/ build) as a separate process for tests that talk to it
// from outside, as a browser or a hostile page would.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import WebSocket from "ws";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");

export interface ServeProcess {
    child: ChildProcess;
    port: number;
    token: string;
    /** stdout and stderr so far */
    output(): string;
}

/** Starts `tiller serve --port 0 --threads 1 ...args`; resolves once it prints its URL. */
export async function startServe(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<ServeProcess> {
    if (!fs.existsSync(path.join(repoRoot, "dist", "engine", "cli", "main.js")))
        throw new Error("dist/ is missing: run `npm run build:ts` before these tests");
    const child = spawn(process.execPath, [path.join(repoRoot, "bin", "tiller.js"), "serve", "--port", "0", "--threads", "1", ...args],
        { stdio: ["ignore", "pipe", "pipe"], env });
    let output = "";
    child.stderr!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
    });
    const url = await new Promise<URL>((resolve, reject) => {
        child.stdout!.on("data", (chunk: Buffer) => {
            output += chunk.toString();
            const match = /(http:\/\/[^\s]+\/\?token=[0-9a-f]+)/.exec(output);
            if (match != null)
                resolve(new URL(match[1]!));
        });
        child.once("exit", (code) => reject(new Error(`tiller serve exited with ${code}:\n${output}`)));
    });
    return { child, port: Number(url.port), token: url.searchParams.get("token")!, output: () => output };
}

/** Opens /rpc; resolves with the socket once open, rejects with the HTTP status when refused. */
export function connectRpc(port: number, query: string, headers: Record<string, string> = {}, host = "127.0.0.1"): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
        const socket = new WebSocket(`ws://${host.includes(":") ? `[${host}]` : host}:${port}/rpc${query}`, { headers });
        socket.once("open", () => resolve(socket));
        socket.once("unexpected-response", (_request, response) => reject(new Error(`status ${response.statusCode}`)));
        socket.once("error", reject);
    });
}

/** One request over an open socket; resolves with the result, rejects with the error payload. */
export function rpcCall(socket: WebSocket, id: string, method: string, params: unknown, timeoutMs = 10_000): Promise<any> {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            socket.off("message", listener);
            reject(new Error(`${method} got no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (raw: WebSocket.RawData) => {
            const message = JSON.parse(raw.toString()) as { kind: string; id?: string; result?: unknown; error?: unknown };
            if (message.kind === "event" || message.id !== id)
                return;
            clearTimeout(timer);
            socket.off("message", listener);
            if (message.kind === "response")
                resolve(message.result);
            else
                reject(Object.assign(new Error("rpc error"), message.error));
        };
        socket.on("message", listener);
        socket.send(JSON.stringify({ kind: "request", id, method, params }));
    });
}
