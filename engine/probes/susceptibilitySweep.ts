// Per-token susceptibility: how strongly each token's log-probability responds to a steering
// strength. For a fixed text y (prompt + completion, teacher-forced) and the patch α·v on a layer
// range:
//
//   log p_t(α)   = log p_α(y_t | y_<t)            the response curve of token t (on the α grid)
//   χ_t          = ∂ log p_t / ∂α  at α₀          with an error estimate
//   κ_t          = ∂² log p_t / ∂α² at α₀         (curvature)
//   ∂H_t/∂α      the entropy response of the predicting distribution
//   χ_{t,l}      ∂ log p_t / ∂α_l at α₀: every block of the range at α₀, block l moved alone
//                (so Σ_l χ_{t,l} = χ_t, the sum rule)
//   I_t, FDT     Fisher information Var_p(∂ log p/∂α) and the fluctuation–dissipation gap
//                (linearResponse.ts), from the same decodes with every logit kept
//   Λ(α)         Σ_t log p_t(α), the completion's path free energy, and its maximiser α̂_ML
//
// Which run it is the derivative of — `fromToken` K, as in a run's patch window: K = 0 steers
// from the prompt on (every position, like `tiller generate --from-token 0` and llama.cpp's
// --control-vector); K > 0 leaves the prompt and generated tokens 0..K−1 unsteered and steers the
// decodes from the one that consumes token K−1. Tokens before K do not respond (χ = 0 exactly)
// and are not listed. So χ_t is the slope of log p_t in runs the user can generate.
//
// Derivatives: a seven-point stencil α₀ + k·h fitted by least squares (stencilDerivative.ts). On quantized weights ggml
// converts activations to Q8 inside every matmul, so log p(α) is a staircase at small steps; the
// default step is therefore set against the residual stream's own scale: h_l = c·‖h_l‖/‖v_l‖
// (c = `relativeStep`, ‖h_l‖ the mean norm of block l's output at α₀ over the measured rows), which
// moves each activation by several quantization steps, and Richardson extrapolation removes the
// truncation error that such a step brings, while the fit's residual measures the noise left.
// The all-layer stencil uses the smallest h_l.
//
// This is an activation-space linear response (a susceptibility in the thermodynamic sense), not
// the weight-space quantity of singular learning theory. α is reported with the vector's norm.
//
// Use a context created with `precise: true`: over small strength steps, F16 rounding in the K/V
// cache and in flash attention is larger than the differences being measured.
//
// Cost: the unsteered prefix (everything before the first steered position) is decoded once into
// sequence 0; each strength copies it into sequence 1 (shared cells, no copy of data in a unified
// KV cache) and decodes only the steered suffix, as one batch: 1 + 6 + |grid| (+ 6 per layer).
import type { ProbesSweepResult, SweepTokenInfo } from "../protocol/probes.js";
import { TillerError } from "../protocol/TillerError.js";
import { assertSteerableRange, type LayerRange } from "../runtime/layers.js";
import { composeControlVector, type ComposedControlVector, type SteeringPatch } from "../runtime/SteeringPatch.js";
import { vectorNorm, type SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { LinearResponseAccumulator } from "./linearResponse.js";
import { promptCompletionTokens } from "./promptCompletionTokens.js";
import { STENCIL_OFFSETS, stencilDerivative, type StencilValues } from "./stencilDerivative.js";
import { gridMaximum } from "./thermodynamics.js";

/**
 * Default c of the automatic step h_l = c·‖h_l‖/‖v_l‖, by the weights' type (llama.cpp's
 * general.file_type): F32 weights see F32 activations, so a small step is exact; F16 weights round
 * activations to F16 (2⁻¹¹); BF16 and quantized weights (Q8 activations, ~1/127 of a block's
 * maximum) need a step that moves every activation by several of their quanta. Measured on random
 * models and their Q8_0/Q4_K_M quantizations: at c = 0.1 the error estimate is a few % of χ.
 */
export function defaultRelativeStep(fileType: number | null): number {
    if (fileType == null || fileType === 0)
        return 0.02;
    return fileType === 1 ? 0.05 : 0.1;
}
/** c for an F32 model (the CLI's help text). */
export const DEFAULT_RELATIVE_STEP = defaultRelativeStep(0);
/** I_t and the FDT gap keep 2 × tokens × vocab floats; above this many per array they are left out. */
export const LINEAR_RESPONSE_MAX_FLOATS = 1 << 24;

export interface SweepOptions {
    vector: SteeringVector;
    layers: LayerRange;
    /** the α grid of the curves and of Λ(α) */
    alphas: readonly number[];
    /** the point of the derivatives; default 0 */
    alpha0?: number;
    /** the generated token the patch acts from (0: from the prompt on); default 0 */
    fromToken?: number;
    /** finite-difference step in α, or "auto" (default): c·‖h_l‖/‖v_l‖ */
    step?: number | "auto";
    /** c of the automatic step; default by the weights' type (defaultRelativeStep) */
    relativeStep?: number;
    /** also compute χ_{t,l}, one block at a time */
    perLayer?: boolean;
    /** I_t and the FDT gap (keeps every logit of the stencil); default true within LINEAR_RESPONSE_MAX_FLOATS */
    linearResponse?: boolean;
    signal?: AbortSignal;
    onProgress?(done: number, total: number): void;
}

/** One measured token of a sweep (the protocol's shape). */
export type SweepToken = SweepTokenInfo;

/** The sweep's figures; the service adds the text and the vector's id and name to make the protocol's result. */
export type SweepResult = Omit<ProbesSweepResult, "sweepId" | "prompt" | "completion" | "vectorId" | "vectorName">;

interface Evaluation {
    logprobs: Float64Array;
    entropies: Float64Array;
}

/** Sweeps a text given as strings (tokenized with BOS; the prompt's tokens are the ones the two share). */
export async function susceptibilitySweep(context: TillerContext, prompt: string, completion: string, options: SweepOptions): Promise<SweepResult> {
    const { promptTokens, completionTokens } = promptCompletionTokens(context.model, prompt, completion);
    return susceptibilitySweepTokens(context, promptTokens, completionTokens, options);
}

/** Sweeps a text given as tokens (e.g. a recorded run's prompt and generated ids). */
export async function susceptibilitySweepTokens(context: TillerContext, promptTokens: Int32Array, completionTokens: Int32Array,
    options: SweepOptions): Promise<SweepResult> {
    const started = performance.now();
    const model = context.model;
    const { nLayer, nVocab } = model.shape;
    assertSteerableRange(options.layers, nLayer);
    if (options.alphas.length === 0 || options.alphas.some((alpha) => !Number.isFinite(alpha)))
        throw new TillerError("INVALID_ARGUMENT", "the α grid must hold at least one finite strength");
    const alpha0 = options.alpha0 ?? 0;
    const fromToken = options.fromToken ?? 0;
    const fileType = Number(model.metadata("general.file_type") ?? Number.NaN);
    const relativeStep = options.relativeStep ?? defaultRelativeStep(Number.isInteger(fileType) ? fileType : null);
    const fixedStep = options.step === "auto" || options.step == null ? null : options.step;
    if (!Number.isFinite(alpha0))
        throw new TillerError("INVALID_ARGUMENT", `α₀ must be finite (got ${alpha0})`);
    if (fixedStep != null && !(fixedStep > 0 && Number.isFinite(fixedStep)))
        throw new TillerError("INVALID_ARGUMENT", `the step must be a positive number or "auto" (got ${fixedStep})`);
    if (!(relativeStep > 0 && relativeStep <= 1))
        throw new TillerError("INVALID_ARGUMENT", `the relative step must be in (0, 1] (got ${relativeStep})`);
    if (promptTokens.length === 0 || completionTokens.length === 0)
        throw new TillerError("INVALID_ARGUMENT", "a sweep needs a prompt and at least one completion token");
    if (!Number.isInteger(fromToken) || fromToken < 0 || fromToken >= completionTokens.length)
        throw new TillerError("INVALID_ARGUMENT",
            `fromToken must be a whole number below the completion's ${completionTokens.length} tokens (got ${fromToken}); tokens before it do not respond`);

    const promptLength = promptTokens.length;
    const all = new Int32Array(promptLength + completionTokens.length);
    all.set(promptTokens);
    all.set(completionTokens, promptLength);
    // K = 0 steers every position; K > 0 the decodes from the one that consumes token K − 1
    const steeredStart = fromToken === 0 ? 0 : promptLength + fromToken - 1;
    const prefix = all.subarray(0, steeredStart);
    const suffix = all.subarray(steeredStart, all.length - 1);
    const targets = completionTokens.subarray(fromToken);
    /** suffix row whose logits predict targets[0] */
    const firstRow = promptLength + fromToken - 1 - steeredStart;
    if (all.length > context.contextSize || suffix.length > context.batchSize)
        throw new TillerError("PROMPT_TOO_LONG", `prompt + completion (${all.length} tokens, ${suffix.length} steered) do not fit this context`);
    if (context.sequences < 2)
        throw new TillerError("INVALID_ARGUMENT", "a sweep needs a context with at least 2 sequences");

    const layerList = Array.from({ length: options.layers.last - options.layers.first + 1 }, (_, i) => options.layers.first + i);
    const vectorNorms: Record<number, number> = {};
    for (const layer of layerList) {
        const direction = options.vector.directions.get(layer);
        vectorNorms[layer] = direction != null ? vectorNorm(direction) : 0;
    }
    const movingLayers = layerList.filter((layer) => vectorNorms[layer]! > 0);
    const wantsLinearResponse = options.linearResponse ?? true;
    const linearResponseNote = !wantsLinearResponse ? "not asked for"
        : targets.length * nVocab > LINEAR_RESPONSE_MAX_FLOATS ? `${targets.length} tokens × ${nVocab} logits exceed the ${LINEAR_RESPONSE_MAX_FLOATS} floats kept for I_t; sweep a shorter text`
            : undefined;

    const pointsPerStencil = STENCIL_OFFSETS.length - 1;
    const plannedStrengths = 1 + pointsPerStencil + options.alphas.length + (options.perLayer ? pointsPerStencil * movingLayers.length : 0);
    const decodes = { prefix: 0, suffix: 0, suffixTokens: 0, prefixTokens: 0 };
    const positions = Int32Array.from(suffix, (_, i) => steeredStart + i);
    const seqIds = new Int32Array(suffix.length).fill(1);
    const wantLogits = Uint8Array.from(suffix, (_, i) => (i >= firstRow ? 1 : 0));
    const patchAt = (alpha: number, layers: LayerRange): SteeringPatch => ({ id: "sweep", vector: options.vector, strength: alpha, layers });
    const compose = (patches: SteeringPatch[]): ComposedControlVector | null => composeControlVector(patches, 0, model.shape);

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
        /** decodes the steered suffix under `steering`; `perRow` sees each measured token's logits */
        const evaluate = async (steering: ComposedControlVector | null, perRow?: (t: number, logits: Float32Array, logSumExp: number) => void,
            capture?: readonly number[]): Promise<Evaluation & { residualNorms?: Map<number, number> }> => {
            if (options.signal?.aborted)
                throw new TillerError("ABORTED", "the sweep was cancelled");
            await context.setSteering(steering);
            await context.removeTokens(1, 0, -1);
            if (prefix.length > 0)
                await context.copySequence(0, 1, 0, prefix.length);
            if (capture != null)
                await context.setCapture(capture);
            let captured;
            try {
                captured = await context.decodeBatch({ tokens: suffix, positions, seqIds, wantLogits });
            } finally {
                if (capture != null)
                    await context.setCapture([]);
            }
            decodes.suffix++;
            decodes.suffixTokens += suffix.length;
            // one native pass per row; double-precision exponentials, since χ differentiates these
            const scored = context.analyzeRows(Int32Array.from(targets, (_, t) => firstRow + t), { targets, exact: true });
            const logprobs = scored.logprobs();
            const entropies = scored.entropies();
            // the full distributions cross into JavaScript only for the linear response
            if (perRow != null)
                for (let t = 0; t < targets.length; t++)
                    perRow(t, context.logits(firstRow + t), scored.logSumExp(t));
            options.onProgress?.(++done, plannedStrengths);
            let residualNorms: Map<number, number> | undefined;
            if (capture != null) {
                residualNorms = new Map();
                const { nEmbd } = model.shape;
                for (const [layer, entry] of captured) {
                    // the last block keeps only the rows with logits; others hold every suffix row
                    const from = entry.rows === suffix.length ? firstRow : 0;
                    let sum = 0;
                    for (let row = from; row < entry.rows; row++) {
                        let squares = 0;
                        for (let i = row * nEmbd; i < (row + 1) * nEmbd; i++)
                            squares += entry.data[i]! * entry.data[i]!;
                        sum += Math.sqrt(squares);
                    }
                    residualNorms.set(layer, sum / Math.max(1, entry.rows - from));
                }
            }
            return { logprobs, entropies, residualNorms };
        };

        // the centre: every block at α₀, with the residual scale the automatic step is set against
        const linear = linearResponseNote == null ? { accumulator: null as LinearResponseAccumulator | null } : null;
        let centerLogits: ((t: number, logits: Float32Array, logSumExp: number) => void) | undefined;
        const centerStore: { logits: Float32Array; logSumExp: number }[] = [];
        if (linear != null)
            centerLogits = (t, logits, logSumExp) => { centerStore[t] = { logits, logSumExp }; };
        const center = await evaluate(compose([patchAt(alpha0, options.layers)]), centerLogits, fixedStep == null ? movingLayers : undefined);
        const residualNorms: Record<number, number> = {};
        const layerSteps: Record<number, number> = {};
        for (const layer of layerList) {
            residualNorms[layer] = center.residualNorms?.get(layer) ?? 0;
            const scale = residualNorms[layer]! / vectorNorms[layer]!;
            layerSteps[layer] = fixedStep ?? (vectorNorms[layer]! > 0 && scale > 0 ? relativeStep * scale : 0);
        }
        const movingSteps = movingLayers.map((layer) => layerSteps[layer]!).filter((h) => h > 0);
        const step = fixedStep ?? (movingSteps.length > 0 ? Math.min(...movingSteps) : 1);
        if (linear != null) {
            linear.accumulator = new LinearResponseAccumulator(targets.length, nVocab, step);
            centerStore.forEach(({ logits, logSumExp }, t) => linear.accumulator!.setCenter(t, logits, logSumExp));
            centerStore.length = 0;
        }

        /** the stencil values of every token, for a move of `h` per offset on `layers` (others at α₀) */
        const stencil = async (h: number, moved: LayerRange | null, keep: boolean): Promise<{ logprobs: StencilValues[]; entropies: StencilValues[] }> => {
            const centerIndex = STENCIL_OFFSETS.indexOf(0);
            const rows = Array.from(targets, (_, t) => {
                const row = { logprobs: STENCIL_OFFSETS.map(() => 0), entropies: STENCIL_OFFSETS.map(() => 0) };
                row.logprobs[centerIndex] = center.logprobs[t]!;
                row.entropies[centerIndex] = center.entropies[t]!;
                return row;
            });
            for (const [k, offset] of STENCIL_OFFSETS.entries()) {
                if (offset === 0)
                    continue;
                const patches = moved == null ? [patchAt(alpha0 + offset * h, options.layers)]
                    : [patchAt(alpha0, options.layers), { ...patchAt(offset * h, moved), id: "sweep-layer" }];
                const accumulator = keep ? linear?.accumulator : null;
                const evaluation = await evaluate(compose(patches), accumulator != null ? (t, logits, logSumExp) => accumulator.addPoint(t, offset, logits, logSumExp) : undefined);
                for (let t = 0; t < targets.length; t++) {
                    rows[t]!.logprobs[k] = evaluation.logprobs[t]!;
                    rows[t]!.entropies[k] = evaluation.entropies[t]!;
                }
            }
            return { logprobs: rows.map((row) => row.logprobs as unknown as StencilValues), entropies: rows.map((row) => row.entropies as unknown as StencilValues) };
        };

        const whole = await stencil(step, null, true);
        const curves: Evaluation[] = [];
        for (const alpha of options.alphas)
            curves.push(await evaluate(compose([patchAt(alpha, options.layers)])));
        let perLayer: { chi: number[]; error: number[] }[] | undefined;
        if (options.perLayer) {
            perLayer = Array.from(targets, () => ({ chi: [] as number[], error: [] as number[] }));
            for (const layer of layerList) {
                if (!movingLayers.includes(layer)) {
                    perLayer.forEach((row) => { row.chi.push(0); row.error.push(0); });
                    continue;
                }
                const single = await stencil(layerSteps[layer]!, { first: layer, last: layer }, false);
                single.logprobs.forEach((values, t) => {
                    const derivative = stencilDerivative(values, layerSteps[layer]!);
                    perLayer![t]!.chi.push(derivative.slope);
                    perLayer![t]!.error.push(derivative.slopeError);
                });
            }
        }

        const tokens: SweepToken[] = Array.from(targets, (id, t) => {
            const logprob = stencilDerivative(whole.logprobs[t]!, step);
            const entropy = stencilDerivative(whole.entropies[t]!, step);
            const response = linear?.accumulator?.result(t);
            return {
                index: fromToken + t,
                id,
                piece: model.tokenText(id),
                logprobs: curves.map((curve) => curve.logprobs[t]!),
                entropies: curves.map((curve) => curve.entropies[t]!),
                chi: logprob.slope,
                chiError: logprob.slopeError,
                curvature: logprob.curvature,
                entropyResponse: entropy.slope,
                fisher: response?.fisher ?? null,
                fdtGap: response?.fdtGap ?? null,
                fdtGapError: response?.fdtGapError ?? null,
                ...(perLayer != null ? { chiPerLayer: perLayer[t]!.chi, chiPerLayerError: perLayer[t]!.error } : {})
            };
        });
        const pathFreeEnergy = options.alphas.map((_, a) => tokens.reduce((sum, token) => sum + token.logprobs[a]!, 0));
        return {
            alphas: [...options.alphas], alpha0, fromToken, step, stepRule: fixedStep == null ? "auto" : "fixed", relativeStep, layerSteps, residualNorms,
            layers: options.layers, vectorNorms, tokens,
            totalChi: tokens.reduce((sum, token) => sum + token.chi, 0),
            totalChiError: Math.sqrt(tokens.reduce((sum, token) => sum + token.chiError ** 2, 0)),
            pathFreeEnergy,
            alphaML: maximiser(options.alphas, pathFreeEnergy),
            ...(perLayer != null ? { sumRule: sumRule(tokens) } : {}),
            ...(linearResponseNote != null ? { linearResponseNote } : {}),
            decodes,
            elapsedMs: performance.now() - started
        };
    } finally {
        await context.setSteering(null);
        await context.clearMemory();
        release();
    }
}

