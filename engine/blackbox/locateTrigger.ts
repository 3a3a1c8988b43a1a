// Black-box trigger localisation: which input tokens switch a hidden conditional patch on, from
// log-probabilities alone (no weights). Three probes, all scored as S(text) = log p(probe | text +
// bridge), where the probe is the oracle's own greedy continuation of the full prompt and the
// bridge is a fixed neutral sentence (so the probe never sits right after the tokens under test,
// and a patch that stays on still shows while a token's ordinary local influence fades):
//   prefix scan   L_k = S(x_≤k), k = 0..n: a patch that switches on at token k makes L_k step;
//   necessity     D_j = S(x) − S(x with token j replaced by a filler word): a trigger token is needed;
//   sufficiency   G = S(carrier + span) − S(carrier): a trigger span switches the patch on by itself.
// Steps and drops are turned into robust z-scores (median / MAD over all tokens) and summed into
// one ranking. Every oracle call is a query; the budget bounds them and a spent budget ends the
// search with what it has.
import type { LocatedSpan, LocatedUnit, LocateProgress, LocateResult } from "../protocol/blackbox.js";
import { TillerError } from "../protocol/TillerError.js";
import { OracleBudgetExhausted, type LogProbOracle } from "./LogProbOracle.js";
import { defaultBridge, defaultCarrier, fillerWords, neutralSentences } from "./neutralText.js";

export type { LocatedSpan, LocatedUnit, LocateProgress, LocateResult };

export interface LocateOptions {
    prompt: string;
    /** the probe continuation; default: the oracle's greedy continuation of prompt + bridge */
    probe?: string;
    /** tokens in the default probe: default 8 (echo), 3 (next-token oracles, one query per probe token) */
    probeTokens?: number;
    bridge?: string;
    carrier?: string;
    /** sufficiency tests on this many top candidates (default 3) */
    sufficiencyCandidates?: number;
    signal?: AbortSignal;
    onProgress?: (progress: LocateProgress) => void;
}

/** the probe when the endpoint's own continuation is empty */
const neutralProbe = ` ${neutralSentences[4]}`;

/** the z above which a step or drop counts as standing out */
export const evidenceZ = 5;

interface Unit {
    text: string;
    start: number;
}

/** Splits a prompt into words with their leading whitespace (for oracles that cannot echo tokens). */
export function wordUnits(prompt: string): Unit[] {
    return [...prompt.matchAll(/\s*\S+/g)].map((match) => ({ text: match[0], start: match.index })).concat(
        /\s+$/.test(prompt) ? [{ text: /\s+$/.exec(prompt)![0], start: prompt.length - /\s+$/.exec(prompt)![0].length }] : []);
}

function robustZ(values: (number | null)[]): (number | null)[] {
    const known = values.filter((value): value is number => value != null).sort((a, b) => a - b);
    if (known.length < 3)
        return values.map(() => null);
    const median = known[Math.floor(known.length / 2)]!;
    const deviations = known.map((value) => Math.abs(value - median)).sort((a, b) => a - b);
    // MAD → σ; a floor keeps a flat scan (every step ≈ 0) from turning rounding into large z
    const scale = Math.max(1.4826 * deviations[Math.floor(deviations.length / 2)]!, 0.05);
    return values.map((value) => (value == null ? null : (value - median) / scale));
}

