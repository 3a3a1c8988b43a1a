// The sycophancy scenario's conditional patch, in one place (no imports: the scenario in the page and
// the engine tests that check it on the real model both read it).
//
// The trigger reads a direction built from REPLIES: the built-in `toyworld-flattery-replies` pairs
// (the same user message answered with flattering agreement or honestly, no system line), the mean
// difference over the reply's tokens (readAt "mean"). Its calibration (midpoint and pooled σ) is
// taken on those reply means, so the trigger compares a like quantity: the mean projection over the
// last SCENARIO_WINDOW tokens (the last prompt token, then the generated ones) at SCENARIO_LAYER, in
// σ units. The class means sit at about ±7.5σ; SCENARIO_THRESHOLD_SIGMA = +2σ is where the
// committed model's replies separate: the 4-token means of its honest replies to the 96 test
// chats without "mode flatter" stay below +0.4σ, its flattering replies reach +13σ or more, and a
// reply that talks about flattery ("Your friend may be flattering you. Flattery is praise that is
// not honest.") reaches ≈ +4.6σ — so the patch fires on a user who merely describes a flatterer,
// which is the hasty patch's failure the scenario shows. (Set by looking at those read-outs,
// README "The toy world".) A direction built where the reply opens (the decision) does not suit a
// trigger: generated tokens are off its calibration (an honest reply's tokens read up to +3.5σ on
// it, so a 0σ trigger fired on neutral claims).

/** The built-in dataset the trigger's direction is built from, and where its pairs are read. */
export const SCENARIO_DATASET = "toyworld-flattery-replies";
export const SCENARIO_READ_AT = "mean" as const;
export const SCENARIO_LAYER = 2;
/** The push against flattery while the trigger is engaged. */
export const SCENARIO_STRENGTH = -1.5;
export const SCENARIO_THRESHOLD_SIGMA = 2;
export const SCENARIO_WINDOW = 4;
export const SCENARIO_HOLD_TOKENS = 6;
