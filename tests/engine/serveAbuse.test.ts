// `tiller serve` against hostile and careless clients: whatever a page or a local process sends, the
// server answers (or drops that client) and keeps serving everyone else. After every step a health
// request (engine.info on a socket of its own) must answer and the process must still be running.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { connectRpc, rpcCall, startServe } from "../support/serveProcess.js";

/** Sends raw bytes as one HTTP request; resolves with the status code, or 0 when the server just closed. */
function rawRequest(port: number, text: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1");
        let answer = "";
        socket.on("data", (chunk) => answer += chunk.toString("latin1"));
        socket.on("error", () => resolve(0)); // a reset is a refusal too; only the server's survival matters
        socket.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
        socket.setTimeout(10_000, () => {
            socket.destroy();
            reject(new Error(`no answer to ${JSON.stringify(text.slice(0, 60))}`));
        });
        socket.end(text);
    });
}

describe("tiller serve under abuse", () => {
    let child: ChildProcess;
    let port = 0;
    let token = "";
    let dataDir: string;
    let health: WebSocket;
    let healthChecks = 0;

    /** the engine answers and the server process is alive */
    const expectHealthy = async () => {
        expect(child.exitCode).toBeNull();
        expect(child.signalCode).toBeNull();
        const info = await rpcCall(health, `health${healthChecks++}`, "engine.info", {});
        expect(info.version).toBeTypeOf("string");
    };

    beforeAll(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-abuse-"));
        ({ child, port, token } = await startServe(["--data-dir", dataDir, "--no-model"]));
        health = await connectRpc(port, `?token=${token}`);
        await expectHealthy();
    }, 60_000);

    afterAll(() => {
        health?.terminate();
        child?.kill("SIGTERM");
        if (dataDir != null)
            fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("answers malformed paths (a bad escape, NUL, dot segments, a 64 KiB path) and keeps serving", async () => {
        const host = `Host: 127.0.0.1:${port}\r\n`;
        const cases: [string, number[]][] = [
            ["/%", [400]],
            ["/%00", [400]],
            ["/%E0%A4%A", [400]],
            ["//..", [403, 404]],
            ["//[", [400, 404]],
            ["/..%2f..%2f..%2fetc%2fpasswd", [403, 404]], // 404 when the renderer is not built
            [`/?token=%`, [401]],
            [`/${"a".repeat(64 * 1024)}`, [400, 431]],
            [`/rpc/${"%".repeat(1000)}`, [400]]
        ];
        for (const [target, statuses] of cases) {
            expect(statuses, target.slice(0, 40)).toContain(await rawRequest(port, `GET ${target} HTTP/1.1\r\n${host}connection: close\r\n\r\n`));
            await expectHealthy();
        }
        // the same targets as WebSocket upgrades
        for (const [target] of cases) {
            const status = await rawRequest(port, `GET ${target} HTTP/1.1\r\n${host}connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
            expect(status, target.slice(0, 40)).not.toBe(101);
            await expectHealthy();
        }
        // not HTTP at all; a request line without a target; a header block that never ends
        for (const text of ["\x00\x01\x02garbage\r\n\r\n", "GET\r\n\r\n", `GET / HTTP/1.1\r\n${host}x: ${"y".repeat(70_000)}\r\n\r\n`])
            await rawRequest(port, text);
        await expectHealthy();
    }, 60_000);

    it("refuses a wrong Host, a foreign Origin and a missing token, on the page and on /rpc", async () => {
        expect(await rawRequest(port, `GET /?token=${token} HTTP/1.1\r\nHost: evil.example:${port}\r\nconnection: close\r\n\r\n`)).toBe(403);
        expect(await rawRequest(port, `GET /?token=${token} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: http://evil.example\r\nconnection: close\r\n\r\n`)).toBe(403);
        expect(await rawRequest(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nconnection: close\r\n\r\n`)).toBe(401);
        expect(await rawRequest(port, `GET /?token=${token} HTTP/1.1\r\nconnection: close\r\n\r\n`)).toBeGreaterThanOrEqual(400); // no Host at all
        await expect(connectRpc(port, "")).rejects.toThrow(/401/);
        await expect(connectRpc(port, `?token=${token}`, { origin: "http://evil.example" })).rejects.toThrow(/403/);
        await expect(connectRpc(port, `?token=${token}`, { host: `evil.example:${port}` })).rejects.toThrow(/403/);
        await expectHealthy();
    }, 30_000);

    it("drops a client that sends a message over 16 MiB, and serves the others", async () => {
        const big = await connectRpc(port, `?token=${token}`);
        const closed = new Promise<number>((resolve) => big.once("close", (code) => resolve(code)));
        big.on("error", () => undefined);
        big.send(JSON.stringify({ kind: "request", id: "big", method: "engine.info", params: { pad: "x".repeat(16 * 1024 * 1024 + 1) } }));
        expect(await closed).toBe(1009); // "message too big"
        await expectHealthy();
    }, 60_000);

    it("holds 200 concurrent sockets and answers each of them", async () => {
        const sockets = await Promise.all(Array.from({ length: 200 }, () => connectRpc(port, `?token=${token}`)));
        const infos = await Promise.all(sockets.map((socket, index) => rpcCall(socket, `c${index}`, "engine.info", {}, 30_000)));
        expect(infos.every((info) => typeof info.version === "string")).toBe(true);
        await expectHealthy();
        for (const socket of sockets)
            socket.terminate();
        await expectHealthy();
    }, 60_000);
});