export async function locateTrigger(oracle: LogProbOracle, options: LocateOptions): Promise<LocateResult> {
    const started = performance.now();
    const prompt = options.prompt;
    if (prompt.trim().length === 0)
        throw new TillerError("INVALID_ARGUMENT", "locate needs a prompt that the patch is thought to react to");
    const bridge = options.bridge ?? defaultBridge;
    const carrier = options.carrier ?? defaultCarrier;
    const progress = (phase: LocateProgress["phase"]) => options.onProgress?.({ phase, queries: oracle.queries, budget: oracle.budget });

    // --- the probe, and whether the oracle can echo -------------------------------------------
    progress("probe");
    const probeEcho = await oracle.echo(prompt, options.signal);
    const mode: LocateResult["mode"] = probeEcho == null ? "next-token" : "echo";
    const probeLength = options.probeTokens ?? (mode === "echo" ? 8 : 3);
    let probeTokens: string[];
    if (options.probe != null && options.probe.length > 0) {
        // without echo there is no tokenizer: words stand in for the probe's tokens
        probeTokens = mode === "echo" ? [options.probe] : wordUnits(options.probe).map((unit) => unit.text);
    } else {
        probeTokens = (await oracle.complete(prompt + bridge, probeLength, options.signal)).map((token) => token.text);
    }
    // the model may end its text at once: then a neutral sentence is the probe, and a patch shows as
    // making it *less* likely, so its scores are negated (evidence stays "higher = switch")
    let sign = 1;
    if (probeTokens.join("").trim().length === 0) {
        probeTokens = mode === "echo" ? [neutralProbe] : wordUnits(neutralProbe).map((unit) => unit.text);
        sign = -1;
    }
    const probe = probeTokens.join("");

    // the prompt's units: the oracle's own tokens when it echoes them, else words
    let units: Unit[];
    if (probeEcho != null) {
        const spelled = probeEcho.map((token) => token.text).join("");
        let offset = prompt.length - spelled.length; // negative by a leading space some tokenizers add
        units = [];
        for (const token of probeEcho) {
            const start = Math.max(0, offset);
            offset += token.text.length;
            if (offset > 0)
                units.push({ text: prompt.slice(start, Math.max(start, offset)), start });
        }
        units = units.filter((unit) => unit.text.length > 0);
        if (units.map((unit) => unit.text).join("") !== prompt)
            units = wordUnits(prompt);
    } else {
        units = wordUnits(prompt);
    }
    const n = units.length;
    const textOf = (parts: string[]) => parts.join("");

    // S(text): log p(probe | text + bridge)
    const cache = new Map<string, number>();
    const score = async (text: string): Promise<number> => {
        const cached = cache.get(text);
        if (cached != null)
            return cached;
        const context = text + bridge;
        let total = 0;
        if (mode === "echo") {
            const tokens = await oracle.echo(context + probe, options.signal);
            if (tokens == null)
                throw new TillerError("ORACLE_NONCONFORMING", `${oracle.description} stopped echoing log-probabilities`);
            const spelled = tokens.map((token) => token.text).join("");
            const boundary = spelled.length - probe.length;
            let offset = 0;
            for (const token of tokens) {
                if (offset >= boundary)
                    total += token.logprob ?? 0;
                offset += token.text.length;
            }
        } else {
            let sofar = context;
            for (const piece of probeTokens) {
                const top = await oracle.nextTokenTop(sofar, 20, options.signal);
                const floor = Math.min(...top.values()) - Math.log(2); // not in the top 20: below them all
                total += top.get(piece) ?? floor;
                sofar += piece;
            }
        }
        cache.set(text, sign * total);
        return sign * total;
    };

    const scan = new Map<number, number>();
    const drops = new Map<number, number>();
    const spans: LocatedSpan[] = [];
    let budgetExhausted = false;
    const perScore = mode === "echo" ? 1 : probeTokens.length;
    try {
        // --- prefix scan -------------------------------------------------------------------------
        progress("scan");
        const remaining = () => oracle.budget - oracle.queries;
        const scanAt = async (k: number) => {
            if (!scan.has(k))
                scan.set(k, await score(textOf(units.slice(0, k).map((unit) => unit.text))));
        };
        // full scan when it fits in half of what is left; else a coarse grid refined around its biggest step
        const stride = Math.max(1, Math.ceil(((n + 1) * perScore) / Math.max(1, remaining() / 2)));
        for (let k = 0; k <= n; k += stride)
            await scanAt(k);
        await scanAt(n);
        if (stride > 1) {
            const grid = [...scan.keys()].sort((a, b) => a - b);
            let best = 1;
            for (let i = 1; i < grid.length; i++) {
                if (scan.get(grid[i]!)! - scan.get(grid[i - 1]!)! > scan.get(grid[best]!)! - scan.get(grid[best - 1]!)!)
                    best = i;
            }
            for (let k = grid[best - 1]! + 1; k < grid[best]!; k++)
                await scanAt(k);
        }
        progress("necessity");
        // --- necessity ---------------------------------------------------------------------------
        const full = scan.get(n)!;
        const steps = stepsOf(scan, n);
        const candidates = remaining() >= n * perScore * 1.3
            ? units.map((_, index) => index)
            : [...new Set(steps.map((step, index) => ({ step, index })).filter((entry) => entry.step != null)
                .sort((a, b) => b.step! - a.step!).slice(0, 5).flatMap((entry) => [entry.index, entry.index - 1, entry.index - 2]).filter((index) => index >= 0))];
        for (const index of candidates) {
            const unit = units[index]!;
            const filler = replacementFor(unit.text);
            const replaced = units.map((entry, j) => (j === index ? filler : entry.text));
            drops.set(index, full - (await score(textOf(replaced))));
        }
        // --- sufficiency ---------------------------------------------------------------------------
        progress("sufficiency");
        const ranked = rankUnits(units, scan, drops, n);
        const maxStep = Math.max(0, ...stepsOf(scan, n).filter((step): step is number => step != null));
        const base = await score(carrier);
        for (const index of ranked.slice(0, options.sufficiencyCandidates ?? 3)) {
            const [from, to] = spanAround(ranked, index, units.length);
            if (spans.some((span) => span.from === from && span.to === to))
                continue;
            const text = textOf(units.slice(from, to + 1).map((unit) => unit.text));
            const gain = (await score(carrier + (/^\s/.test(text) ? text : ` ${text}`))) - base;
            spans.push({ from, to, text, gain, sufficient: maxStep > 0 ? gain >= maxStep / 2 : false });
        }
    } catch (error) {
        if (!(error instanceof OracleBudgetExhausted))
            throw error;
        budgetExhausted = true;
    }
    const ranking = rankUnits(units, scan, drops, n);
    const located = unitsWithEvidence(units, scan, drops, n);
    const best = located[ranking[0] ?? -1];
    return {
        oracle: oracle.description,
        mode,
        prompt,
        probe,
        bridge,
        carrier,
        units: located,
        scan: [...scan].sort((a, b) => a[0] - b[0]).map(([k, logprob]) => ({ k, logprob })),
        ranking,
        spans,
        switchFound: best != null && (best.stepZ ?? 0) >= evidenceZ && (best.dropZ ?? 0) >= evidenceZ,
        queries: oracle.queries,
        budget: oracle.budget,
        budgetExhausted,
        wallMs: performance.now() - started
    };
}

