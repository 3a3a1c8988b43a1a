// Reliability figures: bad inputs tried / clean errors / crashes (GGUF mutants through the readers,
// malformed HTTP requests against a real `tiller serve`), concurrent clients held with the p50/p99
// latency of an RPC under that load, a well-behaved client's p50/p99 while another floods (fair queue
// vs arrival order), and write faults injected into the session writer / survived.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { ControlVectorError, encodeControlVector, parseControlVector } from "../engine/gguf/ControlVectorFile.js";
import { GgufError } from "../engine/gguf/GgufError.js";
import { readGguf } from "../engine/gguf/GgufReader.js";
import { encodeRandomModel } from "../engine/gguf/RandomModelFile.js";
import { readModelHeader } from "../engine/models/readModelHeader.js";
import { TillerError } from "../engine/protocol/TillerError.js";
import { openSession } from "../engine/sessions/SessionReader.js";
import { SessionWriter } from "../engine/sessions/SessionWriter.js";
import { EngineProcessHost } from "../engine/service/transport/EngineProcessHost.js";
import { measureFloodLatency, quantileOf } from "./floodLatency.js";
import { mutateGguf, seededRandom } from "./ggufMutations.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

function quantile(sorted: readonly number[], q: number): number {
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** GGUF mutants through the header reader and the vector parser: typed error, valid result, or a crash (anything else). */
async function badGgufFiles(dir: string, cases: number): Promise<{ tried: number; clean: number; readable: number; crashes: number }> {
    const next = seededRandom(7);
    const sources = [
        encodeRandomModel({ nLayer: 2, nEmbd: 16, nHead: 2, nVocab: 300, type: "f16", seed: 5 }),
        encodeControlVector({ modelHint: "llama", nEmbd: 16, directions: new Map([1, 2].map((layer) => [layer, Float32Array.from({ length: 16 }, (_, i) => Math.sin(i * layer))])) })
    ];
    const tally = { tried: 0, clean: 0, readable: 0, crashes: 0 };
    const file = path.join(dir, "mutant.gguf");
    for (let index = 0; index < cases; index++) {
        const source = sources[index % 2]!;
        const { bytes } = mutateGguf(source, readGguf(source).dataOffset, next);
        fs.writeFileSync(file, bytes);
        for (const read of [() => readModelHeader([file]), () => parseControlVector(bytes, file)]) {
            tally.tried++;
            try {
                await read();
                tally.readable++;
            } catch (error) {
                if (error instanceof GgufError || error instanceof ControlVectorError || (error instanceof TillerError && error.code !== "INTERNAL"))
                    tally.clean++;
                else
                    tally.crashes++;
            }
        }
    }
    return tally;
}

async function startServe(dataDir: string): Promise<{ child: ChildProcess; port: number; token: string }> {
    const child = spawn(process.execPath, [path.join(repoRoot, "bin", "tiller.js"), "serve", "--port", "0", "--threads", "1", "--no-model", "--data-dir", dataDir],
        { stdio: ["ignore", "pipe", "ignore"] });
    const url = await new Promise<URL>((resolve, reject) => {
        let output = "";
        child.stdout!.on("data", (chunk: Buffer) => {
            output += chunk.toString();
            const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/.exec(output);
            if (match != null)
                resolve(new URL(match[1]!));
        });
        child.once("exit", (code) => reject(new Error(`tiller serve exited with ${code}`)));
    });
    return { child, port: Number(url.port), token: url.searchParams.get("token")! };
}

function rawRequest(port: number, text: string): Promise<number> {
    return new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        let answer = "";
        socket.on("data", (chunk) => answer += chunk.toString("latin1"));
        socket.on("error", () => resolve(0));
        socket.on("close", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
        socket.setTimeout(10_000, () => socket.destroy());
        socket.write(text);
    });
}

