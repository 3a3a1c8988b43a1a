// The per-token work around a decode, done natively on the logits that stay in the context:
// argmax, seeded sampling, log-sum-exp, entropy, the thermodynamic read-outs, the log-probability
// of a given (or the sampled) token and the top alternatives, for one row or many (teacher forcing
// and sweeps score whole suffixes with one call). Logits cross into JavaScript only through
// TillerContext.logits(), for whoever really needs them (the inspector, a scan, a test).
//
//   const rows = await context.evaluate(tokens, { logits: "all" }) ...
//   const scored = context.analyzeRows(Int32Array.from(tokens.keys()).subarray(0, n - 1),
//       { targets: tokens.subarray(1), exact: true });
//   scored.logprob(i), scored.entropy(i), scored.readouts(i)
//
// The reference implementation (TokenSampler, computeTokenStatistics, computeThermoReadout) is the
// test oracle: same token ids for the same seed; statistics equal within float rounding (the
// default float exponentials) or ~1e-15 (exact: true); ties and −∞ logits handled the same.
import { NATIVE_GRID_FIELDS, NATIVE_ROW_FIELDS, type NativeRowAnalysis, type NativeRowOptions, type TillerNativeAddon } from "../native/AddonTypes.js";
import { TillerError } from "../protocol/TillerError.js";
import { InvalidLogitsError } from "./sampling/InvalidLogitsError.js";
import { thermoReadout, type ThermoReadout, type TokenReadouts } from "./sampling/ThermoReadouts.js";
import type { TokenLogProb } from "./sampling/TokenStatistics.js";
import type { TokenSampler } from "./sampling/TokenSampler.js";

export interface RowAnalysisOptions {
    /** per row, the token whose log-probability (and surprisal) is wanted; default: the sampled token */
    targets?: Int32Array;
    /** samples one token per row with this sampler's options, drawing from its seeded sequence; default: greedy */
    sampler?: TokenSampler;
    /** alternatives per row; default 0 */
    topAlternatives?: number;
    /** the second read-out temperature; default the sampler's temperature (0 = greedy), or 1 without a sampler */
    temperature?: number;
    /** double-precision exponentials (≈ the reference to 1e-15; slower): for finite differences; default false */
    exact?: boolean;
    /** false: only argmax and the sampled token (no exponential pass); default true */
    statistics?: boolean;
    /** @internal the widest native instruction set allowed (tests of the fallbacks); default "auto" */
    kernel?: "auto" | "avx2" | "scalar";
    /** a temperature scan: the read-outs at each of these temperatures too (≥ 0; 0 = greedy limit), read with gridReadouts() */
    temperatureGrid?: readonly number[];
}

const F = NATIVE_ROW_FIELDS;

/** What a row analysis returned: typed arrays, one entry (or stride) per row, read with the accessors. */
export class RowAnalysis {
    public readonly rows: number;
    /** argmax of each row (lowest id on ties) */
    public readonly greedy: Int32Array;
    /** the sampled token of each row (= greedy without a sampler or at temperature 0) */
    public readonly sampled: Int32Array;
    /** the second read-out temperature */
    public readonly temperature: number;
    private readonly raw: NativeRowAnalysis;
    private readonly topN: number;
    private readonly grid: readonly number[];

    /** @internal use TillerContext.analyzeRows */
    public constructor(raw: NativeRowAnalysis, topN: number, temperature: number, grid: readonly number[] = []) {
        this.raw = raw;
        this.rows = raw.greedy.length;
        this.greedy = raw.greedy;
        this.sampled = raw.sampled;
        this.topN = topN;
        this.temperature = temperature;
        this.grid = grid;
    }

    private field(row: number, field: number): number {
        return this.raw.fields[row * F.count + field]!;
    }

    public logSumExp(row: number): number {
        return this.field(row, F.logSumExp);
    }

    /** ln Σ exp((z − z_max)/T) at T = 1 and at the second temperature: −F/T (the partition functions relative to the top logit) */
    public logPartitions(row: number): { logZ1: number; logZT: number } {
        return { logZ1: -this.field(row, F.freeEnergy), logZT: -this.field(row, F.freeEnergyT) / this.temperature };
    }

    /** log p(target) at T = 1 (−∞ when masked) */
    public logprob(row: number): number {
        return this.field(row, F.targetLogprob);
    }

    /** entropy at T = 1, nats */
    public entropy(row: number): number {
        return this.field(row, F.entropy);
    }

    /** every row's log p(target) at T = 1 */
    public logprobs(): Float64Array {
        return Float64Array.from({ length: this.rows }, (_, row) => this.logprob(row));
    }

    public entropies(): Float64Array {
        return Float64Array.from({ length: this.rows }, (_, row) => this.entropy(row));
    }

    /** the alternatives of a row, most likely first (lower id on ties), with log-probabilities at T = 1 */
    public top(row: number): TokenLogProb[];
    /** the same, each with its text (built in one step: a generation makes these for every token) */
    public top(row: number, pieceOf: (id: number) => string): (TokenLogProb & { piece: string })[];
    public top(row: number, pieceOf?: (id: number) => string): TokenLogProb[] {
        const out: (TokenLogProb & { piece?: string })[] = [];
        const count = this.raw.topCounts[row]!;
        for (let j = 0; j < count; j++) {
            const id = this.raw.topIds[row * this.topN + j]!;
            const logprob = this.raw.topLogprobs[row * this.topN + j]!;
            out.push(pieceOf == null ? { id, logprob } : { id, logprob, piece: pieceOf(id) });
        }
        return out;
    }

