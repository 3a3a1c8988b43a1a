// The contract's patch-forensics requests (issue 11): blind detection from a transcript. The
// detector gets what a user who found the text would have — the prompt, the emitted tokens, the
// sampler settings, optionally a vector library — and never the patch or the patched
// activations. EngineContract.ts spreads these into its request map. Pure TypeScript + zod.
import { z } from "zod";
import { layerRangeSchema } from "./shapes.js";

/** The sampler the transcript claims to come from. temperature 0 (the default) is greedy. */
export const transcriptSamplingSchema = z.object({
    temperature: z.number().min(0).refine(Number.isFinite, "temperature must be finite").optional(),
    topK: z.number().int().min(0).optional(),
    topP: z.number().gt(0).max(1).optional(),
    minP: z.number().min(0).lt(1).optional(),
    /** accepted and recorded; the likelihood tests do not need it */
    seed: z.number().int().min(0).max(0xffffffff).optional()
});
export type TranscriptSampling = z.infer<typeof transcriptSamplingSchema>;

/**
 * A transcript: prompt (plain, or a user message laid out with the chat template) and the emitted
 * tokens, as ids and/or text; or `runId`, a recorded run of this model's session (its prompt,
 * tokens and sampler only — never its patches).
 */
export const transcriptSchema = z.object({
    prompt: z.string().optional(),
    promptMode: z.enum(["plain", "chat"]).optional(),
    /** emitted token ids (generated token 0 first) */
    tokens: z.array(z.number().int()).max(8192).optional(),
    /** emitted text; with `tokens` it must be exactly what they spell, alone it is tokenized */
    completion: z.string().optional(),
    runId: z.string().min(1).optional(),
    sampling: transcriptSamplingSchema.optional()
});
export type TranscriptParams = z.infer<typeof transcriptSchema>;

export const forensicsDetectSchema = transcriptSchema.extend({
    /** library vector ids the patch may have used; default: the whole library; [] tests without a library */
    candidates: z.array(z.string().min(1)).max(64).optional(),
    /** layer ranges to try; default: every contiguous range of steerable blocks (at most 10, else singles + all) */
    layerRanges: z.array(layerRangeSchema).min(1).max(64).optional(),
    /** strengths α to try (each sign counts); default ±{0.25, 0.5, 1, 2, 4}, refined around the best */
    alphas: z.array(z.number().refine((value) => Number.isFinite(value) && value !== 0, "every α must be finite and non-zero")).min(1).max(64).optional(),
    /** draws per token from the clean model's sampler that calibrate the p-values; default 200 */
    nullDraws: z.number().int().min(20).max(5000).optional(),
    /** the p-value below which the transcript is called steered; default 0.01 */
    significance: z.number().gt(0).max(0.5).optional()
});
export type ForensicsDetectParams = z.infer<typeof forensicsDetectSchema>;

export const forensicsRequestSchemas = {
    /** blind detection from a transcript; streams `progress`, cancellable */
    "forensics.detect": forensicsDetectSchema
} as const;

// ---- results ------------------------------------------------------------------------------------

/** An interval of generated tokens [from, until) on which a patch is judged engaged. */
export interface TokenInterval {
    from: number;
    until: number;
}

/** Per generated token: the evidence to plot. */
export interface ForensicsTokenEvidence {
    index: number;
    id: number;
    piece: string;
    /** log q_clean(token) under the claimed sampler (temperature and filters; floored, see README) */
    cleanLogprob: number;
    /** log q_best(token) under the best hypothesis and the same sampler */
    bestLogprob: number;
    /** bestLogprob − cleanLogprob: this token's evidence for the best hypothesis (nats) */
    llr: number;
    /** KL(p_best ‖ p_clean) of the raw (temperature 1) next-token distributions */
    kl: number;
    /** log p_best(token) − log p_clean(token) at temperature 1 */
    deltaLogprob: number;
    /** the token is the clean model's most likely one (within the numerical tolerance) */
    cleanArgmax: boolean;
    /** standardised surprise of the token under the clean sampler: (s − E s)/√Var s */
    surprise: number;
    /** the segmentation puts the best hypothesis' patch on at this token */
    engaged: boolean;
}

/** One library hypothesis, fitted. */
export interface ForensicsCandidate {
    vectorId: string;
    name: string;
    layers: { first: number; last: number };
    /** α̂ (the maximum-likelihood strength on the grid, refined for the leaders) */
    alpha: number;
    /** ‖v‖ over the range (root of the summed squares): α means α times this */
    norm: number;
    /** log-likelihood ratio against the clean model, with the fitted onset/intervals (nats) */
    logLrVsClean: number;
    onsetToken: number | null;
    intervals: TokenInterval[];
}

export interface ForensicsTest {
    /** what is measured (see README) */
    name: string;
    statistic: number;
    /** calibrated against the clean model's own sampling under the claimed sampler */
    pValue: number;
}

export interface ForensicsDetectResult {
    detectionId: string;
    /** "greedy-exact": a greedy transcript, judged by whether each token is the clean argmax;
     *  "likelihood-ratio": sampled text, judged by calibrated likelihood-ratio and surprise tests */
    method: "greedy-exact" | "likelihood-ratio";
    steered: boolean;
    /** p-value of "the clean model wrote this with this sampler" (0: impossible under the clean model) */
    pValue: number;
    significance: number;
    /** "clean": no evidence; "library": the best library hypothesis explains it; "outside-library": steered along a direction the library does not hold */
    verdict: "clean" | "library" | "outside-library";
    /** library: likelihood-ratio GLRT; score: linear response at α = 0 (weak patches); free: surprise, no library */
    tests: { library: ForensicsTest | null; score: ForensicsTest | null; free: ForensicsTest; greedyInconsistent: number[] | null };
    /** first steered token (null: not steered); for greedy text the earliest token the steering could have started is onsetRange[0] */
    onsetToken: number | null;
    onsetRange: [number, number] | null;
    intervals: TokenInterval[];
    /** more than one interval, or one that closes before the end: a conditional patch */
    conditional: boolean;
    best: (ForensicsCandidate & { logLrVsRunnerUp: number | null; runnerUp: string | null }) | null;
    /** leading hypotheses, best first (one per vector × range) */
    candidates: ForensicsCandidate[];
    tokens: ForensicsTokenEvidence[];
    sampling: { temperature: number; topK: number; topP: number; minP: number };
    promptTokens: number;
    hypotheses: number;
    nullDraws: number;
    decodes: number;
    warnings: string[];
    elapsedMs: number;
}

export interface ForensicsResults {
    "forensics.detect": ForensicsDetectResult;
}