function connect(port: number, token: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/rpc?token=${token}`);
        socket.once("open", () => resolve(socket));
        socket.once("error", reject);
    });
}

/** Sends engine.info over `socket` until `until`; returns each round trip's milliseconds. */
async function pingLoop(socket: WebSocket, until: number): Promise<number[]> {
    const times: number[] = [];
    const pending = new Map<string, number>();
    let next = 0;
    return new Promise((resolve) => {
        const send = () => {
            if (Date.now() >= until) {
                resolve(times);
                return;
            }
            const id = `p${next++}`;
            pending.set(id, performance.now());
            socket.send(JSON.stringify({ kind: "request", id, method: "engine.info", params: {} }));
        };
        socket.on("message", (raw) => {
            const message = JSON.parse(raw.toString()) as { kind: string; id?: string };
            const started = message.id != null ? pending.get(message.id) : undefined;
            if (started == null)
                return;
            pending.delete(message.id!);
            times.push(performance.now() - started);
            send();
        });
        send();
    });
}

/** Appends records under random ENOSPC / EIO / short-write faults; a session survives when it reads back exactly what was appended. */
function sessionFaults(dir: string, sessions: number): { injected: number; survived: number; sessions: number } {
    const next = seededRandom(11);
    const realWrite = fs.writeSync;
    let injected = 0;
    let survived = 0;
    let faulty = false;
    (fs as { writeSync: unknown }).writeSync = ((fd: number, buffer: Uint8Array, offset?: number, length?: number, ...rest: unknown[]) => {
        const from = offset ?? 0;
        const size = length ?? buffer.length - from;
        if (faulty && buffer instanceof Uint8Array) {
            const roll = next();
            if (roll < 0.1) {
                injected++;
                realWrite(fd, buffer, from, Math.max(1, Math.floor(size / 2)));
                const error = Object.assign(new Error(roll < 0.05 ? "ENOSPC: no space left on device" : "EIO: i/o error"), { code: roll < 0.05 ? "ENOSPC" : "EIO" });
                throw error;
            }
            if (roll < 0.3 && size > 4) {
                injected++;
                return (realWrite as (...args: unknown[]) => number)(fd, buffer, from, Math.floor(size / 3), ...rest);
            }
        }
        return (realWrite as (...args: unknown[]) => number)(fd, buffer, from, size, ...rest);
    }) as typeof fs.writeSync;
    try {
        for (let index = 0; index < sessions; index++) {
            const writer = SessionWriter.create(dir, { id: `s${index}`, name: "bench", appVersion: "bench", model: null, settings: {} });
            const written: number[] = [];
            faulty = true;
            for (let record = 0; record < 50; record++) {
                try {
                    writer.append({ type: "note", at: new Date(0).toISOString(), kind: "bench", data: { record, text: "x".repeat(record * 7) } });
                    written.push(record);
                } catch {
                    // the record is lost; the session must stay readable
                }
            }
            faulty = false;
            writer.close();
            const session = openSession(path.join(dir, `s${index}`));
            const readBack = session.notes.map((note) => (note.data as { record: number }).record);
            if (session.problems.length === 0 && readBack.join(",") === written.join(","))
                survived++;
        }
    } finally {
        (fs as { writeSync: unknown }).writeSync = realWrite;
    }
    return { injected, survived, sessions };
}

export async function benchReliability(): Promise<string[]> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-bench-reliability-"));
    const lines: string[] = [];
    try {
        const gguf = await badGgufFiles(dir, 500);
        lines.push(`bad GGUF files: ${gguf.tried} reads of 500 seeded mutants, ${gguf.clean} clean errors, ${gguf.readable} still valid, ${gguf.crashes} crashes`);

        const { child, port, token } = await startServe(path.join(dir, "data"));
        try {
            const host = `Host: 127.0.0.1:${port}\r\nconnection: close\r\n`;
            const targets = ["/%", "/%00", "//..", "//[", "/%E0%A4%A", `/${"a".repeat(65536)}`, "/..%2f..%2fetc%2fpasswd", "/?token=%", "/rpc?token=x"];
            let answered = 0;
            for (const target of targets)
                answered += (await rawRequest(port, `GET ${target} HTTP/1.1\r\n${host}\r\n`)) >= 400 ? 1 : 0;
            const alive = child.exitCode == null;
            lines.push(`bad HTTP requests: ${targets.length} tried, ${answered} answered 4xx, ${alive ? 0 : 1} crashes`);

            const clients = await Promise.all(Array.from({ length: 200 }, () => connect(port, token)));
            // the first engine.info loads the llama.cpp backend: not part of the figure
            await new Promise((resolve) => {
                clients[0]!.once("message", resolve);
                clients[0]!.send(JSON.stringify({ kind: "request", id: "warm-up", method: "engine.info", params: {} }));
            });
            const until = Date.now() + 3_000;
            const times = (await Promise.all(clients.map((socket) => pingLoop(socket, until)))).flat().sort((a, b) => a - b);
            lines.push(`concurrent clients held: ${clients.length}; engine.info round trips under that load: ${times.length} in 3 s, ` +
                `p50 ${quantile(times, 0.5).toFixed(1)} ms, p99 ${quantile(times, 0.99).toFixed(1)} ms`);
            for (const socket of clients)
                socket.terminate();
        } finally {
            child.kill("SIGTERM");
        }

        // fairness: a polite client's engine.info while another keeps 3000 requests outstanding, with
        // the fair queue (as `tiller serve` runs) and without it (arrival order, the old behaviour)
        const flood: string[] = [];
        for (const [label, fairness] of [["fair queue", undefined], ["arrival order", { perConnection: Infinity, total: Infinity, queuedPerConnection: Infinity }]] as const) {
            const engine = await EngineProcessHost.start({ dataDir: path.join(dir, "data"), threads: 1, fairness });
            try {
                const { latencies } = await measureFloodLatency(engine, { backlog: 3000, samples: fairness == null ? 100 : 20 });
                flood.push(`${label} p50 ${quantileOf(latencies, 0.5).toFixed(1)} ms, p99 ${quantileOf(latencies, 0.99).toFixed(1)} ms (${latencies.length} round trips)`);
            } finally {
                await engine.dispose();
            }
        }
        lines.push(`a well-behaved client's engine.info while another floods (3000 outstanding): ${flood.join("; ")}`);

        const faults = sessionFaults(path.join(dir, "sessions"), 40);
        lines.push(`session writer faults (ENOSPC, EIO, short writes): ${faults.injected} injected over ${faults.sessions} sessions, ` +
            `${faults.survived} of ${faults.sessions} sessions read back exactly the records reported written`);
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
    return lines;
}