    /** the read-outs of a row at every temperature of the grid asked for (options.temperatureGrid), in its order */
    public gridReadouts(row: number): ThermoReadout[] {
        const G = NATIVE_GRID_FIELDS;
        return this.grid.map((temperature, k) => {
            const at = (row * this.grid.length + k) * G.count;
            const field = (f: number) => this.raw.gridFields[at + f]!;
            return thermoReadout(temperature, field(G.freeEnergy), field(G.meanEnergy), field(G.entropy), field(G.heatCapacity), field(G.targetLogprob));
        });
    }

    /** the thermodynamic read-outs of a row at T = 1 and at the second temperature */
    public readouts(row: number): TokenReadouts {
        const gap = this.field(row, F.gap);
        return {
            t1: thermoReadout(1, this.field(row, F.freeEnergy), this.field(row, F.meanEnergy), this.field(row, F.entropy),
                this.field(row, F.heatCapacity), this.field(row, F.targetLogprob)),
            sampler: thermoReadout(this.temperature, this.field(row, F.freeEnergyT), this.field(row, F.meanEnergyT), this.field(row, F.entropyT),
                this.field(row, F.heatCapacityT), this.field(row, F.targetLogprobT)),
            gap: Number.isFinite(gap) ? gap : null
        };
    }
}

/** 0 (the greedy limit) or within [1e-30, 1e6]: what the native analysis can sum (row_analysis.h, row_temperature_valid). */
function readoutTemperatureValid(t: number): boolean {
    return t === 0 || (t >= 1e-30 && t <= 1e6);
}

/**
 * Checks the options, draws one uniform per row from the sampler (when it samples) and runs `call`
 * (the native analysis); native invalid-logits errors become InvalidLogitsError, as in the reference.
 */
export function runRowAnalysis(rowCount: number, options: RowAnalysisOptions,
    call: (targets: Int32Array | null, nativeOptions: NativeRowOptions, uniforms: Float64Array | null) => NativeRowAnalysis): RowAnalysis {
    const topN = options.topAlternatives ?? 0;
    if (!Number.isSafeInteger(topN) || topN < 0)
        throw new TillerError("INVALID_ARGUMENT", `topAlternatives must be a whole number ≥ 0, got ${topN}`);
    const sampling = options.sampler?.options;
    const temperature = options.temperature ?? sampling?.temperature ?? 1;
    if (!readoutTemperatureValid(temperature))
        throw new TillerError("INVALID_ARGUMENT", `the read-out temperature must be 0 (greedy) or within [1e-30, 1e6], got ${temperature}`);
    if (options.targets != null && options.targets.length !== rowCount)
        throw new TillerError("INVALID_ARGUMENT", `${options.targets.length} targets for ${rowCount} rows`);
    let uniforms: Float64Array | null = null;
    if (options.sampler != null && sampling!.temperature > 0) {
        uniforms = new Float64Array(rowCount);
        for (let i = 0; i < rowCount; i++)
            uniforms[i] = options.sampler.drawUniform();
    }
    const grid = options.temperatureGrid ?? [];
    for (const t of grid) {
        if (!readoutTemperatureValid(t))
            throw new TillerError("INVALID_ARGUMENT", `every scan temperature must be 0 (greedy) or within [1e-30, 1e6], got ${t}`);
    }
    if (grid.length > 0 && options.statistics === false)
        throw new TillerError("INVALID_ARGUMENT", "a temperature scan needs statistics");
    try {
        // built field by field (no spreads): a generation analyses a row for every token
        const nativeOptions: NativeRowOptions = { topN, temperature, statistics: options.statistics ?? true, exact: options.exact ?? false };
        // at temperature 0 the sampled token is the argmax, which the native pass finds anyway
        if (sampling != null && sampling.temperature > 0)
            nativeOptions.sampler = { temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP, minP: sampling.minP };
        if (options.kernel != null)
            nativeOptions.kernel = options.kernel;
        if (grid.length > 0)
            nativeOptions.temperatureGrid = Float64Array.from(grid);
        const raw = call(options.targets ?? null, nativeOptions, uniforms);
        return new RowAnalysis(raw, topN, temperature, grid);
    } catch (error) {
        if ((error as { invalidLogits?: boolean }).invalidLogits === true)
            throw new InvalidLogitsError((error as Error).message);
        throw error;
    }
}

/** The same analysis over logits a caller holds (rows × nVocab floats, row-major). */
export function analyzeLogits(addon: TillerNativeAddon, logits: Float32Array, nVocab: number, options: RowAnalysisOptions = {}): RowAnalysis {
    return runRowAnalysis(Math.floor(logits.length / nVocab), options, (targets, nativeOptions, uniforms) => addon.analyzeLogits(logits, nVocab, targets, nativeOptions, uniforms));
}
