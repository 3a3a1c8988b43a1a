// The figures of a hidden-patch benchmark: how well blind detection separates steered from clean
// text, and how well it recovers onset, intervals, vector and strength. Every rate counts the
// trials it could apply to (a missed detection is a miss, not left out).
import type { HiddenPatchTrial } from "./hiddenPatchTrials.js";

export interface HiddenPatchSummary {
    trials: number;
    /** patched trials whose patch acted on at least one token */
    steered: number;
    /** clean trials, plus triggered patches that never fired (their text is the clean model's) */
    clean: number;
    neverEngaged: number;
    errors: number;
    auroc: number;
    /** AUROC within greedy and within sampled trials (p-values of the two methods are not on one scale) */
    aurocGreedy: number;
    aurocSampled: number;
    /** steered trials whose text differs from the clean run with the same seed, and the TPR among them */
    textChanged: number;
    tprTextChanged: number;
    tprAt5: number;
    tprAt1: number;
    /** at the detector's own significance */
    tpr: number;
    observedFpr: number;
    onsetExact: number;
    onsetWithin2: number;
    intervalIou: number;
    /** in-library steered trials: the true vector ranked first */
    top1Vector: number;
    inLibrarySteered: number;
    /** of the trials with the right vector: α̂ within 20% of α */
    alphaWithin20: number;
    rightVector: number;
    /** detected out-of-library trials called "outside-library" */
    outsideLibraryCalled: number;
    outOfLibraryDetected: number;
    /** detected in-library trials called "library" */
    libraryCalled: number;
    inLibraryDetected: number;
    byCase: { name: string; trials: number; detected: number }[];
    medianDetectionMs: number;
    meanDetectionMs: number;
}

/** the ranking score: −log10 p, ties broken by the tests' statistics */
export function detectionScore(trial: HiddenPatchTrial): number {
    if (trial.report == null)
        return trial.error != null ? 100 : 0;
    return -Math.log10(Math.max(trial.report.pValue, 1e-12)) + 1e-3 * ((trial.report.libraryStatistic ?? 0) + trial.report.freeStatistic);
}

function auroc(positive: number[], negative: number[]): number {
    if (positive.length === 0 || negative.length === 0)
        return NaN;
    let wins = 0;
    for (const p of positive) {
        for (const n of negative)
            wins += p > n ? 1 : p === n ? 0.5 : 0;
    }
    return wins / (positive.length * negative.length);
}

function tprAtFpr(positive: number[], negative: number[], fpr: number): number {
    if (positive.length === 0 || negative.length === 0)
        return NaN;
    const sorted = [...negative].sort((a, b) => b - a);
    const allowed = Math.floor(fpr * sorted.length);
    const threshold = sorted[allowed] ?? -Infinity; // strictly above it: at most `allowed` clean trials
    return positive.filter((score) => score > threshold).length / positive.length;
}

function iou(a: Set<number>, b: Set<number>): number {
    let inter = 0;
    for (const x of a) {
        if (b.has(x))
            inter++;
    }
    const union = a.size + b.size - inter;
    return union === 0 ? 1 : inter / union;
}

const rate = (count: number, of: number) => (of === 0 ? NaN : count / of);

