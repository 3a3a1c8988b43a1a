// `tiller suspect`'s HTTP server: an OpenAI-compatible /v1/completions endpoint (plus /v1/models)
// for a model with a hidden conditional patch, on a loopback address only. The same rules as
// `tiller serve`: a per-launch token (here the API key: `Authorization: Bearer TOKEN`), the Host
// header must name this loopback server (no DNS rebinding), and browsers' cross-origin requests are
// refused. Requests run one at a time (one KV cache).
//
// Request fields: prompt (string, or token ids), max_tokens (default 16), temperature (default 1;
// 0 = greedy), seed (default 0), logprobs (0-20 alternatives per token, or null for none), echo
// (the prompt's own tokens and log-probs first), stop (string or list), n (1 only), stream (false
// only). Answers in the legacy OpenAI text_completion shape with `logprobs.tokens/token_logprobs/
// top_logprobs/text_offset`. Errors are {error: {message, type, code}} with an HTTP status.
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { TillerError } from "../protocol/TillerError.js";
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import { isLoopbackHost, tokensMatch } from "../service/transport/loopbackServer.js";
import { tokenPieces } from "./EngineOracle.js";
import type { HiddenPatchModel, ScoredPosition } from "./HiddenPatchModel.js";

export interface SuspectServerOptions {
    host?: string;
    port?: number;
    token?: string;
    /** the id /v1/models reports; default "tiller-suspect" */
    modelName?: string;
    /** default 256 */
    maxTokensLimit?: number;
}

export interface SuspectServer {
    /** the base URL clients use (…/v1) */
    baseUrl: string;
    port: number;
    token: string;
    /** requests served, for the log */
    readonly served: number;
    close(): Promise<void>;
}

class RequestError extends Error {
    public constructor(public readonly status: number, message: string, public readonly type = "invalid_request_error") {
        super(message);
    }
}

const maxBodyBytes = 1024 * 1024;

export async function startSuspectServer(suspect: HiddenPatchModel, options: SuspectServerOptions = {}): Promise<SuspectServer> {
    const host = options.host ?? "127.0.0.1";
    if (!isLoopbackHost(host))
        throw new TillerError("INVALID_ARGUMENT", `a suspect binds loopback addresses only (127.0.0.1, ::1, localhost), not "${host}"`);
    const token = options.token ?? randomBytes(24).toString("hex");
    const modelName = options.modelName ?? "tiller-suspect";
    const limit = options.maxTokensLimit ?? 256;
    let port = 0;
    let served = 0;
    let queue: Promise<unknown> = Promise.resolve();
    const serially = <T>(task: () => Promise<T>): Promise<T> => {
        const result = queue.then(task);
        queue = result.catch(() => undefined);
        return result;
    };

    const refusal = (request: http.IncomingMessage): RequestError | null => {
        const allowed = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`]);
        if (request.headers.host == null || !allowed.has(request.headers.host.toLowerCase()))
            return new RequestError(403, "wrong Host header", "permission_error");
        if (request.headers.origin != null)
            return new RequestError(403, "cross-origin requests are refused", "permission_error");
        const auth = request.headers.authorization;
        const given = auth != null && /^Bearer /i.test(auth) ? auth.slice(7).trim() : null;
        if (!tokensMatch(given, token))
            return new RequestError(401, "missing or wrong API key (Authorization: Bearer <the key `tiller suspect` printed>)", "authentication_error");
        return null;
    };

    const server = http.createServer((request, response) => {
        const reply = (status: number, body: unknown) => {
            response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", "x-content-type-options": "nosniff" });
            response.end(JSON.stringify(body));
        };
        const fail = (error: unknown) => {
            const known = error instanceof RequestError ? error
                : error instanceof TillerError && (error.code === "INVALID_ARGUMENT" || error.code === "PROMPT_TOO_LONG") ? new RequestError(400, error.message)
                    : new RequestError(500, error instanceof Error ? error.message : String(error), "server_error");
            reply(known.status, { error: { message: known.message, type: known.type, code: null } });
        };
        const refused = refusal(request);
        if (refused != null)
            return fail(refused);
        const url = new URL(request.url ?? "/", "http://local");
        const path = url.pathname.replace(/\/+$/, "");
        if (request.method === "GET" && path === "/v1/models")
            return reply(200, { object: "list", data: [{ id: modelName, object: "model", owned_by: "tiller" }] });
        if (path !== "/v1/completions")
            return fail(new RequestError(404, `no such endpoint: ${url.pathname} (try POST /v1/completions)`));
        if (request.method !== "POST")
            return fail(new RequestError(405, "use POST"));
        const chunks: Buffer[] = [];
        let size = 0;
        request.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size <= maxBodyBytes)
                chunks.push(chunk);
        });
        request.on("end", () => {
            if (size > maxBodyBytes)
                return fail(new RequestError(413, "the request body exceeds 1 MiB"));
            let body: unknown;
            try {
                body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            } catch {
                return fail(new RequestError(400, "the body is not JSON"));
            }
            serially(() => complete(suspect, body, { modelName, limit })).then((answer) => {
                served++;
                reply(200, answer);
            }, fail);
        });
    });

    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, host, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    return {
        baseUrl: `http://${urlHost}:${port}/v1`,
        port,
        token,
        get served() {
            return served;
        },
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        })
    };
}

