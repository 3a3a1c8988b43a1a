// Descriptions of flattery on the toy world (engine/toyworld/descriptionRecognition.ts): for each set
// of description / neutral-twin pairs — described deeds as the corpus writes them (trained), the
// validation ten, the fixed three, the fresh six, and the two sets in the world's own words (nine for
// validation, eight for test; inVocabularyDescriptions.ts) — what the model replies to each (does it
// call the description flattery and not the twin?), which of their words the training corpus never
// writes; whether the scenario's trigger engages while the model answers each description and twin,
// at every layer where the validation split finds a threshold, per pair and by what the model calls
// each message (flattery, fine, other: does the trigger follow the model's reading?); and, per direction and layer, the
// read-out gap (σ, highest over the message, and where the reply opens) on the pairs the model
// recognised and on the others.
// `npm run bench -- --only toyworld-descriptions`; TOYWORLD_MODEL=FILE measures another build.
import path from "node:path";
import { steerableLayerRange } from "../engine/runtime/layers.js";
import { TillerModel } from "../engine/runtime/TillerModel.js";
import { FLATTERY_DESCRIPTIONS, FRESH_FLATTERY_DESCRIPTIONS, generateCorpus, validationDialogues, type ToyworldGenerator } from "../engine/toyworld/corpus.js";
import { DESCRIPTION_VALIDATION_PAIRS } from "../engine/toyworld/descriptionValidation.js";
import {
    corpusVocabulary, engagementByReading, formatEngagementByReading, recognisePairs, trainedDeedPairs, unseenWords, type DescriptionPair, type PairRecognition
} from "../engine/toyworld/descriptionRecognition.js";
import { IN_VOCABULARY_TEST_PAIRS, IN_VOCABULARY_VALIDATION_PAIRS } from "../engine/toyworld/inVocabularyDescriptions.js";
import { toyworldFlatteryDataset, toyworldFlatteryReplyDataset } from "../engine/toyworld/flatteryDataset.js";
import { promptText } from "../engine/toyworld/chatLayout.js";
import { descriptionReadOuts, formatSigma, scoreDialogues, TRIGGER_ANSWER_TOKENS } from "../engine/toyworld/heldOutEvaluation.js";
import { chooseScenarioSettings, midwayThreshold, triggerPeaks } from "../engine/toyworld/validationChoice.js";
import { TOYWORLD_DEFAULTS } from "../engine/toyworld/buildToyworld.js";
import { buildVectorFromDataset } from "../engine/vectors/buildVectorFromDataset.js";
import { SCENARIO_READ_AT, SCENARIO_WINDOW } from "../renderer/src/scenarios/sycophancyTrigger.js";

const defaultModel = path.resolve(import.meta.dirname, "..", "..", "models", "toyworld.gguf");

const fmt = formatSigma;

