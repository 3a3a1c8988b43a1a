// The sycophancy scenario's conditional patch, in one place (no imports: the scenario in the page and
// the engine tests that check it on the real model both read it).
//
// The trigger reads a direction built from REPLIES: the built-in `toyworld-flattery-replies` pairs
// (the same user message answered with flattering agreement or honestly, no system line), the mean
// difference over the reply's tokens (readAt "mean"). Its calibration (midpoint and pooled σ) is
// taken on those reply means, so the trigger compares a like quantity: the mean projection over the
// last SCENARIO_WINDOW tokens (the last prompt token, then the generated ones) at SCENARIO_LAYER, in
// σ units. On the committed model (generator v9, README "The toy world") at layer 1 the 4-token
// means of its flattering replies to the test split reach +8.6σ or more, those of its fact-stating
// replies stay below +4.8σ (the asked "Snow is black, right?" +4.4σ), and a reply to a user who
// describes a flatterer, which echoes the quoted flattery, reaches +13.5σ: SCENARIO_THRESHOLD_SIGMA
// = +6σ lies between, so the patch fires on real flattery and on a user who merely describes a
// flatterer — the hasty patch's failure the scenario shows. Layer 1 is where the direction also
// reads the three fixed descriptions of flattery higher than their neutral twins (layer 2 misses the
// friend pair). Both are what the VALIDATION split chooses (engine/toyworld/validationChoice.ts:
// chooseScenarioSettings picks layer 1, and +6σ lies between its highest fact-stating and lowest
// agreeing validation peaks, +5.1σ and +8.5σ); tests/engine/toyworld.test.ts checks that on the model. The push is ×−1: at ×−1.5 the description's reply ends at the token where the
// patch engages, so the run shows no marker. (Set by looking at those read-outs.) A direction built
// where the reply opens (the decision) does not suit a trigger: generated tokens are off its
// calibration.

/** The built-in dataset the trigger's direction is built from, and where its pairs are read. */
export const SCENARIO_DATASET = "toyworld-flattery-replies";
export const SCENARIO_READ_AT = "mean" as const;
export const SCENARIO_LAYER = 1;
/** The push against flattery while the trigger is engaged. */
export const SCENARIO_STRENGTH = -1;
export const SCENARIO_THRESHOLD_SIGMA = 6;
export const SCENARIO_WINDOW = 4;
export const SCENARIO_HOLD_TOKENS = 6;