/** α̂_ML: the maximiser of Λ over the grid, refined parabolically when it lies inside. */
function maximiser(alphas: readonly number[], values: readonly number[]): SweepResult["alphaML"] {
    const order = alphas.map((alpha, i) => i).sort((a, b) => alphas[a]! - alphas[b]!);
    const x = order.map((i) => alphas[i]!), y = order.map((i) => values[i]!);
    const inside = x.length >= 3 ? gridMaximum(x, y) : null;
    if (inside != null)
        return { alpha: inside.x, value: inside.y, onEdge: false };
    const best = y.indexOf(Math.max(...y));
    return { alpha: x[best]!, value: y[best]!, onEdge: true };
}

/** Σ_l χ_{t,l} against χ_t over the tokens: the worst gap, and the worst in units of the combined error. */
function sumRule(tokens: readonly SweepToken[]): { maxGap: number; maxGapInErrors: number } {
    let maxGap = 0, maxGapInErrors = 0;
    for (const token of tokens) {
        const sum = token.chiPerLayer!.reduce((a, b) => a + b, 0);
        const error = Math.sqrt(token.chiError ** 2 + token.chiPerLayerError!.reduce((a, b) => a + b * b, 0));
        const gap = Math.abs(sum - token.chi);
        maxGap = Math.max(maxGap, gap);
        maxGapInErrors = Math.max(maxGapInErrors, error > 0 ? gap / error : gap > 0 ? Infinity : 0);
    }
    return { maxGap, maxGapInErrors };
}

/** Parses an α grid "from:to:count" (inclusive, evenly spaced), e.g. "-2:2:9". */
export function parseAlphaGrid(text: string): number[] {
    const match = /^\s*([-+]?[\d.eE+-]+)\s*:\s*([-+]?[\d.eE+-]+)\s*:\s*(\d+)\s*$/.exec(text);
    const from = Number(match?.[1]), to = Number(match?.[2]), count = Number(match?.[3]);
    if (match == null || !Number.isFinite(from) || !Number.isFinite(to) || !Number.isInteger(count) || count < 1 || count > 1001)
        throw new TillerError("INVALID_ARGUMENT", `"${text}" is not an α grid; write FROM:TO:COUNT, e.g. -2:2:9`);
    return count === 1 ? [from] : Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1));
}
