// A log-prob oracle: a model reached only through its output probabilities (a black box). Two
// implementations: HttpCompletionsOracle (an OpenAI-compatible /v1/completions endpoint) and
// EngineOracle (a model in this process, e.g. a suspect, without going over HTTP).
// Every call is one query; queries are counted and bounded by a budget.
import { TillerError } from "../protocol/TillerError.js";

/** One token as an oracle reports it. */
export interface OracleToken {
    text: string;
    /** log p(token | everything before it); null where the oracle gives none (the first token) */
    logprob: number | null;
}

export interface LogProbOracle {
    /** where the answers come from, for reports */
    readonly description: string;
    /** queries made so far */
    readonly queries: number;
    /** the most queries allowed */
    readonly budget: number;
    /**
     * Teacher-forced log-probabilities of every token of `text` (OpenAI `echo`). Null when the
     * oracle cannot echo (llama.cpp's server does not): use nextTokenTop instead.
     */
    echo(text: string, signal?: AbortSignal): Promise<OracleToken[] | null>;
    /** the greedy continuation of `prompt` (temperature 0), token by token */
    complete(prompt: string, maxTokens: number, signal?: AbortSignal): Promise<OracleToken[]>;
    /** the `k` most likely next tokens after `prompt` with their log-probabilities */
    nextTokenTop(prompt: string, k: number, signal?: AbortSignal): Promise<Map<string, number>>;
}

/** Thrown when a query would exceed the budget; localisation stops and reports what it has. */
export class OracleBudgetExhausted extends TillerError {
    public constructor(budget: number) {
        super("INVALID_ARGUMENT", `the query budget (${budget}) is spent`);
    }
}

/** Counts queries against a budget; one per oracle implementation. */
export class QueryCounter {
    private used = 0;

    public constructor(public readonly budget: number) {
        if (!Number.isInteger(budget) || budget < 1)
            throw new TillerError("INVALID_ARGUMENT", `the query budget must be a whole number ≥ 1, got ${budget}`);
    }

    public get queries(): number {
        return this.used;
    }

    /** records one query, or throws OracleBudgetExhausted when none is left */
    public take(): void {
        if (this.used >= this.budget)
            throw new OracleBudgetExhausted(this.budget);
        this.used++;
    }
}
