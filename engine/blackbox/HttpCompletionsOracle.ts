// A log-prob oracle over HTTP: an OpenAI-compatible /v1/completions endpoint (vLLM, llama.cpp's
// llama-server, LM Studio, Ollama, llama-cpp-python, `tiller suspect`).
//
// Shapes accepted (servers differ):
//   request   {model?, prompt: string, max_tokens, temperature: 0, logprobs: k, echo?: true}
//   logprobs  legacy OpenAI: {tokens[], token_logprobs[], top_logprobs[{text: lp}], text_offset[]}
//             or chat style (llama-server): {content: [{token, logprob, top_logprobs: [{token, logprob}]}]}
// `echo` (log-probs of the prompt's own tokens) is what scoring wants; servers without it (llama-
// server answers 400 "Only no echo is supported", or returns only the generated token) are used
// through nextTokenTop alone. `max_tokens: 0` with echo is refused by some servers: then 1, and
// the generated token is cut off.
import { TillerError } from "../protocol/TillerError.js";
import { QueryCounter, type LogProbOracle, type OracleToken } from "./LogProbOracle.js";

export interface HttpOracleOptions {
    /** base URL (http://host:port), …/v1, or the full …/v1/completions */
    endpoint: string;
    /** sent as `Authorization: Bearer KEY`; never logged or stored */
    apiKey?: string;
    /** the `model` field some servers require; default "default" */
    model?: string;
    /** per query, default 30 000 ms */
    timeoutMs?: number;
    /** default 400 queries */
    budget?: number;
}

const maxResponseBytes = 16 * 1024 * 1024;

