// `tiller serve`: loopback only, per-launch token, Host/Origin checks; the RPC over WebSocket on the
// real engine with stories260K (load, build a vector, steered run with a mid-run change).
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ServerMessage } from "../../engine/protocol/wire.js";
import { RpcReplies } from "../support/rpcReplies.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");

function get(port: number, pathname: string, headers: Record<string, string> = {}): Promise<number> {
    return new Promise((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path: pathname, headers }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
        }).on("error", reject);
    });
}

/** Opens /rpc; resolves with the socket once open, rejects with the HTTP status when refused. */
function connect(port: number, query: string, headers: Record<string, string> = {}): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/rpc${query}`, { headers });
        socket.once("open", () => resolve(socket));
        socket.once("unexpected-response", (_request, response) => reject(new Error(`status ${response.statusCode}`)));
        socket.once("error", reject);
    });
}

/** A WebSocket client of /rpc; untyped, so a test can send what the contract does not allow. */
class RpcTestClient {
    private readonly replies = new RpcReplies("r");
    public readonly events = this.replies.events;

    public constructor(private readonly socket: WebSocket) {
        socket.on("message", (raw) => this.replies.receive(JSON.parse(raw.toString()) as ServerMessage));
    }

    public request(method: string, params: unknown): Promise<any> {
        const { id, result } = this.replies.open<any>();
        this.socket.send(JSON.stringify({ kind: "request", id, method, params }));
        return result;
    }

    public sendRaw(text: string): void {
        this.socket.send(text);
    }

    /** The data of the next event that passes `test`; events received before the call do not count. */
    public waitForEvent(test: (event: string, data: any) => boolean): Promise<any> {
        return this.replies.nextEvent(test);
    }
}

describe("tiller serve", () => {
    let server: ChildProcess;
    let port = 0;
    let token = "";
    let dataDir: string;

    beforeAll(async () => {
        if (!fs.existsSync(path.join(repoRoot, "dist", "engine", "cli", "main.js")))
            throw new Error("dist/ is missing: run `npm run build:ts` before these tests");
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-serve-"));
        server = spawn(process.execPath, [path.join(repoRoot, "bin", "tiller.js"), "serve", "--port", "0", "--threads", "1", "--data-dir", dataDir, "--no-model"],
            { stdio: ["ignore", "pipe", "pipe"] });
        const url = await new Promise<URL>((resolve, reject) => {
            let output = "";
            server.stdout!.on("data", (chunk: Buffer) => {
                output += chunk.toString();
                const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
                if (match != null)
                    resolve(new URL(match[1]!));
            });
            server.once("exit", (code) => reject(new Error(`tiller serve exited with ${code}`)));
        });
        port = Number(url.port);
        token = url.searchParams.get("token")!;
    }, 60_000);

    afterAll(() => {
        server?.kill("SIGTERM");
        fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("prints a loopback URL with a long per-launch token", () => {
        expect(port).toBeGreaterThan(0);
        expect(token).toMatch(/^[0-9a-f]{64}$/);
    });

    it("refuses the page without the token, with a wrong token, or with a foreign Host", async () => {
        expect(await get(port, "/")).toBe(401);
        expect(await get(port, "/?token=" + "0".repeat(64))).toBe(401);
        expect(await get(port, `/?token=${token}`, { host: `evil.example:${port}` })).toBe(403);
        expect(await get(port, `/?token=${token}`, { host: `127.0.0.1:${port}`, origin: "http://evil.example" })).toBe(403);
        expect(await get(port, `/?token=${token}`)).toBe(303); // the token is exchanged for a cookie (serveAbuse.test.ts)
    });

    it("refuses the RPC socket without a token, from a foreign Origin, or with a non-loopback Host", async () => {
        await expect(connect(port, "")).rejects.toThrow(/401/);
        await expect(connect(port, "?token=nope")).rejects.toThrow(/401/);
        await expect(connect(port, `?token=${token}`, { origin: "http://evil.example" })).rejects.toThrow(/403/);
        await expect(connect(port, `?token=${token}`, { host: `192.168.1.20:${port}` })).rejects.toThrow(/403/);
        await expect(connect(port, `?token=${token}`, { host: `attacker.test:${port}`, origin: `http://attacker.test:${port}` })).rejects.toThrow(/403/);
        const ok = await connect(port, `?token=${token}`, { origin: `http://127.0.0.1:${port}` });
        ok.close();
    });

    it("answers malformed messages with errors and keeps serving", async () => {
        const client = new RpcTestClient(await connect(port, `?token=${token}`));
        client.sendRaw("{not json");
        client.sendRaw(JSON.stringify({ kind: "request", id: "x", method: "no.such", params: {} }));
        await expect(client.request("no.such.method", {})).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(client.request("model.load", { path: 42 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: /path/ });
        await expect(client.request("model.load", { path: "/definitely/not/here.gguf" })).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
        const info = await client.request("engine.info", {});
        expect(info.model).toBeNull();
    });

    it.skipIf(missing(sharedFiles.stories260K))("loads a model, builds a vector, and steers a run changed mid-way", async () => {
        const client = new RpcTestClient(await connect(port, `?token=${token}`));
        const model = await client.request("model.load", { path: sharedFiles.stories260K, threads: 1 });
        expect(model.shape).toMatchObject({ nLayer: 5, nEmbd: 64 });
        const datasets = await client.request("datasets.list", {});
        expect(datasets.map((dataset: { name: string }) => dataset.name)).toContain("sentiment");

        const built = await client.request("vectors.build", { dataset: "sentiment", readAt: "mean" });
        expect(built.diagnostics).toHaveLength(4);
        expect(client.events.some((entry) => entry.event === "progress" && entry.data.label === "building the vector")).toBe(true);
        const vectorId = built.vector.id;
        expect((await client.request("vectors.list", {})).vectors.map((vector: { id: string }) => vector.id)).toContain(vectorId);

        await expect(client.request("run.start", { prompt: "Once", patches: [{ id: "p", vectorId, strength: "strong" }] }))
            .rejects.toMatchObject({ code: "INVALID_ARGUMENT" });

        const patch = { id: "happy", vectorId, strength: 1, layers: { first: 2, last: 3 }, fromToken: 10 };
        const ended = client.waitForEvent((event) => event === "run.end");
        const { runId } = await client.request("run.start", {
            prompt: "Once upon a time", maxTokens: 60, patches: [patch], probes: [{ vectorId }]
        });
        await client.waitForEvent((event, data) => event === "run.token" && data.runId === runId && data.token.index === 20);
        await client.request("run.setPatches", { runId, patches: [{ ...patch, strength: 3 }] });
        const end = await ended;
        expect(end.runId).toBe(runId);
        const tokens = client.events.filter((entry) => entry.event === "run.token" && entry.data.runId === runId).map((entry) => entry.data.token);
        expect(tokens.length).toBeGreaterThan(20);
        expect(tokens[9].activePatches).toEqual([]);
        expect(tokens[10].activePatches).toEqual(["happy"]);
        expect(tokens[0].projections.length).toBe(4);
        const changes = client.events.filter((entry) => entry.event === "run.patchChange" && entry.data.runId === runId).map((entry) => entry.data.atToken);
        expect(changes[0]).toBe(0);
        expect(changes).toContain(10);
        expect(changes.at(-1)).toBeGreaterThan(20); // the mid-run change acts after the token it was made at

        // the run was recorded into the model's session, mid-run change included
        const { listSessions, openSession } = await import("../../engine/sessions/SessionReader.js");
        const sessions = listSessions(path.join(dataDir, "sessions"));
        expect(sessions).toHaveLength(1);
        const recorded = openSession(sessions[0]!.folder).runs.find((run) => run.start.runId === runId)!;
        expect(recorded.tokens.map((token) => token.id)).toEqual(tokens.map((token: { id: number }) => token.id));
        expect(recorded.changes.at(-1)!.patches[0]!.strength).toBe(3);
    });

    it.skipIf(missing(sharedFiles.stories260K))("survives the engine dying: clients hear why, reconnect to a fresh engine, and work on", async () => {
        const socket = await connect(port, `?token=${token}`);
        const client = new RpcTestClient(socket);
        const before = await client.request("engine.info", {});
        expect(before.pid).not.toBe(server.pid); // the engine is a child of the server
        const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
        const notice = client.waitForEvent((event) => event === "engine.restarted");
        process.kill(before.pid, "SIGKILL"); // what a native crash in llama.cpp looks like from outside
        expect((await notice).reason).toContain("SIGKILL");
        expect(await closed).toBe(1012);

        // the server kept listening; a new socket reaches the new engine (it may still be starting)
        const again = new RpcTestClient(await connect(port, `?token=${token}`));
        const after = await again.request("engine.info", {});
        expect(after.pid).not.toBe(before.pid);
        expect(after.model).toBeNull();
        const loaded = await again.request("model.load", { path: sharedFiles.stories260K, threads: 1 });
        expect(loaded.shape.nLayer).toBeGreaterThan(0);
        expect(await get(port, `/?token=${token}`)).not.toBe(401);
    });
});

