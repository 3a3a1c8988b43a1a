// Black-box trigger localisation against seeded suspects served over real HTTP on loopback
// (stories260K through llama.cpp): the suspect endpoint's contract and guards, localisation's
// ranking, its query budget, a clean control, and the oracle's errors for bad endpoints.
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HiddenPatchModel } from "../../engine/blackbox/HiddenPatchModel.js";
import { HttpCompletionsOracle, completionsUrl } from "../../engine/blackbox/HttpCompletionsOracle.js";
import { locateTrigger } from "../../engine/blackbox/locateTrigger.js";
import { startSuspectServer, type SuspectServer } from "../../engine/blackbox/suspectServer.js";
import { suspectTrial, triggerRank, type SuspectTrial } from "../../engine/blackbox/suspectTrials.js";
import { drawSuspect } from "../../engine/blackbox/drawSuspect.js";
import { TillerError } from "../../engine/protocol/TillerError.js";
import type { TillerContext } from "../../engine/runtime/TillerContext.js";
import { TillerModel } from "../../engine/runtime/TillerModel.js";
import { argmaxLogit } from "../../engine/runtime/sampling/argmaxLogit.js";
import { computeTokenStatistics, logProbOf } from "../../engine/runtime/sampling/TokenStatistics.js";
import { EngineService } from "../../engine/service/EngineService.js";
import { InProcessRpcClient } from "../support/inProcessRpc.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";

function post(port: number, body: unknown, headers: Record<string, string>): Promise<{ status: number; json: unknown }> {
    return new Promise((resolve, reject) => {
        const request = http.request({ host: "127.0.0.1", port, path: "/v1/completions", method: "POST", headers: { "content-type": "application/json", ...headers } }, (response) => {
            let text = "";
            response.setEncoding("utf8").on("data", (chunk: string) => text += chunk).on("end", () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(text) as unknown }));
        });
        request.on("error", reject);
        request.end(typeof body === "string" ? body : JSON.stringify(body));
    });
}

async function expectCode(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
    const error = await promise.then(() => null, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(TillerError);
    expect((error as TillerError).code).toBe(code);
    expect((error as TillerError).message).toMatch(pattern);
}

/** a plain HTTP server answering every request with `handler` (for endpoints that misbehave) */
async function misbehavingServer(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
        close: () => new Promise((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        })
    };
}

