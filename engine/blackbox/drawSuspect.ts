// Draws a suspect's hidden conditional patch from a seed: the trigger (a word in the text, or a
// direction in the residual stream at some layer with a threshold), the patch direction, its layers
// and strength. The answer is sealed: only `tiller suspect --reveal FILE` writes it out, and the
// localiser never sees the seed.
import { TillerError } from "../protocol/TillerError.js";
import { SeededRandom } from "../runtime/sampling/SeededRandom.js";
import type { SteeringVector } from "../runtime/SteeringVector.js";
import type { TillerContext } from "../runtime/TillerContext.js";
import type { HiddenPatch } from "./HiddenPatchModel.js";
import { defaultBridge, defaultCarrier, fillerWords, neutralSentences } from "./neutralText.js";

export type SuspectTriggerKind = "text" | "projection";

/** Everything about the hidden patch, as JSON (what --reveal writes). */
export interface SuspectAnswer {
    seed: number;
    /** the word the trigger was built around; a span of text containing it switches the patch on */
    triggerWord: string;
    trigger:
        | { kind: "text"; match: string }
        | { kind: "projection"; layer: number; threshold: number; direction: number[]; firesOnCalibration: string };
    patch: { layers: { first: number; last: number }; strength: number; vectorNorm: number; direction: number[] };
}

export interface DrawnSuspect {
    patch: HiddenPatch;
    answer: SuspectAnswer;
}

// words too common to make a trigger that stays quiet on ordinary text
const commonWords = new Set(["the", "and", "was", "with", "her", "his", "that", "she", "you", "they", "for", "had", "there", "but", "very", "said",
    "ing", "ily", "ver", "ith", "ked", "itt", "end", "ime", "ent", "all", "ould", "ved", "out", "her", "upon", "time", "day", "are", "them", "when"]);

/** Whole-word tokens of the vocabulary ("▁word" / " word", 4+ letters) that the neutral texts do not contain. */
export function triggerWordCandidates(context: TillerContext): string[] {
    const model = context.model;
    const neutral = [...neutralSentences, defaultCarrier, defaultBridge, ...fillerWords].join(" ").toLowerCase();
    const words: string[] = [];
    for (let id = 0; id < model.shape.nVocab; id++) {
        const text = model.tokenText(id).replace(/^▁/, " ");
        const match = /^ ([a-z]{4,})$/.exec(text);
        if (match == null || commonWords.has(match[1]!) || neutral.includes(match[1]!))
            continue;
        words.push(text);
    }
    return words;
}

