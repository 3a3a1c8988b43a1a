// `tiller serve` against hostile and careless clients: whatever a page or a local process sends, the
// server answers (or drops that client) and keeps serving everyone else. After every step a health
// request (engine.info on a socket of its own) must answer and the process must still be running.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
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
        // written, not ended: a half-closed request may lose an answer that is still being prepared
        socket.write(text);
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

    it("exchanges the URL token for an HttpOnly same-site cookie and takes the token out of the address", async () => {
        const answer = await new Promise<http.IncomingMessage>((resolve, reject) => {
            http.get({ host: "127.0.0.1", port, path: `/?token=${token}` }, resolve).on("error", reject);
        });
        answer.resume();
        expect(answer.statusCode).toBe(303);
        expect(answer.headers.location).toBe("/");
        const cookie = answer.headers["set-cookie"]![0]!;
        expect(cookie).toMatch(new RegExp(`^tiller_token_${port}=${token}; `));
        expect(cookie).toMatch(/HttpOnly/);
        expect(cookie).toMatch(/SameSite=Strict/);
        const cookieHeader = cookie.split(";")[0]!;
        // the page and the socket accept the cookie in place of the token; a wrong cookie is refused
        expect([200, 404]).toContain(await rawRequest(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${cookieHeader}\r\nconnection: close\r\n\r\n`));
        expect(await rawRequest(port, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: tiller_token_${port}=${"0".repeat(64)}\r\nconnection: close\r\n\r\n`)).toBe(401);
        const viaCookie = await connectRpc(port, "", { cookie: cookieHeader });
        expect((await rpcCall(viaCookie, "c", "engine.info", {})).version).toBeTypeOf("string");
        viaCookie.close();
        await expectHealthy();
    }, 30_000);

    it("refuses absurd thread counts and oversized lists by schema, before the engine sees them", async () => {
        await expect(rpcCall(health, "threads", "model.load", { path: "/nowhere.gguf", threads: 100_000 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("threads") });
        const patches = Array.from({ length: 65 }, (_, index) => ({ id: `p${index}`, vectorId: "v", strength: 1 }));
        await expect(rpcCall(health, "patches", "run.start", { prompt: "x", patches })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("patches") });
        await expectHealthy();
    }, 30_000);

    it("a client that floods requests and never reads its answers is paused; the others are answered and memory stays bounded", async () => {
        const rss = () => {
            const status = fs.readFileSync(`/proc/${child.pid}/status`, "utf8");
            return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
        };
        const canMeasure = fs.existsSync(`/proc/${child.pid}/status`);
        const rssBefore = canMeasure ? rss() : 0;
        const greedy = await connectRpc(port, `?token=${token}`);
        greedy.on("error", () => undefined);
        (greedy as unknown as { _socket: { pause(): void } })._socket.pause(); // never reads again
        // 10,000 requests in bursts, none of whose answers is ever read
        let sent = 0;
        const sender = setInterval(() => {
            if (sent >= 10_000 || greedy.bufferedAmount > 4 * 1024 * 1024)
                return; // done, or the server stopped reading us (that is the point)
            for (let i = 0; i < 500; i++)
                greedy.send(JSON.stringify({ kind: "request", id: `g${sent++}`, method: "engine.info", params: {} }));
        }, 50);
        try {
            let slowest = 0;
            for (let check = 0; check < 20; check++) {
                const started = performance.now();
                await expectHealthy();
                slowest = Math.max(slowest, performance.now() - started);
                await new Promise((resolve) => setTimeout(resolve, 250));
            }
            expect(sent).toBeGreaterThan(2000);
            expect(slowest).toBeLessThan(8_000);
            if (canMeasure)
                expect(rss() - rssBefore).toBeLessThan(256 * 1024 * 1024);
        } finally {
            clearInterval(sender);
            greedy.terminate();
        }
        await expectHealthy();
    }, 120_000);

    it("holds 200 concurrent sockets and answers each of them", async () => {
        const sockets = await Promise.all(Array.from({ length: 200 }, () => connectRpc(port, `?token=${token}`)));
        const infos = await Promise.all(sockets.map((socket, index) => rpcCall(socket, `c${index}`, "engine.info", {}, 30_000)));
        expect(infos.every((info) => typeof info.version === "string")).toBe(true);
        await expectHealthy();
        // at the cap (256 with the health socket and these), a further socket is refused, not the server
        const more = await Promise.allSettled(Array.from({ length: 60 }, () => connectRpc(port, `?token=${token}`)));
        expect(more.some((result) => result.status === "rejected" && /503/.test(String(result.reason)))).toBe(true);
        for (const result of more) {
            if (result.status === "fulfilled")
                result.value.terminate();
        }
        for (const socket of sockets)
            socket.terminate();
        await expectHealthy();
    }, 60_000);
});
