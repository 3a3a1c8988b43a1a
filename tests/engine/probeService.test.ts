// The probes requests of the engine service on stories260K: a sweep's result shape, its progress
// events and its cancellation, BUSY against a run in progress, sweeps of a recorded run, and a
// detection that finds the onset of the patch a recorded run had. Recorded into the session.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EngineEvents } from "../../engine/protocol/EngineContract.js";
import type { ServerMessage } from "../../engine/protocol/wire.js";
import { EngineRpcServer } from "../../engine/service/EngineRpcServer.js";
import { EngineService, type RequestContext } from "../../engine/service/EngineService.js";
import { openSession } from "../../engine/sessions/SessionReader.js";
import { decodeNpy } from "../../engine/io/npy.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const prompt = "One day, Tom went to the park with his mom.";
const completion = " He was very happy. He smiled.";

describe.skipIf(missing(sharedFiles.stories260K))("probes requests of the engine service", () => {
    let dataDir: string;
    let service: EngineService;
    let happyId: string;
    const events: { event: string; data: any }[] = [];
    let nextRequest = 0;
    const request = (signal = new AbortController().signal): RequestContext => ({ requestId: `r${nextRequest++}`, signal });

    /** resolves with the run's end event (the events are collected from the start) */
    const runEnd = async (runId: string): Promise<EngineEvents["run.end"]> => {
        for (;;) {
            const end = events.find((entry) => entry.event === "run.end" && entry.data.runId === runId);
            if (end != null)
                return end.data;
            await new Promise((resolve) => setTimeout(resolve, 10));
        }
    };
    /** starts a run and resolves with its id once it has ended */
    const runToEnd = async (params: Parameters<EngineService["startRun"]>[0]): Promise<string> => {
        const { runId } = await service.startRun(params);
        expect((await runEnd(runId)).error).toBeUndefined();
        return runId;
    };

    beforeAll(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-probes-"));
        service = new EngineService({ dataDir, threads: 1 });
        service.onEvent((event, data) => events.push({ event, data }));
        await service.loadModel({ path: sharedFiles.stories260K, gpuLayers: 0, contextSize: 512, threads: 1 }, request());
        happyId = (await service.buildVector({ dataset: "sentiment", readAt: "mean", name: "happy" }, request())).vector.id;
    }, 120_000);
    afterAll(async () => {
        await service?.dispose();
        if (dataDir != null)
            fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("sweeps a typed completion: curves, χ, χ_{t,l}, progress events, recorded with .npy arrays", async () => {
        const context = request();
        const result = await service.probes.sweep({ prompt, completion, vectorId: happyId, layers: { first: 2, last: 3 }, alphas: [-1, 0, 1], perLayer: true }, context);
        expect(result.alphas).toEqual([-1, 0, 1]);
        expect(result.layers).toEqual({ first: 2, last: 3 });
        expect(result.tokens.length).toBeGreaterThan(3);
        expect(result.tokens.map((token) => token.piece).join("")).toBe(completion);
        for (const token of result.tokens) {
            expect(token.logprobs).toHaveLength(3);
            expect(token.chiPerLayer).toHaveLength(2);
            expect(token.logprobs.every((value) => Number.isFinite(value) && value <= 0)).toBe(true);
            expect(Number.isFinite(token.chi)).toBe(true);
        }
        // the vector moves the text: some token responds
        expect(Math.max(...result.tokens.map((token) => Math.abs(token.chi)))).toBeGreaterThan(1e-3);
        // χ_t with the patch on both blocks ≈ the sum of the one-block responses (linear response)
        const token = result.tokens[0]!;
        expect(token.chi).toBeCloseTo(token.chiPerLayer![0]! + token.chiPerLayer![1]!, 2);

        const progress = events.filter((entry) => entry.event === "progress" && entry.data.requestId === context.requestId).map((entry) => entry.data);
        // the centre, six stencil points, the grid, six per layer
        expect(progress).toHaveLength(1 + 6 + 3 + 2 * 6);
        expect(progress.at(-1)).toMatchObject({ done: 22, total: 22, label: "sweeping" });
        expect(result.fromToken).toBe(0);
        expect(result.tokens.every((entry) => entry.chiError >= 0 && entry.fisher != null && entry.fisher > 0)).toBe(true);

        const writer = await (service as unknown as { loaded: { session: Promise<{ folder: string }> } }).loaded.session;
        const note = openSession(writer.folder).notes.find((entry) => entry.kind === "probes.sweep" && (entry.data as { sweepId: string }).sweepId === result.sweepId);
        expect(note).toBeDefined();
        const perLayer = decodeNpy(fs.readFileSync(path.join(writer.folder, "probes", "sweeps", result.sweepId, "chi_per_layer.npy")));
        expect(perLayer.shape).toEqual([result.tokens.length, 2]);
        expect(perLayer.data[0]).toBeCloseTo(token.chiPerLayer![0]!, 10);
        const chi = decodeNpy(fs.readFileSync(path.join(writer.folder, "probes", "sweeps", result.sweepId, "chi.npy")));
        expect(chi.shape).toEqual([result.tokens.length, 7]);
        expect(chi.data[1]).toBeCloseTo(token.chiError, 12);
        expect(chi.data[4]).toBeCloseTo(token.fisher!, 12);
    });

    it("cancels a sweep through its signal, and the engine keeps serving", async () => {
        const controller = new AbortController();
        const context = request(controller.signal);
        const stop = service.onEvent((event, data) => {
            if (event === "progress" && (data as { requestId: string }).requestId === context.requestId)
                controller.abort();
        });
        await expect(service.probes.sweep({ prompt, completion, vectorId: happyId, alphas: [-2, -1, 0, 1, 2], perLayer: true }, context))
            .rejects.toMatchObject({ code: "ABORTED" });
        stop();
        const progress = events.filter((entry) => entry.event === "progress" && entry.data.requestId === context.requestId);
        expect(progress.length).toBeLessThan(3);
        // the context was released: a run goes
        await runToEnd({ prompt: "Once upon a time", maxTokens: 4 });
    });

    it("refuses a sweep while a run holds the context (BUSY), and sweeps a recorded run by its id", async () => {
        const { runId } = await service.startRun({ prompt: "Once upon a time", maxTokens: 400 });
        await expect(service.probes.sweep({ prompt, completion, vectorId: happyId, alphas: [0] }, request())).rejects.toMatchObject({ code: "BUSY" });
        service.stopRun(runId);
        expect((await runEnd(runId)).stopReason).toBe("aborted");
        const recorded = await runToEnd({ prompt: "Once upon a time", maxTokens: 12 });
        const result = await service.probes.sweep({ runId: recorded, vectorId: happyId, alphas: [-1, 1] }, request());
        expect(result.prompt).toBe("Once upon a time");
        expect(result.tokens.length).toBeGreaterThanOrEqual(10);
        await expect(service.probes.sweep({ runId: "no-such-run", vectorId: happyId, alphas: [0] }, request())).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });

        // the temperature scan of one token of the recorded run (the inspector's C(T) curve)
        const temperatures = [0.1, 0.3, 1, 3, 10];
        const scan = await service.probes.thermo({ runId: recorded, temperatures, index: 2 }, request());
        expect(scan.tokens.map((token) => token.index)).toEqual([2]);
        const token = scan.tokens[0]!;
        expect(token.id).toBe(result.tokens[2]!.id);
        expect(token.heatCapacity.every((value) => value >= 0)).toBe(true);
        // S grows with T towards ln V
        expect(token.entropy[4]).toBeGreaterThan(token.entropy[0]!);
        expect(token.entropy[4]).toBeLessThanOrEqual(Math.log(512) + 1e-9);
        const whole = await service.probes.thermo({ runId: recorded, temperatures }, request());
        expect(whole.tokens).toHaveLength(result.tokens.length);
        await expect(service.probes.thermo({ runId: recorded, temperatures, index: 999 }, request())).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    });

    it("detects the patch of a recorded run: onset, first layer, vector, strength; a clean run is not flagged", async () => {
        const patched = await runToEnd({ prompt: "Once upon a time", maxTokens: 16,
            patches: [{ id: "p", vectorId: happyId, strength: -1.5, layers: { first: 2, last: 4 }, fromToken: 5 }] });
        const report = await service.probes.detect({ runId: patched }, request());
        expect(report.steered).toBe(true);
        expect(report.onsetToken).toBe(5);
        expect(report.firstLayer).toBe(2);
        expect(report.matches[0]).toMatchObject({ vectorId: happyId, name: "happy" });
        expect(Math.abs(report.matches[0]!.cosine)).toBeGreaterThan(0.99);
        expect(report.matches[0]!.strength).toBeCloseTo(-1.5, 1);
        expect(report.kl).toHaveLength(report.tokens.length);
        expect(report.kl.slice(0, 5).every((value) => value < 1e-5)).toBe(true);
        expect(Math.max(...report.kl.slice(5))).toBeGreaterThan(1e-4);

        const clean = await runToEnd({ prompt: "Once upon a time", maxTokens: 10 });
        const cleanReport = await service.probes.detect({ runId: clean }, request());
        expect(cleanReport.steered).toBe(false);
        expect(cleanReport.onsetToken).toBeNull();
    });

    it("detects the patch of a triggered run: the onset is where the trigger engaged, not the start", async () => {
        const runId = await runToEnd({ prompt: "Once upon a time", maxTokens: 20,
            patches: [{ id: "t", vectorId: happyId, strength: 1.5, layers: { first: 2, last: 4 }, trigger: { kind: "text", match: "Lily", holdTokens: 4 } }] });
        const engaged = events.find((entry) => entry.event === "run.trigger" && entry.data.runId === runId && entry.data.kind === "engaged")?.data;
        expect(engaged).toBeDefined();
        const report = await service.probes.detect({ runId }, request());
        expect(report.steered).toBe(true);
        expect(report.onsetToken).toBe(engaged.atToken);
        expect(report.tokens.slice(0, engaged.atToken).map((token) => token.piece).join("")).toContain("Lily");
        expect(report.firstLayer).toBe(2);
        expect(report.matches[0]!.vectorId).toBe(happyId);
        expect(report.matches[0]!.strength).toBeCloseTo(1.5, 2);
        expect(report.kl.slice(0, engaged.atToken).every((value) => value < 1e-5)).toBe(true);
    });

    it("detects a typed text against its claimed patch: onset, layer and strength of the claim", async () => {
        const report = await service.probes.detect({ prompt, completion,
            patches: [{ id: "claimed", vectorId: happyId, strength: 2, layers: { first: 2, last: 3 }, fromToken: 3 }] }, request());
        expect(report.steered).toBe(true);
        expect(report.onsetToken).toBe(3);
        expect(report.firstLayer).toBe(2);
        expect(report.matches[0]!.vectorId).toBe(happyId);
        expect(report.matches[0]!.strength).toBeCloseTo(2, 2);
        expect(report.tokens.map((token) => token.piece).join("")).toBe(completion);
        await expect(service.probes.detect({ prompt, completion, patches: [{ id: "t", vectorId: happyId, strength: 1, trigger: { kind: "text", match: "happy" } }] }, request()))
            .rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("triggered") });
    });

    it("over the RPC server: bad params name the field, a cancel message aborts a sweep, and the engine keeps serving", async () => {
        const rpc = new EngineRpcServer(service);
        const replies: ServerMessage[] = [];
        let watch: ((message: ServerMessage) => void) | undefined;
        const connection = rpc.connect({ send: (message) => {
            replies.push(message);
            watch?.(message);
        } });
        const reply = async (id: string): Promise<ServerMessage> => {
            for (;;) {
                const found = replies.find((message) => message.kind !== "event" && message.id === id);
                if (found != null)
                    return found;
                await new Promise((resolve) => setTimeout(resolve, 5));
            }
        };
        connection.receive(JSON.stringify({ kind: "request", id: "empty-grid", method: "probes.sweep", params: { prompt, completion, vectorId: happyId, alphas: [] } }));
        expect(await reply("empty-grid")).toMatchObject({ kind: "error", error: { code: "INVALID_ARGUMENT", message: expect.stringContaining("alphas") } });
        connection.receive(JSON.stringify({ kind: "request", id: "no-text", method: "probes.sweep", params: { vectorId: happyId, alphas: [0] } }));
        expect(await reply("no-text")).toMatchObject({ kind: "error", error: { code: "INVALID_ARGUMENT", message: expect.stringContaining("prompt") } });
        connection.receive(JSON.stringify({ kind: "request", id: "no-vector", method: "probes.sweep", params: { prompt, completion, vectorId: "no-such-vector", alphas: [0] } }));
        const noVector = await reply("no-vector");
        expect(noVector.kind).toBe("error");
        expect((noVector as { error: { code: string } }).error.code).not.toBe("INTERNAL");

        connection.receive(JSON.stringify({ kind: "request", id: "too-long", method: "probes.detect", params: { prompt, completion: " He smiled.".repeat(200) } }));
        expect(await reply("too-long")).toMatchObject({ kind: "error", error: { code: "PROMPT_TOO_LONG", message: expect.stringContaining("512") } });

        // cancel at the first progress event of the request, as this client receives it
        watch = (message) => {
            if (message.kind === "event" && message.event === "progress" && (message.data as { requestId: string }).requestId === "big")
                connection.receive(JSON.stringify({ kind: "cancel", id: "big" }));
        };
        connection.receive(JSON.stringify({ kind: "request", id: "big", method: "probes.sweep",
            params: { prompt, completion, vectorId: happyId, alphas: Array.from({ length: 101 }, (_, i) => -2 + i * 0.04), perLayer: true } }));
        expect(await reply("big")).toMatchObject({ kind: "error", error: { code: "ABORTED" } });
        watch = undefined;
        connection.receive(JSON.stringify({ kind: "request", id: "after", method: "probes.sweep", params: { prompt, completion, vectorId: happyId, alphas: [0] } }));
        expect(await reply("after")).toMatchObject({ kind: "response" });
        connection.close();
    });
});
