// Per-token susceptibility: how strongly each token's log-probability responds to a steering
// strength. For a fixed text y (prompt + completion, teacher-forced) and the patch α·v on a layer
// range, acting on the completion:
//
//   log p_t(α)   = log p_α(y_t | y_<t)            the response curve of token t
//   χ_t          = ∂ log p_t / ∂α  at α₀          (central difference, step h)
//   κ_t          = ∂² log p_t / ∂α² at α₀         (curvature)
//   ∂H_t/∂α      the entropy response of the predicting distribution
//   χ_{t,l}      χ_t with the patch at block l alone (the tokens × layers matrix)
//
// This is an activation-space linear response (a susceptibility in the thermodynamic sense), not
// the weight-space quantity of singular learning theory. α is reported with the vector's norm.
//
// Use a context created with `precise: true`: over small strength steps, F16 rounding in the K/V
// cache and in flash attention is larger than the differences being measured.
//
// Cost: the unsteered prefix (prompt minus its last token) is decoded once into sequence 0; for
// each strength, sequence 1 shares that prefix (no copy in a unified KV cache) and only the
// suffix — last prompt token + completion — is decoded, as one batch.
import type { ProbesSweepResult, SweepTokenInfo } from "../protocol/probes.js";
import { TillerError } from "../protocol/TillerError.js";
import { assertSteerableRange, type LayerRange } from "../runtime/layers.js";
import { composeControlVector } from "../runtime/SteeringPatch.js";
import { vectorNorm, type SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";

export interface SweepOptions {
    vector: SteeringVector;
    layers: LayerRange;
    /** the α grid of the curves */
    alphas: readonly number[];
    /** the point of the derivatives; default 0 */
    alpha0?: number;
    /** finite-difference step; default 1e-2 */
    step?: number;
    /** also compute χ_{t,l}, one block at a time */
    perLayer?: boolean;
    signal?: AbortSignal;
    onProgress?(done: number, total: number): void;
}

/** The sweep's figures; the service adds the text and the vector's id and name to make the protocol's result. */
export type SweepResult = Omit<ProbesSweepResult, "sweepId" | "prompt" | "completion" | "vectorId" | "vectorName">;

interface Evaluation {
    logprobs: Float64Array;
    entropies: Float64Array;
}

export async function susceptibilitySweep(context: TillerContext, prompt: string, completion: string, options: SweepOptions): Promise<SweepResult> {
    const started = performance.now();
    const model = context.model;
    const { nLayer } = model.shape;
    assertSteerableRange(options.layers, nLayer);
    if (options.alphas.length === 0 || options.alphas.some((alpha) => !Number.isFinite(alpha)))
        throw new TillerError("INVALID_ARGUMENT", "the α grid must hold at least one finite strength");
    const alpha0 = options.alpha0 ?? 0;
    const step = options.step ?? 1e-2;
    if (!Number.isFinite(alpha0) || !(step > 0))
        throw new TillerError("INVALID_ARGUMENT", `α₀ must be finite and the step positive (got ${alpha0}, ${step})`);

    const promptTokens = model.tokenize(prompt);
    const all = model.tokenize(prompt + completion);
    let shared = 0;
    while (shared < promptTokens.length && shared < all.length && promptTokens[shared] === all[shared])
        shared++;
    if (shared === 0 || shared >= all.length)
        throw new TillerError("INVALID_ARGUMENT", "the completion adds no tokens to the prompt");
    if (all.length > context.contextSize || all.length - shared + 1 > context.batchSize)
        throw new TillerError("PROMPT_TOO_LONG", `prompt + completion (${all.length} tokens) do not fit this context`);
    if (context.sequences < 2)
        throw new TillerError("INVALID_ARGUMENT", "a sweep needs a context with at least 2 sequences");
    // prefix: decoded once, unsteered. suffix: the last prompt token (it predicts the first
    // completion token) + the completion but its last token (nothing is predicted after it).
    const prefix = all.subarray(0, shared - 1);
    const suffix = all.subarray(shared - 1, all.length - 1);
    const targets = all.subarray(shared);

    const layerList = Array.from({ length: options.layers.last - options.layers.first + 1 }, (_, i) => options.layers.first + i);
    const plannedStrengths = options.alphas.length + 3 + (options.perLayer ? 2 * layerList.length : 0);
    const decodes = { prefix: 0, suffix: 0, suffixTokens: 0, prefixTokens: 0 };
    const release = context.claim("a susceptibility sweep");
    try {
        await context.clearMemory();
        await context.setSteering(null);
        if (prefix.length > 0) {
            await context.evaluate(prefix, { startPosition: 0, seqId: 0, logits: "none", signal: options.signal });
            decodes.prefix++;
            decodes.prefixTokens += prefix.length;
        }

        let done = 0;
        const evaluate = async (alpha: number, layers: LayerRange): Promise<Evaluation> => {
            if (options.signal?.aborted)
                throw new TillerError("ABORTED", "the sweep was cancelled");
            await context.setSteering(composeControlVector([{ id: "sweep", vector: options.vector, strength: alpha, layers }], 0, model.shape));
            await context.removeTokens(1, 0, -1);
            if (prefix.length > 0)
                await context.copySequence(0, 1, 0, prefix.length);
            await context.evaluate(suffix, { startPosition: prefix.length, seqId: 1, logits: "all", signal: options.signal });
            decodes.suffix++;
            decodes.suffixTokens += suffix.length;
            // one native pass per row; double-precision exponentials, since χ differentiates these
            const scored = context.analyzeRows(Int32Array.from(targets.keys()), { targets, exact: true });
            const logprobs = scored.logprobs();
            const entropies = scored.entropies();
            options.onProgress?.(++done, plannedStrengths);
            return { logprobs, entropies };
        };

        const curves: Evaluation[] = [];
        for (const alpha of options.alphas)
            curves.push(await evaluate(alpha, options.layers));
        const [minus, center, plus] = [await evaluate(alpha0 - step, options.layers), await evaluate(alpha0, options.layers),
            await evaluate(alpha0 + step, options.layers)];
        let chiPerLayer: Float64Array[] | undefined;
        if (options.perLayer) {
            chiPerLayer = [];
            for (const layer of layerList) {
                const single = { first: layer, last: layer };
                const [down, up] = [await evaluate(alpha0 - step, single), await evaluate(alpha0 + step, single)];
                chiPerLayer.push(up.logprobs.map((value, t) => (value - down.logprobs[t]!) / (2 * step)));
            }
        }

        const tokens: SweepTokenInfo[] = Array.from(targets, (id, t) => ({
            index: t,
            id,
            piece: model.tokenText(id),
            logprobs: curves.map((curve) => curve.logprobs[t]!),
            entropies: curves.map((curve) => curve.entropies[t]!),
            chi: (plus.logprobs[t]! - minus.logprobs[t]!) / (2 * step),
            curvature: (plus.logprobs[t]! - 2 * center.logprobs[t]! + minus.logprobs[t]!) / (step * step),
            entropyResponse: (plus.entropies[t]! - minus.entropies[t]!) / (2 * step),
            ...(chiPerLayer != null ? { chiPerLayer: chiPerLayer.map((row) => row[t]!) } : {})
        }));
        const vectorNorms: Record<number, number> = {};
        for (const layer of layerList) {
            const direction = options.vector.directions.get(layer);
            vectorNorms[layer] = direction != null ? vectorNorm(direction) : 0;
        }
        return {
            alphas: [...options.alphas], alpha0, step, layers: options.layers, vectorNorms, tokens,
            totalChi: tokens.reduce((sum, token) => sum + token.chi, 0),
            decodes,
            elapsedMs: performance.now() - started
        };
    } finally {
        await context.setSteering(null);
        await context.clearMemory();
        release();
    }
}

/** Parses an α grid "from:to:count" (inclusive, evenly spaced), e.g. "-2:2:9". */
export function parseAlphaGrid(text: string): number[] {
    const match = /^\s*([-+]?[\d.eE+-]+)\s*:\s*([-+]?[\d.eE+-]+)\s*:\s*(\d+)\s*$/.exec(text);
    const from = Number(match?.[1]), to = Number(match?.[2]), count = Number(match?.[3]);
    if (match == null || !Number.isFinite(from) || !Number.isFinite(to) || !Number.isInteger(count) || count < 1 || count > 1001)
        throw new TillerError("INVALID_ARGUMENT", `"${text}" is not an α grid; write FROM:TO:COUNT, e.g. -2:2:9`);
    return count === 1 ? [from] : Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1));
}
