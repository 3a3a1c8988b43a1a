// The contract's black-box requests (issue 11): trigger localisation through a log-prob oracle.
// The engine makes the HTTP calls (the renderer's CSP lets it reach only its own engine), so the
// API key travels with the request and is kept nowhere. Pure TypeScript + zod.
import { z } from "zod";

export const blackboxRequestSchemas = {
    /** which prompt tokens switch a hidden patch on, at an OpenAI-compatible /v1/completions endpoint; streams `progress` (done = queries, total = budget), cancellable */
    "blackbox.locate": z.object({
        endpoint: z.string().min(1).max(2000),
        apiKey: z.string().max(500).optional(),
        model: z.string().max(200).optional(),
        prompt: z.string().min(1).max(20000),
        probe: z.string().max(2000).optional(),
        bridge: z.string().max(2000).optional(),
        carrier: z.string().max(2000).optional(),
        budget: z.number().int().min(1).max(5000).optional(),
        timeoutSeconds: z.number().min(1).max(600).optional()
    })
} as const;

export type BlackboxLocateParams = z.infer<typeof blackboxRequestSchemas["blackbox.locate"]>;

export interface LocateProgress {
    phase: "probe" | "scan" | "necessity" | "sufficiency";
    queries: number;
    budget: number;
}

/** One token (or word, for oracles that cannot echo tokens) of the prompt, with its evidence. */
export interface LocatedUnit {
    index: number;
    text: string;
    /** character offset in the prompt */
    start: number;
    /** L_{index+1} − L_index: how much adding this token raised log p(probe); null when not scanned */
    step: number | null;
    stepZ: number | null;
    /** S(x) − S(x with this token replaced by a filler); null when not tested */
    drop: number | null;
    dropZ: number | null;
    /** stepZ + dropZ (missing parts count 0) */
    score: number;
}

export interface LocatedSpan {
    from: number;
    /** inclusive */
    to: number;
    text: string;
    /** S(carrier + span) − S(carrier); null when the budget ran out first */
    gain: number | null;
    /** gain ≥ half the largest scan step */
    sufficient: boolean | null;
}

export interface LocateResult {
    oracle: string;
    mode: "echo" | "next-token";
    prompt: string;
    probe: string;
    bridge: string;
    carrier: string;
    units: LocatedUnit[];
    /** L_k = log p(probe | first k units + bridge), for the prefixes scanned */
    scan: { k: number; logprob: number }[];
    /** unit indices, best candidate first */
    ranking: number[];
    spans: LocatedSpan[];
    /** a switch was seen: the best candidate's step and drop both stand out (z ≥ 5) */
    switchFound: boolean;
    queries: number;
    budget: number;
    budgetExhausted: boolean;
    wallMs: number;
}

export interface BlackboxResults {
    "blackbox.locate": LocateResult;
}