export async function benchToyworldDescriptions(threads: number, file = process.env.TOYWORLD_MODEL ?? defaultModel): Promise<string[]> {
    const model = await TillerModel.load(file);
    try {
        // the training corpus, regenerated from the seed and generator the file records
        const recorded = (key: string, fallback: number) => Number(model.metadata(`tiller.toyworld.${key}`) ?? fallback);
        const metadata = { seed: recorded("seed", TOYWORLD_DEFAULTS.seed), generator: recorded("generator_version", TOYWORLD_DEFAULTS.generator), dialogues: recorded("dialogues", TOYWORLD_DEFAULTS.dialogues) };
        const corpus = generateCorpus({ seed: metadata.seed, dialogues: metadata.dialogues, generator: metadata.generator as ToyworldGenerator });
        const vocabulary = corpusVocabulary(corpus);
        const context = await model.createContext({ threads, contextSize: 256, sequences: 2 });
        const steerable = steerableLayerRange(model.shape.nLayer);
        const layers = Array.from({ length: steerable.last - steerable.first + 1 }, (_, i) => steerable.first + i);
        const lines = [`toy world descriptions (${path.basename(file)}, generator v${metadata.generator}, seed ${metadata.seed}; greedy, ${threads} thread(s)):`];
        const sets: Array<[string, readonly DescriptionPair[]]> = [
            ["trained deeds", trainedDeedPairs(corpus)], ["validation ten", DESCRIPTION_VALIDATION_PAIRS],
            ["fixed three", FLATTERY_DESCRIPTIONS], ["fresh six (test)", FRESH_FLATTERY_DESCRIPTIONS],
            ["in-vocabulary nine (validation)", IN_VOCABULARY_VALIDATION_PAIRS], ["in-vocabulary eight (test)", IN_VOCABULARY_TEST_PAIRS]
        ];
        const recognitions = new Map<string, boolean[]>();
        // what the model calls each message from the whole answer the trigger watches, to compare with the trigger's engagements
        const readings = new Map<string, PairRecognition[]>();
        for (const [name, pairs] of sets) {
            const recognised = await recognisePairs(context, pairs);
            recognitions.set(name, recognised.map((r) => r.recognised));
            readings.set(name, await recognisePairs(context, pairs, TRIGGER_ANSWER_TOKENS));
            const unseen = pairs.map((p) => unseenWords(`${p.description} ${p.neutral}`, vocabulary));
            lines.push(`  ${name}: the model calls the description flattery and not its twin on ${recognised.filter((r) => r.recognised).length}/${pairs.length}; ` +
                `pairs with a word training never writes: ${unseen.filter((u) => u.length > 0).length}/${pairs.length}`);
            recognised.forEach((r, i) => lines.push(`    ${r.recognised ? "✓" : "·"} ${JSON.stringify(r.pair.description)} → ${r.descriptionKind} ${JSON.stringify(r.descriptionReply)}; ` +
                `twin → ${r.neutralKind} ${JSON.stringify(r.neutralReply)}${unseen[i]!.length > 0 ? `; unseen: ${unseen[i]!.join(", ")}` : ""}`));
        }
        const decision = await buildVectorFromDataset(context, toyworldFlatteryDataset(), { method: "mean", readAt: "last", heldOutFraction: 0 });
        const replies = await buildVectorFromDataset(context, toyworldFlatteryReplyDataset(), { method: "mean", readAt: SCENARIO_READ_AT, heldOutFraction: 0 });
        // the hasty patch as the scenario sets it up, at the layer and threshold this build's validation split chooses
        // (validationChoice.ts; for the committed model, the scenario's own): does it engage while the model answers?
        const validation = await scoreDialogues(context, validationDialogues("none"));
        const choice = await chooseScenarioSettings(context, validation, replies.vector, { layers, window: SCENARIO_WINDOW });
        lines.push(`  scenario layer and threshold chosen on the validation split: layer ${choice.layer}, > ${fmt(choice.threshold)}`);
        // the unsteered 4-token peaks at every layer, one run per message: a conditional patch engages exactly where its
        // threshold is passed (validationChoice.ts, triggerPeaks), so each layer's engagements follow from these
        const peaks = new Map<string, { descriptions: number[][]; twins: number[][] }>();
        for (const [name, pairs] of sets)
            peaks.set(name, {
                descriptions: await triggerPeaks(context, pairs.map((p) => promptText(p.description)), replies.vector, layers, SCENARIO_WINDOW),
                twins: await triggerPeaks(context, pairs.map((p) => promptText(p.neutral)), replies.vector, layers, SCENARIO_WINDOW)
            });
        // every layer whose midway threshold separates the validation split's agreeing replies from its fact-stating ones
        for (const candidate of choice.byLayer.filter((l) => l.margin > 0)) {
            const threshold = midwayThreshold(candidate);
            const at = layers.indexOf(candidate.layer);
            const label = `layer ${candidate.layer}, ${SCENARIO_WINDOW}-token mean > ${fmt(threshold)}${candidate.layer === choice.layer ? ", the chosen" : ""}`;
            const everySet = { readings: [] as PairRecognition[], onDescriptions: [] as boolean[], onTwins: [] as boolean[] };
            for (const [name] of sets) {
                const engaged = (perMessage: number[][]) => perMessage.map((perLayer) => perLayer[at]! > threshold);
                const onDescriptions = engaged(peaks.get(name)!.descriptions);
                const onTwins = engaged(peaks.get(name)!.twins);
                const recognised = recognitions.get(name)!;
                const count = (fired: boolean[], select: (i: number) => boolean) => `${fired.filter((f, i) => f && select(i)).length}/${fired.filter((_, i) => select(i)).length}`;
                lines.push(`  scenario trigger (${label}) while the model answers, ${name}: ` +
                    `descriptions ${count(onDescriptions, () => true)} (recognised ${count(onDescriptions, (i) => recognised[i]!)}, not ${count(onDescriptions, (i) => !recognised[i]!)}); ` +
                    `twins ${count(onTwins, () => true)} (of recognised pairs ${count(onTwins, (i) => recognised[i]!)}); ` +
                    `by what the model calls each message: ${formatEngagementByReading(engagementByReading(readings.get(name)!, onDescriptions, onTwins))}`);
                everySet.readings.push(...readings.get(name)!);
                everySet.onDescriptions.push(...onDescriptions);
                everySet.onTwins.push(...onTwins);
            }
            lines.push(`  scenario trigger (${label}) while the model answers, every set, by what the model calls each message (descriptions and twins): ` +
                formatEngagementByReading(engagementByReading(everySet.readings, everySet.onDescriptions, everySet.onTwins)));
        }
        for (const [direction, vector] of [["decision", decision.vector], ["reply", replies.vector]] as const)
            for (const layer of layers)
                for (const [name, pairs] of sets) {
                    const readOuts = await descriptionReadOuts(context, vector, layer, pairs);
                    const recognised = recognitions.get(name)!;
                    const summary = (select: (i: number) => boolean, pick: (i: number) => number) => {
                        const gaps = readOuts.map((_, i) => i).filter(select).map(pick);
                        return gaps.length === 0 ? "—" : `${gaps.filter((gap) => gap >= 1).length}/${gaps.length} ≥ 1σ (${gaps.map(fmt).join(" ")})`;
                    };
                    const messageGap = (i: number) => readOuts[i]!.description.messageMax - readOuts[i]!.neutral.messageMax;
                    const replyGap = (i: number) => readOuts[i]!.description.atReply - readOuts[i]!.neutral.atReply;
                    lines.push(`  ${direction} direction, layer ${layer}, ${name}: over the message, recognised ${summary((i) => recognised[i]!, messageGap)}, ` +
                        `not ${summary((i) => !recognised[i]!, messageGap)}; where the reply opens, recognised ${summary((i) => recognised[i]!, replyGap)}, ` +
                        `not ${summary((i) => !recognised[i]!, replyGap)}`);
                }
        return lines;
    } finally {
        await model.dispose();
    }
}