/** The completions URL for what the user typed; INVALID_ARGUMENT when it is not an http(s) URL. */
export function completionsUrl(endpoint: string): string {
    let url: URL;
    try {
        url = new URL(endpoint.trim());
    } catch {
        throw new TillerError("INVALID_ARGUMENT", `"${endpoint}" is not a URL (expected e.g. http://127.0.0.1:8080/v1)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:")
        throw new TillerError("INVALID_ARGUMENT", `the endpoint must be an http:// or https:// URL, got ${url.protocol}`);
    const pathname = url.pathname.replace(/\/+$/, "");
    url.pathname = pathname.endsWith("/completions") ? pathname : pathname.endsWith("/v1") ? `${pathname}/completions` : `${pathname}/v1/completions`;
    return url.toString();
}

interface ParsedChoice {
    text: string;
    tokens: { text: string; logprob: number | null; top: Map<string, number> | null; offset: number | null }[];
}

function nonconforming(url: string, what: string): TillerError {
    return new TillerError("ORACLE_NONCONFORMING", `${url} did not answer like an OpenAI completions endpoint: ${what}`);
}

const isLogprob = (value: unknown): value is number | null => value === null || (typeof value === "number" && Number.isFinite(value) && value <= 1e-6);

/** Reads choices[0] of a completions response in either logprobs shape; throws ORACLE_NONCONFORMING. */
export function parseCompletion(url: string, body: unknown): ParsedChoice {
    const choice = (body as { choices?: unknown } | null)?.choices;
    if (!Array.isArray(choice) || choice.length === 0 || typeof choice[0] !== "object" || choice[0] == null)
        throw nonconforming(url, "no choices[0]");
    const first = choice[0] as { text?: unknown; logprobs?: unknown };
    if (typeof first.text !== "string")
        throw nonconforming(url, "choices[0].text is not a string");
    const logprobs = first.logprobs as Record<string, unknown> | null | undefined;
    if (logprobs == null || typeof logprobs !== "object")
        throw nonconforming(url, "choices[0].logprobs is missing (the server ignored `logprobs`)");
    const tokens: ParsedChoice["tokens"] = [];
    if (Array.isArray(logprobs.content)) {
        for (const entry of logprobs.content as unknown[]) {
            const item = entry as { token?: unknown; logprob?: unknown; top_logprobs?: unknown };
            if (typeof item?.token !== "string" || !isLogprob(item.logprob))
                throw nonconforming(url, "a logprobs.content entry lacks token/logprob");
            let top: Map<string, number> | null = null;
            if (Array.isArray(item.top_logprobs)) {
                top = new Map();
                for (const alternative of item.top_logprobs as { token?: unknown; logprob?: unknown }[]) {
                    if (typeof alternative?.token !== "string" || typeof alternative.logprob !== "number" || !isLogprob(alternative.logprob))
                        throw nonconforming(url, "a top_logprobs entry lacks token/logprob");
                    top.set(alternative.token, alternative.logprob);
                }
            }
            tokens.push({ text: item.token, logprob: item.logprob, top, offset: null });
        }
        return { text: first.text, tokens };
    }
    const { tokens: texts, token_logprobs: values, top_logprobs: tops, text_offset: offsets } = logprobs;
    if (!Array.isArray(texts) || !Array.isArray(values) || texts.length !== values.length)
        throw nonconforming(url, "logprobs.tokens and logprobs.token_logprobs are missing or of different lengths");
    for (let i = 0; i < texts.length; i++) {
        if (typeof texts[i] !== "string" || !isLogprob(values[i]))
            throw nonconforming(url, `logprobs entry ${i} is not a token text with a log-probability ≤ 0`);
        let top: Map<string, number> | null = null;
        const entry = Array.isArray(tops) ? tops[i] : null;
        if (entry != null && typeof entry === "object") {
            top = new Map();
            for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
                if (typeof value !== "number" || !isLogprob(value))
                    throw nonconforming(url, `top_logprobs entry ${i} has a value that is not a log-probability`);
                top.set(key, value);
            }
        }
        const offset = Array.isArray(offsets) && typeof offsets[i] === "number" ? offsets[i] as number : null;
        tokens.push({ text: texts[i] as string, logprob: values[i] as number | null, top, offset });
    }
    return { text: first.text, tokens };
}

export class HttpCompletionsOracle implements LogProbOracle {
    public readonly url: string;
    public readonly description: string;
    private readonly counter: QueryCounter;
    private readonly timeoutMs: number;
    /** null: not known yet */
    private echoWorks: boolean | null = null;
    private echoMaxTokens = 0;

    public constructor(private readonly options: HttpOracleOptions) {
        this.url = completionsUrl(options.endpoint);
        this.description = this.url;
        this.counter = new QueryCounter(options.budget ?? 400);
        this.timeoutMs = options.timeoutMs ?? 30_000;
        if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0)
            throw new TillerError("INVALID_ARGUMENT", `the timeout must be a positive number of milliseconds, got ${options.timeoutMs}`);
    }

    public get queries(): number {
        return this.counter.queries;
    }

    public get budget(): number {
        return this.counter.budget;
    }

    /** POSTs one request; resolves to the parsed JSON body, or to {status, message} for a 4xx the caller may handle */
    private async post(body: Record<string, unknown>, signal?: AbortSignal): Promise<{ ok: true; json: unknown } | { ok: false; status: number; message: string }> {
        if (signal?.aborted)
            throw new TillerError("ABORTED", "localisation was cancelled");
        this.counter.take();
        const timeout = AbortSignal.timeout(this.timeoutMs);
        const combined = signal == null ? timeout : AbortSignal.any([signal, timeout]);
        let response: Response;
        try {
            response = await fetch(this.url, {
                method: "POST",
                headers: {
                    "content-type": "application/json",
                    accept: "application/json",
                    ...(this.options.apiKey ? { authorization: `Bearer ${this.options.apiKey}` } : {})
                },
                body: JSON.stringify({ model: this.options.model ?? "default", temperature: 0, ...body }),
                signal: combined
            });
        } catch (error) {
            if (signal?.aborted)
                throw new TillerError("ABORTED", "localisation was cancelled");
            if (timeout.aborted)
                throw new TillerError("ORACLE_UNAVAILABLE", `${this.url} did not answer within ${Math.round(this.timeoutMs / 1000)} s`);
            const cause = (error as { cause?: { code?: string; message?: string } }).cause;
            throw new TillerError("ORACLE_UNAVAILABLE", `could not reach ${this.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`);
        }
        let text: string;
        try {
            text = await readLimited(response, maxResponseBytes);
        } catch (error) {
            if (signal?.aborted)
                throw new TillerError("ABORTED", "localisation was cancelled");
            throw new TillerError("ORACLE_UNAVAILABLE", `${this.url}: the answer could not be read: ${(error as Error).message}`);
        }
        if (response.status === 401 || response.status === 403)
            throw new TillerError("ORACLE_UNAVAILABLE", `${this.url} refused the request (HTTP ${response.status}): check the API key`);
        if (response.status === 404)
            throw new TillerError("ORACLE_NONCONFORMING", `${this.url} has no completions endpoint (HTTP 404)`);
        if (!response.ok) {
            const message = errorMessageOf(text);
            if (response.status >= 400 && response.status < 500)
                return { ok: false, status: response.status, message };
            throw new TillerError("ORACLE_UNAVAILABLE", `${this.url} failed (HTTP ${response.status}): ${message}`);
        }
        try {
            return { ok: true, json: JSON.parse(text) as unknown };
        } catch {
            throw nonconforming(this.url, "the answer is not JSON");
        }
    }

    private fail(result: { status: number; message: string }): never {
        throw new TillerError("ORACLE_NONCONFORMING", `${this.url} rejected the request (HTTP ${result.status}): ${result.message}`);
    }

    public async echo(text: string, signal?: AbortSignal): Promise<OracleToken[] | null> {
        if (this.echoWorks === false)
            return null;
        for (;;) {
            const result = await this.post({ prompt: text, max_tokens: this.echoMaxTokens, echo: true, logprobs: 1 }, signal);
            if (!result.ok) {
                if (this.echoMaxTokens === 0 && /max_tokens|n_predict|at least 1|must be positive/i.test(result.message)) {
                    this.echoMaxTokens = 1;
                    continue;
                }
                if (/echo/i.test(result.message) && this.echoWorks == null) {
                    this.echoWorks = false;
                    return null;
                }
                this.fail(result);
            }
            const parsed = parseCompletion(this.url, result.json);
            const tokens = promptTokens(parsed, text, this.echoMaxTokens);
            if (tokens == null) {
                // the server ignored echo (it returned only generated tokens)
                if (this.echoWorks == null) {
                    this.echoWorks = false;
                    return null;
                }
                throw nonconforming(this.url, "the echoed tokens do not spell the prompt");
            }
            this.echoWorks = true;
            return tokens;
        }
    }

    public async complete(prompt: string, maxTokens: number, signal?: AbortSignal): Promise<OracleToken[]> {
        const result = await this.post({ prompt, max_tokens: maxTokens, logprobs: 1 }, signal);
        if (!result.ok)
            this.fail(result);
        const parsed = parseCompletion(this.url, result.json);
        return parsed.tokens.map((token) => ({ text: token.text, logprob: token.logprob }));
    }

    public async nextTokenTop(prompt: string, k: number, signal?: AbortSignal): Promise<Map<string, number>> {
        const result = await this.post({ prompt, max_tokens: 1, logprobs: k }, signal);
        if (!result.ok)
            this.fail(result);
        const parsed = parseCompletion(this.url, result.json);
        const last = parsed.tokens[parsed.tokens.length - 1];
        if (last?.top == null || last.top.size === 0)
            throw nonconforming(this.url, "no top_logprobs for the generated token");
        return last.top;
    }
}

