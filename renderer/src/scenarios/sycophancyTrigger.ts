// The sycophancy scenario's conditional patch, in one place (no imports: the scenario in the page and
// the engine tests that check it on the real model both read it).
//
// The trigger reads a direction built from REPLIES: the built-in `toyworld-flattery-replies` pairs
// (the same user message answered with flattering agreement or honestly, no system line), the mean
// difference over the reply's tokens (readAt "mean"). Its calibration (midpoint and pooled σ) is
// taken on those reply means, so the trigger compares a like quantity: the mean projection over the
// last SCENARIO_WINDOW tokens (the last prompt token, then the generated ones) at SCENARIO_LAYER, in
// σ units. On the committed model (generator v16 with weight decay 0.1, seed 7; README "The toy
// world") the VALIDATION split chooses layer 2 (engine/toyworld/validationChoice.ts:
// chooseScenarioSettings): there a threshold separates its agreeing replies (lowest 4-token peak
// +4.7σ) from its fact-stating ones (highest +3.4σ), and, midway, the trigger engages while the
// model answers 7 of the 9 validation descriptions of flattery in the world's own words and none of
// their neutral twins (layers 1 and 3, which separate too: 6 and 0 each). SCENARIO_THRESHOLD_SIGMA =
// +4.0σ is that midway point, rounded. The model answers a described flattering deed by quoting the
// world's flattery ("That sounds like flattery. "You're so right! …" to please you is not honest."),
// so the patch fires on real flattery and on a user who merely describes a flatterer the model
// reads as one — the hasty patch's failure the scenario shows — and never on a message the model
// calls fine (tests/engine/toyworld.test.ts checks the choice and the firing on the model). The
// push is ×−1: at ×−1.5 the description's reply can end at the token where the patch engages, so
// the run shows no marker. A direction built where the reply opens (the decision) does not suit a
// trigger: generated tokens are off its calibration.

/** The built-in dataset the trigger's direction is built from, and where its pairs are read. */
export const SCENARIO_DATASET = "toyworld-flattery-replies";
export const SCENARIO_READ_AT = "mean" as const;
export const SCENARIO_LAYER = 2;
/** The push against flattery while the trigger is engaged. */
export const SCENARIO_STRENGTH = -1;
export const SCENARIO_THRESHOLD_SIGMA = 4.0;
export const SCENARIO_WINDOW = 4;
export const SCENARIO_HOLD_TOKENS = 6;
