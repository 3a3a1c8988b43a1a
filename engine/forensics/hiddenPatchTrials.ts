// An honest blind benchmark of detectFromTranscript. A seeded generator — whose random stream the
// detector never sees — draws a hidden patch (or none), a sampler and a prompt, the lab generates
// the text, and the detector gets only what a user would have: the prompt, the emitted token ids,
// the sampler's settings (not its seed) and a library of named vectors in shuffled order.
//
// Hidden patches: always on from token k, projection-triggered (a condition vector at a layer
// crossing a threshold taken from a clean pilot run), or text-triggered (a word the clean pilot
// wrote). The vector is a library vector, or a fresh random direction outside the library; the
// library may hold a decoy with cosine ≈ 0.9 to the true vector. Strengths are log-uniform over
// [0.3, 3] (weak ones sit near the detection limit). Text is greedy or sampled at T = 0.7. The
// truth is what the run recorded: the tokens each patch actually acted on.
import { generate } from "../runtime/generate.js";
import type { LayerRange } from "../runtime/layers.js";
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import type { SteeringPatch } from "../runtime/SteeringPatch.js";
import { vectorNorm, type SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import { detectFromTranscript, type BlindDetectionOptions, type BlindDetectionReport, type LibraryVector } from "./detectFromTranscript.js";

export type HiddenPatchKind = "clean" | "from-token" | "projection-trigger" | "text-trigger";

export interface HiddenPatchTrialOptions {
    trials: number;
    /** the generator's seed (the detector's null simulation has its own) */
    seed: number;
    prompts: readonly string[];
    /** vectors the hidden patches draw from; the detector's library is these (and maybe a decoy), renamed and shuffled */
    pool: readonly SteeringVector[];
    /** emitted tokens per trial; default 32 */
    maxTokens?: number;
    /** share of clean trials; default 0.3 */
    cleanShare?: number;
    /** share of patches outside the library; default 0.3 */
    outOfLibraryShare?: number;
    /** share of trials whose library holds a near-collinear decoy; default 0.4 */
    decoyShare?: number;
    /** |α| is log-uniform over this; default [0.3, 3] */
    strengthRange?: [number, number];
    detector?: Omit<BlindDetectionOptions, "signal" | "onProgress">;
    /** a context for generation (default: the detector's); generation uses the lab's default precision */
    generationContext?: TillerContext;
    onTrial?(trial: HiddenPatchTrial, index: number): void;
    signal?: AbortSignal;
}

export interface HiddenPatchTruth {
    kind: HiddenPatchKind;
    sampling: "greedy" | "T=0.7";
    /** library id of the true vector, or null outside the library / clean */
    vectorId: string | null;
    inLibrary: boolean;
    decoy: boolean;
    strength: number | null;
    layers: LayerRange | null;
    /** the tokens the patch acted on, as recorded by the run ([] : it never acted) */
    engaged: number[];
    /** the text differs from the clean run with the same prompt, sampler and seed (otherwise no detector can see the patch) */
    textChanged: boolean;
}

export interface HiddenPatchTrial {
    truth: HiddenPatchTruth;
    /** the detector's answer (without the per-token arrays) */
    report: Pick<BlindDetectionReport, "steered" | "pValue" | "verdict" | "onsetToken" | "intervals" | "method"> & {
        best: { vectorId: string; alpha: number; layers: LayerRange } | null;
        libraryStatistic: number | null;
        freeStatistic: number;
    } | null;
    /** the detector refused the transcript (e.g. greedy text it calls impossible) */
    error: string | null;
    emitted: number;
    elapsedMs: number;
}

/** Fresh random direction per layer, scaled like the pool's vectors at that layer. */
function randomDirection(random: SeededRandom, like: SteeringVector, name: string): SteeringVector {
    const directions = new Map<number, Float32Array>();
    for (const [layer, reference] of like.directions) {
        const values = Float32Array.from(reference, () => gaussian(random));
        const scale = vectorNorm(reference) / Math.max(1e-12, vectorNorm(values));
        directions.set(layer, values.map((value) => value * scale));
    }
    return { name, nEmbd: like.nEmbd, directions };
}

/** A vector with cosine `cosine` to `vector` at every layer, same norms. */
function decoyOf(vector: SteeringVector, cosine: number, rng: SeededRandom): SteeringVector {
    const directions = new Map<number, Float32Array>();
    for (const [layer, direction] of vector.directions) {
        const norm = vectorNorm(direction);
        const unit = direction.map((value) => value / Math.max(1e-12, norm));
        const noise = Float32Array.from(direction, () => gaussian(rng));
        let projection = 0;
        for (let i = 0; i < noise.length; i++)
            projection += noise[i]! * unit[i]!;
        for (let i = 0; i < noise.length; i++)
            noise[i] = noise[i]! - projection * unit[i]!;
        const noiseNorm = Math.max(1e-12, vectorNorm(noise));
        const sine = Math.sqrt(1 - cosine * cosine);
        directions.set(layer, Float32Array.from(direction, (_, i) => norm * (cosine * unit[i]! + sine * noise[i]! / noiseNorm)));
    }
    return { name: "decoy", nEmbd: vector.nEmbd, directions };
}

function gaussian(random: SeededRandom): number {
    const u = Math.max(1e-12, random.next());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

function pick<T>(random: SeededRandom, items: readonly T[]): T {
    return items[Math.floor(random.next() * items.length)]!;
}

function shuffle<T>(random: SeededRandom, items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(random.next() * (i + 1));
        [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
}

export async function runHiddenPatchTrials(context: TillerContext, options: HiddenPatchTrialOptions): Promise<HiddenPatchTrial[]> {
    const random = new SeededRandom(options.seed);
    const model = context.model;
    const { nLayer } = model.shape;
    const maxTokens = options.maxTokens ?? 32;
    const [minStrength, maxStrength] = options.strengthRange ?? [0.3, 3];
    const generation = options.generationContext ?? context;
    const trials: HiddenPatchTrial[] = [];
    for (let index = 0; index < options.trials; index++) {
        if (options.signal?.aborted)
            break;
        const prompt = options.prompts[index % options.prompts.length]!;
        const greedy = random.next() < 0.5;
        const sampling = greedy ? { temperature: 0 } : { temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05, seed: Math.floor(random.next() * 2 ** 31) };
        const claimed = greedy ? { temperature: 0 } : { temperature: 0.7, topK: 40, topP: 0.95, minP: 0.05 };
        const draw = random.next();
        const cleanShare = options.cleanShare ?? 0.3;
        const kind: HiddenPatchKind = draw < cleanShare ? "clean" : pick(random, ["from-token", "from-token", "projection-trigger", "text-trigger"] as const);

        // the library the detector sees: the pool (+ maybe a decoy), renamed v1..vN in shuffled order
        const inLibrary = random.next() >= (options.outOfLibraryShare ?? 0.3);
        const poolVector = pick(random, options.pool);
        const hiddenVector = inLibrary ? poolVector : randomDirection(random, poolVector, "hidden");
        const withDecoy = kind !== "clean" && random.next() < (options.decoyShare ?? 0.4);
        const members: { vector: SteeringVector; isTrue: boolean }[] = options.pool.map((vector) => ({ vector, isTrue: inLibrary && vector === poolVector }));
        if (withDecoy)
            members.push({ vector: decoyOf(hiddenVector, 0.9, random), isTrue: false });
        const library: LibraryVector[] = shuffle(random, members).map((member, i) => ({ id: `v${i + 1}`, name: `v${i + 1}`, vector: member.vector }));
        const trueId = kind !== "clean" && inLibrary ? library[members.findIndex((member) => member.isTrue)]!.id : null;
        const trueEntry = library.find((entry) => entry.vector === poolVector && inLibrary);

        const first = 1 + Math.floor(random.next() * (nLayer - 1));
        const last = first + Math.floor(random.next() * Math.min(2, nLayer - first));
        const layers = { first, last: Math.min(nLayer - 1, last) };
        const magnitude = Math.exp(Math.log(minStrength) + random.next() * (Math.log(maxStrength) - Math.log(minStrength)));
        const strength = random.next() < 0.5 ? -magnitude : magnitude;
        const fromToken = 2 + Math.floor(random.next() * Math.max(1, Math.floor(maxTokens / 2) - 2));

        let patches: SteeringPatch[] = [];
        if (kind === "from-token")
            patches = [{ id: "hidden", vector: hiddenVector, strength, layers, fromToken }];
        else if (kind === "projection-trigger" || kind === "text-trigger") {
            // a clean pilot of the same prompt and sampler picks a threshold / a word that occurs
            const condition = pick(random, options.pool);
            const conditionLayer = 1 + Math.floor(random.next() * (nLayer - 1));
            const pilot = await generate(generation, prompt, { maxTokens, sampling, probes: [{ name: "condition", vector: condition, layers: [conditionLayer] }] }).result;
            const hold = 3 + Math.floor(random.next() * 6);
            if (kind === "projection-trigger") {
                const values = pilot.tokens.slice(1).map((token) => token.projections[0]?.dot ?? 0).sort((a, b) => a - b);
                const threshold = values[Math.floor(0.75 * (values.length - 1))] ?? 0;
                patches = [{ id: "hidden", vector: hiddenVector, strength, layers, trigger: { kind: "projection", vector: condition, layer: conditionLayer, threshold, when: "above", holdTokens: hold } }];
            } else {
                const words = pilot.text.split(/\s+/).map((word) => word.replace(/[^A-Za-z]/g, "")).filter((word) => word.length >= 3);
                const later = words.slice(Math.min(2, Math.max(0, words.length - 1)));
                const match = later.length > 0 ? pick(random, later) : "the";
                patches = [{ id: "hidden", vector: hiddenVector, strength, layers, trigger: { kind: "text", match, holdTokens: hold } }];
            }
        }
        const run = await generate(generation, prompt, { maxTokens, sampling, patches }).result;
        const engaged = run.tokens.filter((token) => token.activePatches.includes("hidden")).map((token) => token.index);
        // the same run without the patch (same seed): whether the patch left any trace in the text
        const cleanTwin = patches.length === 0 ? run : await generate(generation, prompt, { maxTokens, sampling }).result;
        const textChanged = cleanTwin.tokens.length !== run.tokens.length || cleanTwin.tokens.some((token, k) => token.id !== run.tokens[k]!.id);
        const truth: HiddenPatchTruth = {
            kind, sampling: greedy ? "greedy" : "T=0.7",
            vectorId: trueEntry != null && kind !== "clean" ? trueId : null,
            inLibrary: kind !== "clean" && inLibrary, decoy: withDecoy,
            strength: kind === "clean" ? null : strength, layers: kind === "clean" ? null : layers,
            engaged, textChanged
        };
        const started = performance.now();
        let trial: HiddenPatchTrial;
        if (run.tokens.length === 0) {
            trial = { truth, report: null, error: "the run emitted no tokens", emitted: 0, elapsedMs: 0 };
        } else {
            try {
                const report = await detectFromTranscript(context, {
                    promptTokens: model.tokenize(prompt), emitted: Int32Array.from(run.tokens, (token) => token.id),
                    sampler: { topK: 40, topP: 0.95, minP: 0.05, ...claimed }
                }, library, { ...options.detector, signal: options.signal });
                trial = {
                    truth,
                    report: {
                        steered: report.steered, pValue: report.pValue, verdict: report.verdict, onsetToken: report.onsetToken, intervals: report.intervals, method: report.method,
                        best: report.best != null ? { vectorId: report.best.vectorId, alpha: report.best.alpha, layers: report.best.layers } : null,
                        libraryStatistic: report.tests.library?.statistic ?? null, freeStatistic: report.tests.free.statistic
                    },
                    error: null, emitted: run.tokens.length, elapsedMs: performance.now() - started
                };
            } catch (error) {
                trial = { truth, report: null, error: (error as Error).message, emitted: run.tokens.length, elapsedMs: performance.now() - started };
            }
        }
        trials.push(trial);
        options.onTrial?.(trial, index);
    }
    return trials;
}