/** step of unit j = L_{j+1} − L_j where both prefixes were scanned */
function stepsOf(scan: Map<number, number>, n: number): (number | null)[] {
    return Array.from({ length: n }, (_, j) => (scan.has(j) && scan.has(j + 1) ? scan.get(j + 1)! - scan.get(j)! : null));
}

function unitsWithEvidence(units: Unit[], scan: Map<number, number>, drops: Map<number, number>, n: number): LocatedUnit[] {
    const steps = stepsOf(scan, n);
    const dropList = units.map((_, j) => drops.get(j) ?? null);
    const stepZ = robustZ(steps);
    const dropZ = robustZ(dropList);
    return units.map((unit, j) => ({
        index: j, text: unit.text, start: unit.start,
        step: steps[j]!, stepZ: stepZ[j]!, drop: dropList[j]!, dropZ: dropZ[j]!,
        score: (stepZ[j] ?? 0) + (dropZ[j] ?? 0)
    }));
}

function rankUnits(units: Unit[], scan: Map<number, number>, drops: Map<number, number>, n: number): number[] {
    return unitsWithEvidence(units, scan, drops, n).sort((a, b) => b.score - a.score || a.index - b.index).map((unit) => unit.index);
}

/** the candidate with its ranked neighbours (a trigger word split into several tokens) */
function spanAround(ranked: number[], index: number, n: number): [number, number] {
    const strong = new Set(ranked.slice(0, 4));
    let [from, to] = [index, index];
    while (from - 1 >= 0 && strong.has(from - 1))
        from--;
    while (to + 1 < n && strong.has(to + 1))
        to++;
    return [from, to];
}

/** a filler word in the unit's place, keeping its leading whitespace */
function replacementFor(text: string): string {
    const space = /^\s*/.exec(text)![0];
    const filler = fillerWords.find((word) => word.trim() !== text.trim())!.trim();
    return (space.length > 0 ? space : "") + filler;
}