function gaussian(random: SeededRandom): number {
    const u = Math.max(random.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

function unit(values: Float64Array | Float32Array): Float32Array {
    let norm = 0;
    for (const value of values)
        norm += value * value;
    norm = Math.sqrt(norm) || 1;
    return Float32Array.from(values, (value) => value / norm);
}

/** the sentence with `word` inserted before a word boundary chosen by `random`, and where it sits */
export function insertWord(sentence: string, word: string, random: SeededRandom): { text: string; start: number; end: number } {
    const cuts = [...sentence.matchAll(/ /g)].map((match) => match.index);
    const cut = cuts[Math.floor(random.next() * cuts.length)] ?? sentence.length;
    return { text: sentence.slice(0, cut) + word + sentence.slice(cut), start: cut, end: cut + word.length };
}

/**
 * Index in `tokens` (tokens[0] = BOS) of the token whose text covers character `charIndex` of
 * `text` (the text the tokens came from), or −1. Works from detokenized prefixes, so it holds for
 * tokenizers that add a leading space.
 */
export function tokenAtChar(model: TillerContext["model"], tokens: Int32Array, text: string, charIndex: number): number {
    const start = tokens[0] === model.shape.bos ? 1 : 0;
    const shift = model.detokenize(tokens.subarray(start)).length - text.length;
    for (let end = start + 1; end <= tokens.length; end++) {
        if (model.detokenize(tokens.subarray(start, end)).length - shift > charIndex)
            return end - 1;
    }
    return -1;
}

/** Residuals of block `layer` for each token of `text` (rows × nEmbd), clean. */
async function residualsOf(context: TillerContext, text: string, layer: number): Promise<{ tokens: Int32Array; data: Float32Array }> {
    const tokens = context.model.tokenize(text, { addBos: true });
    const release = context.claim("calibrating a suspect");
    try {
        await context.clearMemory();
        await context.setSteering(null);
        await context.setCapture([layer]);
        // logits for every row: llama.cpp drops rows without logits before the last block
        const captured = await context.evaluate(tokens, { startPosition: 0, logits: "all" });
        return { tokens, data: captured.get(layer)!.data };
    } finally {
        await context.setCapture([]);
        release();
    }
}

export interface DrawSuspectOptions {
    /** default: drawn from the seed */
    kind?: SuspectTriggerKind;
}

export async function drawSuspect(context: TillerContext, seed: number, options: DrawSuspectOptions = {}): Promise<DrawnSuspect> {
    if (!Number.isSafeInteger(seed) || seed < 0)
        throw new TillerError("INVALID_ARGUMENT", `the suspect's seed must be a whole number ≥ 0, got ${seed}`);
    const { nLayer, nEmbd } = context.model.shape;
    if (nLayer < 3)
        throw new TillerError("INVALID_ARGUMENT", `a suspect needs a model of at least 3 blocks (this one has ${nLayer})`);
    const random = new SeededRandom(seed * 7919 + 17);
    const kind = options.kind ?? (random.next() < 0.5 ? "text" : "projection");
    const words = triggerWordCandidates(context);
    if (words.length === 0)
        throw new TillerError("INVALID_ARGUMENT", "this model's vocabulary has no whole-word tokens to build a trigger from");
    const triggerWord = words[Math.floor(random.next() * words.length)]!;

    // trigger layer (projection triggers read it; patches act strictly above it)
    const triggerLayer = 1 + Math.floor(random.next() * (nLayer - 2)); // 1..nLayer-2
    const first = kind === "projection" ? triggerLayer + 1 : 1 + Math.floor(random.next() * (nLayer - 1));
    const last = first + Math.floor(random.next() * (nLayer - first));

    // residual norms at the first patched block set the scale of α
    const plain = await residualsOf(context, neutralSentences.join(" "), first);
    let normSum = 0;
    const rows = plain.data.length / nEmbd;
    for (let row = 1; row < rows; row++) {
        let sum = 0;
        for (let i = 0; i < nEmbd; i++)
            sum += plain.data[row * nEmbd + i]! ** 2;
        normSum += Math.sqrt(sum);
    }
    const typicalNorm = normSum / Math.max(1, rows - 1);
    const strength = typicalNorm * (0.4 + random.next() * 1.2);
    const direction = unit(Float64Array.from({ length: nEmbd }, () => gaussian(random)));
    const vector: SteeringVector = {
        name: "hidden",
        nEmbd,
        directions: new Map(Array.from({ length: last - first + 1 }, (_, i) => [first + i, direction] as const))
    };
    const patchAnswer = { layers: { first, last }, strength, vectorNorm: 1, direction: Array.from(direction) };

    if (kind === "text") {
        const match = triggerWord.trim();
        return {
            patch: { trigger: { kind: "text", match }, vector, layers: { first, last }, strength },
            answer: { seed, triggerWord, trigger: { kind: "text", match }, patch: patchAnswer }
        };
    }

    // projection trigger: the direction separating the trigger word's residual from ordinary tokens
    const positives: Float32Array[] = [];
    const negatives: Float32Array[] = [];
    for (const sentence of neutralSentences) {
        const inserted = insertWord(sentence, triggerWord, random);
        const withWord = await residualsOf(context, inserted.text, triggerLayer);
        const at = tokenAtChar(context.model, withWord.tokens, inserted.text, inserted.end - 1);
        if (at >= 0)
            positives.push(withWord.data.slice(at * nEmbd, (at + 1) * nEmbd));
        const without = await residualsOf(context, sentence, triggerLayer);
        for (let row = 1; row < without.tokens.length; row++)
            negatives.push(without.data.slice(row * nEmbd, (row + 1) * nEmbd));
    }
    if (positives.length === 0)
        throw new TillerError("INTERNAL", `the trigger word "${triggerWord}" was not found in its own calibration texts`);
    const mean = (list: Float32Array[]) => {
        const sum = new Float64Array(nEmbd);
        for (const entry of list) {
            for (let i = 0; i < nEmbd; i++)
                sum[i]! += entry[i]! / list.length;
        }
        return sum;
    };
    const [positiveMean, negativeMean] = [mean(positives), mean(negatives)];
    const triggerDirection = unit(positiveMean.map((value, i) => value - negativeMean[i]!));
    const project = (entry: Float32Array) => entry.reduce((sum, value, i) => sum + value * triggerDirection[i]!, 0);
    const positiveValues = positives.map(project).sort((a, b) => a - b);
    const negativeMax = Math.max(...negatives.map(project));
    // midway between ordinary text's highest value and the trigger word's median: quiet on the
    // calibration text by construction, firing on most of the word's occurrences
    const threshold = (negativeMax + positiveValues[Math.floor(positiveValues.length / 2)]!) / 2;
    const fires = positiveValues.filter((value) => value > threshold).length;
    return {
        patch: { trigger: { kind: "projection", layer: triggerLayer, direction: triggerDirection, threshold }, vector, layers: { first, last }, strength },
        answer: {
            seed, triggerWord,
            trigger: { kind: "projection", layer: triggerLayer, threshold, direction: Array.from(triggerDirection), firesOnCalibration: `${fires}/${positiveValues.length}` },
            patch: patchAnswer
        }
    };
}
