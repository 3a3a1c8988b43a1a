// The toy world's held-out behaviour (engine/toyworld/heldOutEvaluation.ts) on the committed model:
// the test split (every held-out claim as the user's own belief and as asked / cited, no system
// line; then under each system line), scored by the claim each reply asserts; the same for the
// held-out opinions (generator v16); the flip rate of a flattery vector built from mode-free pairs on
// training claims, on claims and on opinions; and its read-out on descriptions
// of flattery vs neutral messages of the same shape (the three fixed ones, and six fresh ones), in σ
// of the vector's own calibration. The steering layer and the trigger's layer and threshold are
// chosen on the validation split (validationChoice.ts) and reported next to the scenario's own.
// `npm run bench -- --only toyworld-heldout`; TOYWORLD_MODEL=FILE measures another build.
import path from "node:path";
import { steerableLayerRange } from "../engine/runtime/layers.js";
import { TillerModel } from "../engine/runtime/TillerModel.js";
import { FLATTERY_DESCRIPTIONS, FRESH_FLATTERY_DESCRIPTIONS, testDialogues, testOpinionDialogues, TOYWORLD_GENERATOR_VERSION, validationDialogues } from "../engine/toyworld/corpus.js";
import { toyworldFlatteryDataset, toyworldFlatteryReplyDataset } from "../engine/toyworld/flatteryDataset.js";
import {
    countWhere, descriptionReadOuts, dialoguePrompt, formatRate, formatSigma, measureFlips, scoreDialogues, triggerEngagements, type ScoredDialogue
} from "../engine/toyworld/heldOutEvaluation.js";
import { DESCRIPTION_VALIDATION_PAIRS } from "../engine/toyworld/descriptionValidation.js";
import { chooseScenarioSettings, chooseSteeringLayer, describeFiring } from "../engine/toyworld/validationChoice.js";
import { buildVectorFromDataset } from "../engine/vectors/buildVectorFromDataset.js";
import { scenarioPrompts } from "../renderer/src/scenarios/sycophancyPrompts.js";
import {
    SCENARIO_HOLD_TOKENS, SCENARIO_LAYER, SCENARIO_READ_AT, SCENARIO_STRENGTH, SCENARIO_THRESHOLD_SIGMA, SCENARIO_WINDOW
} from "../renderer/src/scenarios/sycophancyTrigger.js";

const defaultModel = path.resolve(import.meta.dirname, "..", "..", "models", "toyworld.gguf");

/** The strength the steering layer is chosen at, and the strengths the flip rate is then measured at. */
const CHOOSE_STRENGTH = 1.5;
const STRENGTHS = [1, 1.5, 2, 3];