/** Starts `tiller serve` with extra arguments/env; resolves with its port and token once it prints the URL. */
async function startServe(args: string[], env: NodeJS.ProcessEnv = process.env, launcher = [path.join(repoRoot, "bin", "tiller.js"), "serve"]): Promise<{ child: ChildProcess; port: number; token: string; output: () => string }> {
    const child = spawn(process.execPath, [...launcher, "--port", "0", "--threads", "1", ...args],
        { stdio: ["ignore", "pipe", "pipe"], env });
    let output = "";
    child.stderr!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
    });
    const url = await new Promise<URL>((resolve, reject) => {
        child.stdout!.on("data", (chunk: Buffer) => {
            output += chunk.toString();
            const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
            if (match != null)
                resolve(new URL(match[1]!));
        });
        child.once("exit", (code) => reject(new Error(`tiller serve exited with ${code}:\n${output}`)));
    });
    return { child, port: Number(url.port), token: url.searchParams.get("token")!, output: () => output };
}

describe("tiller serve's default model", () => {
    const toyWorld = path.join(repoRoot, "models", "toyworld.gguf");

    it.skipIf(!fs.existsSync(toyWorld))("opens the toy world when no model is chosen (what `npm start` does on a fresh clone)", async () => {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-serve-default-"));
        const env = { ...process.env, TILLER_MODELS_DIR: "" };
        const { child, port, token, output } = await startServe(["--data-dir", dataDir], env);
        try {
            expect(output()).toContain("toyworld.gguf");
            const client = new RpcTestClient(await connect(port, `?token=${token}`));
            const info = await client.request("engine.info", {});
            expect(info.model?.fileName).toBe("toyworld.gguf");
            expect(info.model?.shape.hasChatTemplate).toBe(true);
        } finally {
            child.kill("SIGTERM");
            fs.rmSync(dataDir, { recursive: true, force: true });
        }
    }, 60_000);

    it.skipIf(!fs.existsSync(toyWorld))("`npm start` without a display serves the lab with the toy world loaded", async () => {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-start-"));
        const env = { ...process.env, TILLER_MODELS_DIR: "", DISPLAY: "", WAYLAND_DISPLAY: "" };
        const { child, port, token, output } = await startServe(["--data-dir", dataDir], env, [path.join(repoRoot, "scripts", "start.mjs")]);
        try {
            expect(output()).toContain("serving the lab to your browser");
            const client = new RpcTestClient(await connect(port, `?token=${token}`));
            expect((await client.request("engine.info", {})).model?.fileName).toBe("toyworld.gguf");
        } finally {
            child.kill("SIGTERM");
            fs.rmSync(dataDir, { recursive: true, force: true });
        }
    }, 240_000); // on a fresh clone the first start builds what dist/ lacks (TypeScript, the renderer)

    it("--gpu picks the engine's backend; a backend that does not exist is refused by name", async () => {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-serve-gpu-"));
        const { child, port, token } = await startServe(["--data-dir", dataDir, "--no-model", "--gpu", "cpu"]);
        try {
            const client = new RpcTestClient(await connect(port, `?token=${token}`));
            expect((await client.request("engine.info", {})).gpu).toBe(false);
        } finally {
            child.kill("SIGTERM");
            fs.rmSync(dataDir, { recursive: true, force: true });
        }
        await expect(startServe(["--data-dir", dataDir, "--no-model", "--gpu", "opencl"])).rejects.toThrow(/backend must be one of auto, cuda, vulkan, metal, cpu; got "opencl"/);
    }, 60_000);

    it("starts without a model when the default is absent or --no-model is given", async () => {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-serve-default-"));
        const emptyModels = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-no-models-"));
        const { child, port, token } = await startServe(["--data-dir", dataDir], { ...process.env, TILLER_MODELS_DIR: emptyModels });
        try {
            const client = new RpcTestClient(await connect(port, `?token=${token}`));
            expect((await client.request("engine.info", {})).model).toBeNull();
        } finally {
            child.kill("SIGTERM");
            fs.rmSync(dataDir, { recursive: true, force: true });
            fs.rmSync(emptyModels, { recursive: true, force: true });
        }
    }, 60_000);
});