export function summarizeHiddenPatchTrials(trials: readonly HiddenPatchTrial[]): HiddenPatchSummary {
    const isSteered = (trial: HiddenPatchTrial) => trial.truth.kind !== "clean" && trial.truth.engaged.length > 0;
    const steered = trials.filter(isSteered);
    const clean = trials.filter((trial) => !isSteered(trial));
    const detected = (trial: HiddenPatchTrial) => trial.report?.steered === true;
    const greedy = (trial: HiddenPatchTrial) => trial.truth.sampling === "greedy";
    const onsetOf = (trial: HiddenPatchTrial) => trial.truth.engaged[0]!;
    const inLibrary = steered.filter((trial) => trial.truth.inLibrary);
    const rightVector = inLibrary.filter((trial) => trial.report?.best?.vectorId === trial.truth.vectorId && detected(trial));
    const outDetected = steered.filter((trial) => !trial.truth.inLibrary && detected(trial));
    const inDetected = inLibrary.filter(detected);
    const cases = new Map<string, HiddenPatchTrial[]>();
    for (const trial of trials) {
        const name = `${isSteered(trial) ? trial.truth.kind : "clean"} · ${trial.truth.sampling}${isSteered(trial) ? (trial.truth.inLibrary ? " · in library" : " · outside") + (trial.truth.textChanged ? "" : " · text unchanged") : ""}`;
        cases.set(name, [...(cases.get(name) ?? []), trial]);
    }
    const times = trials.filter((trial) => trial.report != null).map((trial) => trial.elapsedMs).sort((a, b) => a - b);
    return {
        trials: trials.length,
        steered: steered.length,
        clean: clean.length,
        neverEngaged: trials.filter((trial) => trial.truth.kind !== "clean" && trial.truth.engaged.length === 0).length,
        errors: trials.filter((trial) => trial.error != null).length,
        auroc: auroc(steered.map(detectionScore), clean.map(detectionScore)),
        aurocGreedy: auroc(steered.filter(greedy).map(detectionScore), clean.filter(greedy).map(detectionScore)),
        aurocSampled: auroc(steered.filter((trial) => !greedy(trial)).map(detectionScore), clean.filter((trial) => !greedy(trial)).map(detectionScore)),
        textChanged: steered.filter((trial) => trial.truth.textChanged).length,
        tprTextChanged: rate(steered.filter((trial) => trial.truth.textChanged && detected(trial)).length, steered.filter((trial) => trial.truth.textChanged).length),
        tprAt5: tprAtFpr(steered.map(detectionScore), clean.map(detectionScore), 0.05),
        tprAt1: tprAtFpr(steered.map(detectionScore), clean.map(detectionScore), 0.01),
        tpr: rate(steered.filter(detected).length, steered.length),
        observedFpr: rate(clean.filter(detected).length, clean.length),
        onsetExact: rate(steered.filter((trial) => detected(trial) && trial.report!.onsetToken === onsetOf(trial)).length, steered.length),
        onsetWithin2: rate(steered.filter((trial) => detected(trial) && trial.report!.onsetToken != null && Math.abs(trial.report!.onsetToken - onsetOf(trial)) <= 2).length, steered.length),
        intervalIou: steered.length === 0 ? NaN : steered.reduce((sum, trial) => {
            if (!detected(trial))
                return sum;
            const found = new Set<number>();
            for (const { from, until } of trial.report!.intervals) {
                for (let k = from; k < until; k++)
                    found.add(k);
            }
            return sum + iou(found, new Set(trial.truth.engaged));
        }, 0) / steered.length,
        top1Vector: rate(rightVector.length, inLibrary.length),
        inLibrarySteered: inLibrary.length,
        alphaWithin20: rate(rightVector.filter((trial) => Math.abs(trial.report!.best!.alpha - trial.truth.strength!) <= 0.2 * Math.abs(trial.truth.strength!)).length, rightVector.length),
        rightVector: rightVector.length,
        outsideLibraryCalled: outDetected.filter((trial) => trial.report!.verdict === "outside-library").length,
        outOfLibraryDetected: outDetected.length,
        libraryCalled: inDetected.filter((trial) => trial.report!.verdict === "library").length,
        inLibraryDetected: inDetected.length,
        byCase: [...cases.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, list]) => ({ name, trials: list.length, detected: list.filter(detected).length })),
        medianDetectionMs: times[Math.floor(times.length / 2)] ?? NaN,
        meanDetectionMs: times.length === 0 ? NaN : times.reduce((a, b) => a + b, 0) / times.length
    };
}

/** The summary as the lines the CLI and the bench print. */
export function formatHiddenPatchSummary(summary: HiddenPatchSummary): string[] {
    const pct = (value: number) => (Number.isNaN(value) ? "n/a" : `${(100 * value).toFixed(1)}%`);
    const fixed = (value: number) => (Number.isNaN(value) ? "n/a" : value.toFixed(3));
    return [
        `${summary.trials} trials: ${summary.steered} steered, ${summary.clean} clean (${summary.neverEngaged} of them triggered patches that never fired), ${summary.errors} refused`,
        `  AUROC steered vs clean        ${fixed(summary.auroc)} (greedy ${fixed(summary.aurocGreedy)}, T=0.7 ${fixed(summary.aurocSampled)})`,
        `  text changed by the patch     ${summary.textChanged} of ${summary.steered} steered; TPR among them ${pct(summary.tprTextChanged)}`,
        `  TPR at 5% / 1% FPR            ${pct(summary.tprAt5)} / ${pct(summary.tprAt1)}`,
        `  at the detector's p < 0.01    TPR ${pct(summary.tpr)}, observed FPR ${pct(summary.observedFpr)} (${summary.clean} clean)`,
        `  onset exact / within ±2       ${pct(summary.onsetExact)} / ${pct(summary.onsetWithin2)} (of ${summary.steered} steered)`,
        `  interval IoU (mean)           ${fixed(summary.intervalIou)}`,
        `  top-1 vector (in library)     ${pct(summary.top1Vector)} (of ${summary.inLibrarySteered})`,
        `  α̂ within 20% (right vector)   ${pct(summary.alphaWithin20)} (of ${summary.rightVector})`,
        `  outside library called        ${summary.outsideLibraryCalled}/${summary.outOfLibraryDetected} detected out-of-library; library called ${summary.libraryCalled}/${summary.inLibraryDetected} detected in-library`,
        ...summary.byCase.map((entry) => `    ${entry.name.padEnd(44)} ${String(entry.detected).padStart(3)}/${String(entry.trials).padEnd(3)} flagged`),
        `  detection wall time           median ${(summary.medianDetectionMs / 1000).toFixed(2)} s, mean ${(summary.meanDetectionMs / 1000).toFixed(2)} s`
    ];
}