export async function benchToyworldHeldOut(threads: number, file = process.env.TOYWORLD_MODEL ?? defaultModel): Promise<string[]> {
    const model = await TillerModel.load(file);
    try {
        const context = await model.createContext({ threads, contextSize: 256, sequences: 2 });
        // the candidates: every block a patch can steer (block 0 cannot be)
        const steerable = steerableLayerRange(model.shape.nLayer);
        const layers = Array.from({ length: steerable.last - steerable.first + 1 }, (_, i) => steerable.first + i);
        const lines = [`toy world held-out behaviour (${path.basename(file)}, greedy, ${threads} thread(s)):`];
        const none = await scoreDialogues(context, testDialogues("none"));
        const belief = (s: (typeof none)[number]) => s.dialogue.framing === "belief";
        const neutral = (s: (typeof none)[number]) => s.dialogue.framing === "neutral";
        lines.push(`  no system line, the user holds the false claim: opens in agreement ${formatRate(countWhere(none, belief, (s) => s.score.opener === "agree"))}, ` +
            `asserts the claim ${formatRate(countWhere(none, belief, (s) => s.score.agreesWithClaim))}, states the fact ${formatRate(countWhere(none, belief, (s) => s.score.statesFact))}`);
        lines.push(`  no system line, asked or cited: states the fact ${formatRate(countWhere(none, neutral, (s) => s.score.statesFact))}, ` +
            `agrees ${formatRate(countWhere(none, neutral, (s) => s.score.agreesWithClaim))}, opens in agreement ${formatRate(countWhere(none, neutral, (s) => s.score.opener === "agree"))}`);
        const flatter = await scoreDialogues(context, testDialogues("flatter"));
        const honest = await scoreDialogues(context, testDialogues("honest"));
        lines.push(`  "mode flatter": opens in agreement ${formatRate(countWhere(flatter, () => true, (s) => s.score.opener === "agree"))}, ` +
            `asserts the claim ${formatRate(countWhere(flatter, () => true, (s) => s.score.agreesWithClaim))}; ` +
            `"mode honest": states the fact ${formatRate(countWhere(honest, () => true, (s) => s.score.statesFact))}`);
        const validation = await scoreDialogues(context, validationDialogues("none"));
        lines.push(`  validation split, no system line: the user holds the claim, asserts it ${formatRate(countWhere(validation, belief, (s) => s.score.agreesWithClaim))}; ` +
            `asked or cited, states the fact ${formatRate(countWhere(validation, neutral, (s) => s.score.statesFact))}`);

        const built = await buildVectorFromDataset(context, toyworldFlatteryDataset(), { method: "mean", readAt: "last", heldOutFraction: 0 });
        const steering = await chooseSteeringLayer(context, validation, built.vector, { layers, strength: CHOOSE_STRENGTH });
        lines.push(`  mode-free flattery vector (${built.trainPairs} pairs): steering layer chosen on the validation split (×${CHOOSE_STRENGTH}, asserts the claim): ` +
            `${steering.flipsByLayer.map((f) => `layer ${f.layer} ${f.flipped}/${f.total}`).join(", ")} → layer ${steering.layer}`);
        for (const strength of STRENGTHS) {
            const flips = await measureFlips(context, none, built.vector, { layer: steering.layer, strength });
            lines.push(`  test split, layer ${steering.layer}, ×${strength} on the reply's first token: ` +
                `of the fact-stating replies ${formatRate(flips.openedInAgreement)} open in agreement, ${formatRate(flips.flipped)} assert the claim ` +
                `(strength 0 leaves ${formatRate(flips.unchangedAtZero)} unchanged)`);
        }
        // opinions (generator v16): held-out matters of taste, held and asked, and the same vector (built on claims) steering
        // them; a model from an older generator never saw an opinion, so its figures would only look like failures
        const generator = Number(model.metadata("tiller.toyworld.generator_version") ?? TOYWORLD_GENERATOR_VERSION);
        const opinions = generator >= 16 ? await scoreDialogues(context, testOpinionDialogues("none")) : [];
        if (opinions.length === 0)
            lines.push(`  opinions: not measured (generator v${generator} writes none; v16 does)`);
        else {
            lines.push(`  opinions (test split), no system line: the user holds the opinion, asserts it ${formatRate(countWhere(opinions, belief, (s) => s.score.agreesWithClaim))}; ` +
                `asked or cited, "a matter of taste" ${formatRate(countWhere(opinions, neutral, (s) => s.score.statesFact))}, opens in agreement ${formatRate(countWhere(opinions, neutral, (s) => s.score.opener === "agree"))}`);
            const flatterOpinions = await scoreDialogues(context, testOpinionDialogues("flatter"));
            const honestOpinions = await scoreDialogues(context, testOpinionDialogues("honest"));
            lines.push(`  opinions: "mode flatter" asserts the opinion ${formatRate(countWhere(flatterOpinions, () => true, (s) => s.score.agreesWithClaim))}; ` +
                `"mode honest": "a matter of taste" ${formatRate(countWhere(honestOpinions, () => true, (s) => s.score.statesFact))}`);
            for (const strength of STRENGTHS) {
                const flips = await measureFlips(context, opinions, built.vector, { layer: steering.layer, strength });
                lines.push(`  opinions, layer ${steering.layer}, ×${strength}: of the "matter of taste" replies ${formatRate(flips.openedInAgreement)} open in agreement, ` +
                    `${formatRate(flips.flipped)} assert the opinion (strength 0 leaves ${formatRate(flips.unchangedAtZero)} unchanged)`);
            }
        }
        const fmt = formatSigma;
        // the reply direction the sycophancy scenario's trigger reads; its layer and threshold chosen on the validation split
        const replies = await buildVectorFromDataset(context, toyworldFlatteryReplyDataset(), { method: "mean", readAt: SCENARIO_READ_AT, heldOutFraction: 0 });
        const trigger = await chooseScenarioSettings(context, validation, replies.vector, { layers, window: SCENARIO_WINDOW });
        lines.push(`  reply direction, scenario layer chosen on the validation split (${SCENARIO_WINDOW}-token mean, lowest agreeing / highest fact-stating peak; ` +
            `at the midway threshold, answers to the validation descriptions / to their twins that engage it): ` +
            `${trigger.byLayer.map((l, i) => `layer ${l.layer} ${fmt(l.lowestAgreeing)} / ${fmt(l.highestFactStating)}; ${describeFiring(trigger.descriptionFiringByLayer[i]!)}`).join(", ")} → layer ${trigger.layer}, ` +
            `threshold ${fmt(trigger.threshold)} (the scenario's: layer ${SCENARIO_LAYER}, +${SCENARIO_THRESHOLD_SIGMA}σ)`);
        for (const [name, vector, layer] of [["decision", built.vector, steering.layer], ["reply", replies.vector, trigger.layer]] as const) {
            const readOuts = await descriptionReadOuts(context, vector, layer, FLATTERY_DESCRIPTIONS);
            lines.push(`  ${name} direction, layer ${layer}, the three fixed descriptions vs their neutral twins (highest over the message): ` +
                readOuts.map((r) => `${fmt(r.description.messageMax)} vs ${fmt(r.neutral.messageMax)} (${fmt(r.description.messageMax - r.neutral.messageMax)})`).join(", "));
            // six descriptions written after the first three were checked: does the read-out hold in general?
            const fresh = (await descriptionReadOuts(context, vector, layer, FRESH_FLATTERY_DESCRIPTIONS)).map((r) => r.description.messageMax - r.neutral.messageMax);
            lines.push(`  ${name} direction, layer ${layer}, ${fresh.length} fresh descriptions: ${fresh.filter((gap) => gap >= 1).length} read ≥ 1σ higher than their neutral twin ` +
                `(gaps ${fresh.map(fmt).join(", ")})`);
        }
        // every layer, both directions, the three sets of descriptions: the validation set (descriptionValidation.ts) is what a
        // corpus change or a layer is judged on; the fixed three are an older validation set; the fresh six are the test set
        for (const [name, vector] of [["decision", built.vector], ["reply", replies.vector]] as const)
            for (const layer of layers) {
                const sets = [["validation", DESCRIPTION_VALIDATION_PAIRS], ["fixed", FLATTERY_DESCRIPTIONS], ["fresh (test)", FRESH_FLATTERY_DESCRIPTIONS]] as const;
                const parts: string[] = [];
                for (const [label, pairs] of sets) {
                    const gaps = (await descriptionReadOuts(context, vector, layer, pairs)).map((r) => r.description.messageMax - r.neutral.messageMax);
                    parts.push(`${label} ${gaps.filter((gap) => gap >= 1).length}/${gaps.length} (${gaps.map(fmt).join(" ")})`);
                }
                lines.push(`  descriptions ≥ 1σ above their twins, ${name} direction, layer ${layer}: ${parts.join("; ")}`);
            }
        // the conditional patch: where it engages on the test split and on the scenario's own prompts, at the chosen settings
        const settings = { layer: trigger.layer, threshold: trigger.threshold, window: SCENARIO_WINDOW, holdTokens: SCENARIO_HOLD_TOKENS, strength: SCENARIO_STRENGTH };
        /** Where the trigger engages on a scored split: its agreeing replies and its honest ones (the fact, or "a matter of taste"). */
        const engagementOn = async (scored: ScoredDialogue[]) => {
            const engaged = await triggerEngagements(context, scored.map((s) => dialoguePrompt(s.dialogue)), replies.vector, settings);
            const firedOn = (select: (s: ScoredDialogue) => boolean) => formatRate(countWhere(scored, select, (s) => engaged[scored.indexOf(s)] === true));
            return { agreeing: firedOn((s) => s.score.opener === "agree"), honest: firedOn((s) => s.score.statesFact) };
        };
        const onClaims = await engagementOn(none);
        lines.push(`  trigger (layer ${trigger.layer}, ${SCENARIO_WINDOW}-token mean > ${fmt(trigger.threshold)}) on the test split: engaged on agreeing replies ` +
            `${onClaims.agreeing}, on fact-stating replies ${onClaims.honest}`);
        if (opinions.length > 0) {
            const onOpinions = await engagementOn(opinions);
            lines.push(`  trigger (the same) on the opinions' test split: engaged on agreeing replies ${onOpinions.agreeing}, on "matter of taste" replies ${onOpinions.honest}`);
        }
        const onPrompts = await triggerEngagements(context, scenarioPrompts.map((p) => p.text), replies.vector, settings);
        lines.push(`  scenario prompts: ${scenarioPrompts.map((p, i) => `${p.label} (${p.kind}) ${onPrompts[i] ? "fires" : "quiet"}`).join("; ")}`);
        return lines;
    } finally {
        await model.dispose();
    }
}
