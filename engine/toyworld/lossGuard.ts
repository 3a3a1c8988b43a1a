// The regression guard: a run whose loss has not fallen after its first few hundred steps is broken
// (on an earlier llama.cpp, gradients summed across steps and the model collapsed), and finishing it
// would only waste minutes and ship a useless model.
import { TillerError } from "../protocol/TillerError.js";

export interface LossGuard {
    /** steps after which the check runs */
    afterSteps: number;
    /** the mean of the recent training losses must be below initial × (1 − minRelativeDrop) */
    minRelativeDrop: number;
}

/** Throws TRAINING_STALLED when the recent losses are not low enough. */
export function checkLossFell(guard: LossGuard, initialLoss: number, recentLosses: readonly number[]): void {
    const recent = recentLosses.reduce((a, b) => a + b, 0) / Math.max(1, recentLosses.length);
    const bound = initialLoss * (1 - guard.minRelativeDrop);
    if (!(recent < bound))
        throw new TillerError("TRAINING_STALLED",
            `the training loss did not fall: after ${guard.afterSteps} steps it is ${recent.toFixed(3)}, ` +
            `not below ${bound.toFixed(3)} (${Math.round(guard.minRelativeDrop * 100)}% under the initial ${initialLoss.toFixed(3)}); ` +
            "training stopped. A llama.cpp whose optimizer no longer clears gradients between steps does this.");
}
