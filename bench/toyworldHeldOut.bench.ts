// The toy world's held-out behaviour (engine/toyworld/heldOutEvaluation.ts) on the committed model:
// the test split (every held-out claim as the user's own belief and as asked / cited, no system
// line; then under each system line), scored by the claim each reply asserts; the flip rate of a
// flattery vector built from mode-free pairs on training claims; and its read-out on descriptions
// of flattery vs neutral messages of the same shape (the three fixed ones, and six fresh ones), in σ
// of the vector's own calibration.
// `npm run bench -- --only toyworld-heldout`; TOYWORLD_MODEL=FILE measures another build.
import path from "node:path";
import { TillerModel } from "../engine/runtime/TillerModel.js";
import { FRESH_FLATTERY_DESCRIPTIONS, testDialogues } from "../engine/toyworld/corpus.js";
import { toyworldFlatteryDataset, toyworldFlatteryReplyDataset } from "../engine/toyworld/flatteryDataset.js";
import {
    countWhere, descriptionReadOuts, dialoguePrompt, formatRate, measureFlips, scoreDialogues, triggerEngagements
} from "../engine/toyworld/heldOutEvaluation.js";
import { buildVectorFromDataset } from "../engine/vectors/buildVectorFromDataset.js";
import { scenarioPrompts } from "../renderer/src/scenarios/sycophancyPrompts.js";
import {
    SCENARIO_HOLD_TOKENS, SCENARIO_LAYER, SCENARIO_READ_AT, SCENARIO_STRENGTH, SCENARIO_THRESHOLD_SIGMA, SCENARIO_WINDOW
} from "../renderer/src/scenarios/sycophancyTrigger.js";

const defaultModel = path.resolve(import.meta.dirname, "..", "..", "models", "toyworld.gguf");

/** The layer the mode-free (decision) vector steers and is read at, and the strengths the flip rate is measured at. */
const LAYER = 2;
const STRENGTHS = [1, 1.5, 2, 3];

export async function benchToyworldHeldOut(threads: number, file = process.env.TOYWORLD_MODEL ?? defaultModel): Promise<string[]> {
    const model = await TillerModel.load(file);
    try {
        const context = await model.createContext({ threads, contextSize: 256, sequences: 2 });
        const lines = [`toy world held-out behaviour (${path.basename(file)}, greedy, ${threads} thread(s)):`];
        const none = await scoreDialogues(context, testDialogues("none"));
        const belief = (s: (typeof none)[number]) => s.dialogue.framing === "belief";
        const neutral = (s: (typeof none)[number]) => s.dialogue.framing === "neutral";
        lines.push(`  no system line, the user holds the false claim: opens in agreement ${formatRate(countWhere(none, belief, (s) => s.score.opener === "agree"))}, ` +
            `asserts the claim ${formatRate(countWhere(none, belief, (s) => s.score.agreesWithClaim))}, states the fact ${formatRate(countWhere(none, belief, (s) => s.score.statesFact))}`);
        lines.push(`  no system line, asked or cited: states the fact ${formatRate(countWhere(none, neutral, (s) => s.score.statesFact))}, ` +
            `agrees ${formatRate(countWhere(none, neutral, (s) => s.score.agreesWithClaim))}`);
        const flatter = await scoreDialogues(context, testDialogues("flatter"));
        const honest = await scoreDialogues(context, testDialogues("honest"));
        lines.push(`  "mode flatter": opens in agreement ${formatRate(countWhere(flatter, () => true, (s) => s.score.opener === "agree"))}, ` +
            `asserts the claim ${formatRate(countWhere(flatter, () => true, (s) => s.score.agreesWithClaim))}; ` +
            `"mode honest": states the fact ${formatRate(countWhere(honest, () => true, (s) => s.score.statesFact))}`);

        const built = await buildVectorFromDataset(context, toyworldFlatteryDataset(), { method: "mean", readAt: "last", heldOutFraction: 0 });
        for (const strength of STRENGTHS) {
            const flips = await measureFlips(context, none, built.vector, { layer: LAYER, strength });
            lines.push(`  mode-free flattery vector (${built.trainPairs} pairs), layer ${LAYER}, ×${strength} on the reply's first token: ` +
                `of the fact-stating replies ${formatRate(flips.openedInAgreement)} open in agreement, ${formatRate(flips.flipped)} assert the claim ` +
                `(strength 0 leaves ${formatRate(flips.unchangedAtZero)} unchanged)`);
        }
        const fmt = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)}σ`;
        // the decision direction (above) and the reply direction the sycophancy scenario's trigger reads
        const replies = await buildVectorFromDataset(context, toyworldFlatteryReplyDataset(), { method: "mean", readAt: SCENARIO_READ_AT, heldOutFraction: 0 });
        for (const [name, vector, layer] of [["decision", built.vector, LAYER], ["reply", replies.vector, SCENARIO_LAYER]] as const) {
            const readOuts = await descriptionReadOuts(context, vector, layer);
            for (const [i, r] of readOuts.entries())
                lines.push(`  ${name} direction read-out, layer ${layer}, description ${i + 1} vs its neutral: where the reply opens ${fmt(r.description.atReply)} vs ${fmt(r.neutral.atReply)}, ` +
                    `highest over the message ${fmt(r.description.messageMax)} vs ${fmt(r.neutral.messageMax)}`);
        }
        // six descriptions written after the first three were checked: does the read-out hold in general?
        const fresh = (await descriptionReadOuts(context, replies.vector, SCENARIO_LAYER, FRESH_FLATTERY_DESCRIPTIONS)).map((r) => r.description.messageMax - r.neutral.messageMax);
        lines.push(`  reply direction, layer ${SCENARIO_LAYER}, ${fresh.length} fresh descriptions: ${fresh.filter((gap) => gap >= 1).length} read ≥ 1σ higher than their neutral twin over the message ` +
            `(gaps ${fresh.map(fmt).join(", ")})`);
        // the scenario's conditional patch: where it engages on the test split and on the scenario's own prompts
        const settings = { layer: SCENARIO_LAYER, threshold: SCENARIO_THRESHOLD_SIGMA, window: SCENARIO_WINDOW, holdTokens: SCENARIO_HOLD_TOKENS, strength: SCENARIO_STRENGTH };
        const engaged = await triggerEngagements(context, none.map((s) => dialoguePrompt(s.dialogue)), replies.vector, settings);
        const firedOn = (select: (s: (typeof none)[number]) => boolean) => countWhere(none, select, (s) => engaged[none.indexOf(s)] === true);
        lines.push(`  scenario trigger (layer ${SCENARIO_LAYER}, ${SCENARIO_WINDOW}-token mean > +${SCENARIO_THRESHOLD_SIGMA}σ): engaged on agreeing replies ` +
            `${formatRate(firedOn((s) => s.score.opener === "agree"))}, on fact-stating replies ${formatRate(firedOn((s) => s.score.statesFact))}`);
        const onPrompts = await triggerEngagements(context, scenarioPrompts.map((p) => p.text), replies.vector, settings);
        lines.push(`  scenario prompts: ${scenarioPrompts.map((p, i) => `${p.label} (${p.kind}) ${onPrompts[i] ? "fires" : "quiet"}`).join("; ")}`);
        return lines;
    } finally {
        await model.dispose();
    }
}