interface CompletionRequest {
    tokens: Int32Array;
    promptText: string;
    maxTokens: number;
    temperature: number;
    seed: number;
    logprobs: number | null;
    echo: boolean;
    stop: string[];
}

function readRequest(suspect: HiddenPatchModel, body: unknown, limit: number): CompletionRequest {
    if (body == null || typeof body !== "object" || Array.isArray(body))
        throw new RequestError(400, "the body must be a JSON object");
    const fields = body as Record<string, unknown>;
    const model = suspect.context.model;
    if (fields.stream === true)
        throw new RequestError(400, "streaming is not supported: send stream: false");
    if (fields.n != null && fields.n !== 1)
        throw new RequestError(400, "only n = 1 is supported");
    let prompt = fields.prompt;
    if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === "string")
        prompt = prompt[0];
    let tokens: Int32Array;
    let promptText: string;
    if (typeof prompt === "string") {
        tokens = model.tokenize(prompt, { addBos: true });
        promptText = prompt;
    } else if (Array.isArray(prompt) && prompt.every((id) => Number.isInteger(id))) {
        const bad = (prompt as number[]).find((id) => id < 0 || id >= model.shape.nVocab);
        if (bad != null)
            throw new RequestError(400, `token id ${bad} is outside the vocabulary (0-${model.shape.nVocab - 1})`);
        const ids = prompt as number[];
        tokens = Int32Array.from(ids[0] === model.shape.bos ? ids : [model.shape.bos, ...ids]);
        promptText = model.detokenize(tokens.subarray(1));
    } else {
        throw new RequestError(400, "prompt must be a string or an array of token ids (one prompt per request)");
    }
    const whole = (name: string, value: unknown, fallback: number, min: number, max: number): number => {
        if (value == null)
            return fallback;
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
            throw new RequestError(400, `${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
        return value;
    };
    const maxTokens = whole("max_tokens", fields.max_tokens, 16, 0, limit);
    const logprobs = fields.logprobs == null || fields.logprobs === false ? null : fields.logprobs === true ? 1 : whole("logprobs", fields.logprobs, 0, 0, 20);
    const temperature = fields.temperature ?? 1;
    if (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature < 0 || temperature > 10)
        throw new RequestError(400, `temperature must be a number from 0 to 10, got ${JSON.stringify(fields.temperature)}`);
    if (fields.echo != null && typeof fields.echo !== "boolean")
        throw new RequestError(400, "echo must be true or false");
    const stop = fields.stop == null ? [] : typeof fields.stop === "string" ? [fields.stop] : fields.stop;
    if (!Array.isArray(stop) || stop.some((entry) => typeof entry !== "string" || entry.length === 0) || stop.length > 4)
        throw new RequestError(400, "stop must be a non-empty string or a list of up to 4 of them");
    if (tokens.length + maxTokens > suspect.context.contextSize)
        throw new RequestError(400, `the prompt (${tokens.length} tokens) and max_tokens (${maxTokens}) exceed the context of ${suspect.context.contextSize} tokens`);
    return { tokens, promptText, maxTokens, temperature, seed: whole("seed", fields.seed, 0, 0, 2 ** 32 - 1), logprobs, echo: fields.echo === true, stop: stop as string[] };
}

async function complete(suspect: HiddenPatchModel, body: unknown, settings: { modelName: string; limit: number }): Promise<unknown> {
    const request = readRequest(suspect, body, settings.limit);
    const model = suspect.context.model;
    const topN = request.logprobs ?? 0;
    const echoed: ScoredPosition[] = request.echo && request.tokens.length >= 2 ? (await suspect.score(request.tokens, topN)).positions : [];
    const random = new SeededRandom(request.seed);
    const { generated, stopped } = request.maxTokens === 0 ? { generated: [], stopped: "length" as const }
        : await suspect.complete(request.tokens, request.maxTokens, { temperature: request.temperature, random: () => random.next(), topN });
    const all = Int32Array.from([...request.tokens, ...generated.map((entry) => entry.id)]);
    const promptSpelled = model.detokenize(request.tokens.subarray(1));
    const generatedText = model.detokenize(all.subarray(1)).slice(promptSpelled.length);
    const pieces = tokenPieces(model, all, request.promptText + generatedText);
    const promptPieces = pieces.slice(0, request.tokens.length - 1);
    let generatedPieces = pieces.slice(request.tokens.length - 1);
    let finish: "length" | "stop" = stopped;
    let text = generatedPieces.join("");
    // stop strings: cut the text at the first one, and the tokens with it
    const stopAt = Math.min(...request.stop.map((entry) => text.indexOf(entry)).filter((index) => index >= 0));
    let kept = generated;
    if (Number.isFinite(stopAt)) {
        text = text.slice(0, stopAt);
        let length = 0;
        const count = generatedPieces.findIndex((piece) => (length += piece.length) > stopAt);
        kept = generated.slice(0, count < 0 ? generated.length : count);
        generatedPieces = generatedPieces.slice(0, kept.length);
        finish = "stop";
    }
    const topOf = (entry: ScoredPosition) => Object.fromEntries(entry.top.map((alternative) => [model.detokenize([alternative.id]), alternative.logprob]));
    let logprobs: unknown = null;
    if (request.logprobs != null) {
        const entries = [...(request.echo ? echoed.map((entry, i) => ({ text: promptPieces[i]!, entry })) : []), ...kept.map((entry, i) => ({ text: generatedPieces[i]!, entry }))];
        let offset = request.echo ? 0 : request.promptText.length;
        const textOffset: number[] = [];
        for (const item of entries) {
            textOffset.push(offset);
            offset += item.text.length;
        }
        logprobs = {
            tokens: entries.map((item) => item.text),
            token_logprobs: entries.map((item) => item.entry.logprob),
            top_logprobs: entries.map((item) => topOf(item.entry)),
            text_offset: textOffset
        };
    }
    return {
        id: `cmpl-${randomBytes(8).toString("hex")}`,
        object: "text_completion",
        created: Math.floor(Date.now() / 1000),
        model: settings.modelName,
        choices: [{ text: (request.echo ? request.promptText : "") + text, index: 0, logprobs, finish_reason: finish }],
        usage: { prompt_tokens: request.tokens.length - 1, completion_tokens: kept.length, total_tokens: request.tokens.length - 1 + kept.length }
    };
}
