/**
 * User-facing knobs for turning a logit vector into one token.
 *
 * Every field is required here so the hot sampling path never has to think about defaults;
 * callers that only care about a few knobs go through {@link resolveSamplingOptions}.
 */
export interface SamplingOptions {
    /** Softmax temperature. 0 selects greedy decoding (argmax). Default 0. */
    temperature: number;
    /** Keep only the k most likely tokens. 0 disables the filter. Default 40. */
    topK: number;
    /** Nucleus sampling: keep the smallest set whose probability mass reaches topP. 1 disables it. Default 0.95. */
    topP: number;
    /** Drop tokens whose probability is below minP times the top token's probability. 0 disables it. Default 0.05. */
    minP: number;
    /** Seed of the sampler's PRNG (an unsigned 32-bit integer), so runs are reproducible. Default 0xC0FFEE. */
    seed: number;
}

/**
 * Greedy by default: steering experiments compare outputs with and without a vector, and that
 * comparison is only meaningful when sampling noise is off unless somebody asks for it. The
 * filter defaults mirror llama.cpp's so that switching temperature on behaves like the CLI.
 */
export const defaultSamplingOptions: Readonly<SamplingOptions> = Object.freeze({
    temperature: 0,
    topK: 40,
    topP: 0.95,
    minP: 0.05,
    seed: 0xc0ffee
});

/** Thrown when a sampling option is out of range; `field` names the offending option. */
export class SamplingOptionsError extends Error {
    readonly field: keyof SamplingOptions;

    constructor(field: keyof SamplingOptions, message: string) {
        super(`Invalid sampling option "${field}": ${message}`);
        this.name = "SamplingOptionsError";
        this.field = field;
    }
}

const UINT32_MAX = 0xffffffff;

/**
 * Fills in defaults and validates every field. Options usually come from a UI or a protocol
 * message, so this fails loudly with the field name rather than letting a NaN temperature turn
 * into a silently broken distribution deep inside the generation loop.
 */
export function resolveSamplingOptions(partial: Partial<SamplingOptions> = {}): SamplingOptions {
    const resolved: SamplingOptions = {
        temperature: partial.temperature ?? defaultSamplingOptions.temperature,
        topK: partial.topK ?? defaultSamplingOptions.topK,
        topP: partial.topP ?? defaultSamplingOptions.topP,
        minP: partial.minP ?? defaultSamplingOptions.minP,
        seed: partial.seed ?? defaultSamplingOptions.seed
    };

    const { temperature, topK, topP, minP, seed } = resolved;
    requireFinite("temperature", temperature);
    if (temperature < 0) {
        throw new SamplingOptionsError("temperature", `must be >= 0 (0 = greedy), got ${temperature}`);
    }

    requireFinite("topK", topK);
    if (!Number.isSafeInteger(topK) || topK < 0) {
        throw new SamplingOptionsError("topK", `must be an integer >= 0 (0 = off), got ${topK}`);
    }

    requireFinite("topP", topP);
    if (!(topP > 0 && topP <= 1)) {
        throw new SamplingOptionsError("topP", `must be in (0, 1] (1 = off), got ${topP}`);
    }

    requireFinite("minP", minP);
    if (!(minP >= 0 && minP < 1)) {
        throw new SamplingOptionsError("minP", `must be in [0, 1) (0 = off), got ${minP}`);
    }

    validateSeed(seed);
    return resolved;
}

/** Shared with the sampler's `reset(seed)` so a reseed obeys the same rules as construction. */
export function validateSeed(seed: number): void {
    requireFinite("seed", seed);
    if (!Number.isInteger(seed) || seed < 0 || seed > UINT32_MAX) {
        throw new SamplingOptionsError("seed", `must be an unsigned 32-bit integer, got ${seed}`);
    }
}

function requireFinite(field: keyof SamplingOptions, value: unknown): asserts value is number {
    if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new SamplingOptionsError(field, `must be a finite number, got ${String(value)}`);
    }
}