/** The echoed prompt tokens, or null when the tokens do not spell the prompt (echo ignored). */
function promptTokens(parsed: ParsedChoice, prompt: string, generated: number): OracleToken[] | null {
    let tokens = parsed.tokens;
    if (generated > 0) {
        const cut = tokens.findIndex((token) => token.offset != null && token.offset >= prompt.length);
        tokens = cut >= 0 ? tokens.slice(0, cut) : tokens.slice(0, Math.max(0, tokens.length - generated));
    }
    const spelled = tokens.map((token) => token.text).join("");
    // servers may drop or add a leading space (SentencePiece); the rest must match
    if (tokens.length === 0 || spelled.trimStart() !== prompt.trimStart())
        return null;
    return tokens.map((token) => ({ text: token.text, logprob: token.logprob }));
}

function errorMessageOf(text: string): string {
    try {
        const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
        const message = typeof body.error === "string" ? body.error : body.error?.message ?? body.message ?? body.detail;
        if (typeof message === "string")
            return message.slice(0, 300);
    } catch {
        // not JSON: fall through to the raw text
    }
    return text.trim().slice(0, 300) || "(empty answer)";
}

async function readLimited(response: Response, limit: number): Promise<string> {
    const reader = response.body?.getReader();
    if (reader == null)
        return "";
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
        const { done, value } = await reader.read();
        if (done)
            break;
        size += value.length;
        if (size > limit) {
            await reader.cancel();
            throw new Error(`the answer exceeds ${limit / 1024 / 1024} MiB`);
        }
        chunks.push(value);
    }
    return Buffer.concat(chunks).toString("utf8");
}