describe.skipIf(missing(sharedFiles.stories260K))("black-box localisation against suspects on stories260K", () => {
    let model: TillerModel;
    let context: TillerContext;
    const servers: SuspectServer[] = [];

    beforeAll(async () => {
        model = await TillerModel.load(sharedFiles.stories260K);
        context = await model.createContext({ threads: 1, contextSize: 1024 });
    });
    afterAll(async () => {
        await Promise.all(servers.map((server) => server.close()));
        await model?.dispose();
    });

    async function serve(trial: SuspectTrial | null): Promise<SuspectServer> {
        const server = await startSuspectServer(new HiddenPatchModel(context, trial?.suspect.patch ?? null));
        servers.push(server);
        return server;
    }

    it("the same seed draws the same hidden patch; another seed draws another", async () => {
        const [a, b, c] = [await drawSuspect(context, 11), await drawSuspect(context, 11), await drawSuspect(context, 12)];
        expect(a.answer).toEqual(b.answer);
        expect(c.answer).not.toEqual(a.answer);
    });

    it("scores, ranks and continues like the reference computed from the logits (the native per-row path)", async () => {
        const tokens = model.tokenize("Once upon a time there was a little dog who liked to run", { addBos: true });
        await context.clearMemory();
        await context.evaluate(tokens, { startPosition: 0, logits: "all" });
        const rows = Array.from({ length: tokens.length }, (_, row) => context.logits(row));
        const clean = new HiddenPatchModel(context, null);
        const scored = await clean.score(tokens, 3);
        expect(scored.steeredFrom).toBeNull();
        for (const entry of scored.positions) {
            const reference = computeTokenStatistics(rows[entry.position - 1]!, 3);
            expect(Math.abs(entry.logprob - logProbOf(rows[entry.position - 1]!, entry.id, reference.logSumExp))).toBeLessThan(1e-12);
            expect(entry.top.map((t) => t.id)).toEqual(reference.top.map((t) => t.id));
            entry.top.forEach((t, j) => expect(Math.abs(t.logprob - reference.top[j]!.logprob)).toBeLessThan(1e-12));
        }
        const last = computeTokenStatistics(rows.at(-1)!, 4);
        expect((await clean.nextTop(tokens, 4)).map((t) => t.id)).toEqual(last.top.map((t) => t.id));
        const { generated } = await clean.complete(tokens, 1, { topN: 2 });
        expect(generated[0]!.id).toBe(argmaxLogit(rows.at(-1)!));
        expect(Math.abs(generated[0]!.logprob - logProbOf(rows.at(-1)!, generated[0]!.id, last.logSumExp))).toBeLessThan(1e-12);
    });

    it("serves echo log-probs that equal the model's own teacher-forced scores, and guards like `tiller serve`", async () => {
        const trial = await suspectTrial(context, 1, "text");
        const server = await serve(trial);
        const auth = { authorization: `Bearer ${server.token}` };
        const answer = await post(server.port, { prompt: trial.prompt, max_tokens: 0, echo: true, logprobs: 2 }, auth);
        expect(answer.status).toBe(200);
        const logprobs = (answer.json as { choices: { text: string; logprobs: { tokens: string[]; token_logprobs: number[]; top_logprobs: Record<string, number>[]; text_offset: number[] } }[] }).choices[0]!.logprobs;
        expect(logprobs.tokens.join("").trimStart()).toBe(trial.prompt.trimStart());
        const tokens = model.tokenize(trial.prompt, { addBos: true });
        const direct = await new HiddenPatchModel(context, trial.suspect.patch).score(tokens);
        expect(logprobs.token_logprobs).toEqual(direct.positions.map((entry) => entry.logprob));
        expect(direct.steeredFrom).not.toBeNull();
        expect(Object.keys(logprobs.top_logprobs[0]!)).toHaveLength(2);
        // the patch changes the answer after the trigger and not before it
        const clean = await new HiddenPatchModel(context, null).score(tokens);
        const onset = direct.steeredFrom!;
        expect(direct.positions.slice(0, onset - 1).map((entry) => entry.logprob)).toEqual(clean.positions.slice(0, onset - 1).map((entry) => entry.logprob));
        expect(direct.positions.at(-1)!.logprob).not.toBeCloseTo(clean.positions.at(-1)!.logprob, 3);

        expect((await post(server.port, { prompt: "Hi" }, {})).status).toBe(401);
        expect((await post(server.port, { prompt: "Hi" }, { authorization: "Bearer wrong" })).status).toBe(401);
        expect((await post(server.port, { prompt: "Hi" }, { ...auth, host: "evil.example:80" })).status).toBe(403);
        expect((await post(server.port, { prompt: "Hi" }, { ...auth, origin: "http://evil.example" })).status).toBe(403);
        for (const [body, pattern] of [
            ["not json", /not JSON/], [{ prompt: 5 }, /prompt must be/], [{ prompt: [1, 99999] }, /outside the vocabulary/],
            [{ prompt: "Hi", stream: true }, /streaming/], [{ prompt: "Hi", max_tokens: -1 }, /max_tokens/], [{ prompt: "Hi", logprobs: 50 }, /logprobs/],
            [{ prompt: "Hi", temperature: "hot" }, /temperature/], [{ prompt: "Hi", max_tokens: 5000 }, /max_tokens/]
        ] as const) {
            const refused = await post(server.port, body, auth);
            expect(refused.status).toBe(400);
            expect((refused.json as { error: { message: string } }).error.message).toMatch(pattern);
        }
        // still serving after the bad requests
        expect((await post(server.port, { prompt: [1, 2, 3].slice(0, 1).concat(model.tokenize("Tom", { addBos: false }).length > 0 ? [...model.tokenize("Tom", { addBos: false })] : []), max_tokens: 3, temperature: 0 }, auth)).status).toBe(200);
    });

    it("ranks the token that fires the trigger in the top three over HTTP, within the budget (a fixed subset: seeds 0-1, both kinds)", async () => {
        let fired = 0;
        let inTop3 = 0;
        for (const [seed, kind] of [[0, "text"], [0, "projection"], [1, "text"], [1, "projection"]] as const) {
            const trial = await suspectTrial(context, seed, kind);
            const server = await serve(trial);
            const oracle = new HttpCompletionsOracle({ endpoint: server.baseUrl, apiKey: server.token, budget: 200 });
            const result = await locateTrigger(oracle, { prompt: trial.prompt });
            expect(result.mode).toBe("echo");
            expect(result.queries).toBeLessThanOrEqual(200);
            expect(result.queries).toBe(server.served);
            expect(result.units.map((unit) => unit.text).join("")).toBe(trial.prompt);
            if (trial.fired == null)
                continue;
            fired++;
            const rank = triggerRank(trial, result.units, result.ranking);
            if (rank != null && rank < 3 && result.switchFound)
                inTop3++;
        }
        // the floor: the bench (`npm run bench -- --only blackbox`) carries the full figures
        expect(fired).toBeGreaterThanOrEqual(3);
        expect(inTop3).toBeGreaterThanOrEqual(fired - 1);
    }, 240_000); // four localisations over HTTP: ~35 s on a quiet 2-core machine

    it("says no clear switch on the clean model, and stops at the budget", async () => {
        const trial = await suspectTrial(context, 2, "text");
        const clean = await serve(null);
        const result = await locateTrigger(new HttpCompletionsOracle({ endpoint: clean.baseUrl, apiKey: clean.token }), { prompt: trial.prompt });
        expect(result.switchFound).toBe(false);

        const patched = await serve(trial);
        const small = await locateTrigger(new HttpCompletionsOracle({ endpoint: patched.baseUrl, apiKey: patched.token, budget: 12 }), { prompt: trial.prompt });
        expect(small.budgetExhausted).toBe(true);
        expect(small.queries).toBe(12);
        expect(patched.served).toBe(12);
    }, 180_000);

    it("names the problem for unreachable, refusing, slow and non-conforming endpoints", async () => {
        expect(() => completionsUrl("ftp://x")).toThrow(/http/);
        expect(() => completionsUrl("not a url")).toThrow(/not a URL/);
        expect(completionsUrl("http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080/v1/completions");
        expect(completionsUrl("http://127.0.0.1:8080/v1/")).toBe("http://127.0.0.1:8080/v1/completions");

        const closed = await misbehavingServer(() => undefined);
        const closedUrl = closed.url;
        await closed.close();
        await expectCode(locateTrigger(new HttpCompletionsOracle({ endpoint: closedUrl }), { prompt: "Tom had a car." }), "ORACLE_UNAVAILABLE", /could not reach .*ECONNREFUSED/);

        const suspect = await serve(null);
        await expectCode(locateTrigger(new HttpCompletionsOracle({ endpoint: suspect.baseUrl, apiKey: "wrong" }), { prompt: "Tom had a car." }), "ORACLE_UNAVAILABLE", /HTTP 401.*API key/);

        const silent = await misbehavingServer(() => undefined); // accepts, never answers
        await expectCode(locateTrigger(new HttpCompletionsOracle({ endpoint: silent.url, timeoutMs: 300 }), { prompt: "Tom had a car." }), "ORACLE_UNAVAILABLE", /did not answer within/);
        await silent.close();

        const html = await misbehavingServer((_request, response) => response.writeHead(200, { "content-type": "text/html" }).end("<html>hello</html>"));
        await expectCode(locateTrigger(new HttpCompletionsOracle({ endpoint: html.url }), { prompt: "Tom had a car." }), "ORACLE_NONCONFORMING", /not JSON/);
        await html.close();

        const noLogprobs = await misbehavingServer((_request, response) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ choices: [{ text: "x", logprobs: null }] })));
        await expectCode(locateTrigger(new HttpCompletionsOracle({ endpoint: noLogprobs.url }), { prompt: "Tom had a car." }), "ORACLE_NONCONFORMING", /logprobs is missing/);
        await noLogprobs.close();

        const positive = await misbehavingServer((_request, response) => response.writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify({ choices: [{ text: "x", logprobs: { tokens: ["Tom"], token_logprobs: [3.5] } }] })));
        await expectCode(locateTrigger(new HttpCompletionsOracle({ endpoint: positive.url }), { prompt: "Tom" }), "ORACLE_NONCONFORMING", /log-probability ≤ 0/);
        await positive.close();

        const missingRoute = await misbehavingServer((_request, response) => response.writeHead(404).end("nope"));
        await expectCode(locateTrigger(new HttpCompletionsOracle({ endpoint: missingRoute.url }), { prompt: "Tom had a car." }), "ORACLE_NONCONFORMING", /HTTP 404/);
        await missingRoute.close();

        const aborted = new AbortController();
        aborted.abort();
        await expectCode(locateTrigger(new HttpCompletionsOracle({ endpoint: suspect.baseUrl, apiKey: suspect.token }), { prompt: "Tom had a car.", signal: aborted.signal }), "ABORTED", /cancelled/);
        expect(() => new HttpCompletionsOracle({ endpoint: suspect.baseUrl, budget: 0 })).toThrow(/budget/);
    });

    it("runs as the blackbox.locate request: progress in queries, cancel, bad params refused, no model needed", async () => {
        const trial = await suspectTrial(context, 2, "text");
        const server = await serve(trial);
        const service = new EngineService({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "tiller-blackbox-rpc-")) });
        const client = new InProcessRpcClient(service);
        try {
            const started = client.start("blackbox.locate", { endpoint: server.baseUrl, apiKey: server.token, prompt: trial.prompt, budget: 150 });
            const result = await started.result;
            expect(triggerRank(trial, result.units, result.ranking)).toBe(0);
            const progress = client.events.filter((entry) => entry.event === "progress" && (entry.data as { requestId: string }).requestId === started.id);
            expect(progress.length).toBeGreaterThan(2);
            expect(progress.every((entry) => (entry.data as { total: number }).total === 150)).toBe(true);

            const cancelled = client.start("blackbox.locate", { endpoint: server.baseUrl, apiKey: server.token, prompt: trial.prompt });
            await client.waitForEvent("progress", (data) => data.requestId === cancelled.id && data.label === "scan");
            client.cancel(cancelled.id);
            const error = await cancelled.result.then(() => null, (caught: unknown) => caught as { code: string });
            expect(error?.code).toBe("ABORTED");

            expect((await client.failure("blackbox.locate", { endpoint: server.baseUrl, prompt: "" })).code).toBe("INVALID_ARGUMENT");
            expect((await client.failure("blackbox.locate", { endpoint: "file:///etc/passwd", prompt: "Tom" })).message).toMatch(/http/);
            expect((await client.failure("blackbox.locate", { endpoint: server.baseUrl, prompt: "Tom", apiKey: "nope" })).code).toBe("ORACLE_UNAVAILABLE");
        } finally {
            await service.dispose();
        }
    }, 180_000);
});
