// A blind detection's result as a few lines of text (the CLI's default output).
import type { ForensicsDetectResult } from "../protocol/forensics.js";

/** a test's p-value: 0 there is an extrapolated tail that underflowed, not a proof */
function formatTestP(p: number): string {
    return p === 0 ? "< 1e-300 (extrapolated)" : formatP(p);
}

function formatP(p: number): string {
    return p === 0 ? "0 (impossible under the clean model)" : p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

export function formatForensicsReport(result: Omit<ForensicsDetectResult, "detectionId">): string {
    const lines: string[] = [];
    const sampler = result.sampling.temperature === 0 ? "greedy" : `T=${result.sampling.temperature}, top-k ${result.sampling.topK}, top-p ${result.sampling.topP}, min-p ${result.sampling.minP}`;
    if (!result.steered)
        lines.push(`not steered: p = ${formatP(result.pValue)} ≥ ${result.significance} — the clean model (${sampler}) explains the text`);
    else
        lines.push(`steered: p = ${formatP(result.pValue)} < ${result.significance} that the clean model (${sampler}) wrote this`);
    const greedy = result.tests.greedyInconsistent;
    if (greedy != null && greedy.length > 0)
        lines.push(`  greedy: token${greedy.length > 1 ? "s" : ""} ${greedy.slice(0, 12).join(", ")}${greedy.length > 12 ? ", …" : ""} ${greedy.length > 1 ? "are" : "is"} not the clean model's most likely`);
    if (result.tests.library != null)
        lines.push(`  library test: statistic ${result.tests.library.statistic.toFixed(2)} nats, p = ${formatTestP(result.tests.library.pValue)}`);
    if (result.tests.score != null)
        lines.push(`  score test: statistic ${result.tests.score.statistic.toFixed(2)}, p = ${formatTestP(result.tests.score.pValue)}`);
    lines.push(`  surprise test: statistic ${result.tests.free.statistic.toFixed(2)}, p = ${formatTestP(result.tests.free.pValue)}`);
    if (result.steered) {
        if (result.onsetRange != null && result.onsetRange[0] !== result.onsetRange[1])
            lines.push(`onset: generated token ${result.onsetToken} (somewhere in ${result.onsetRange[0]}–${result.onsetRange[1]}: greedy text only shows where it first changed a token)`);
        else
            lines.push(`onset: generated token ${result.onsetToken}`);
        lines.push(`engaged: ${result.intervals.map((interval) => `${interval.from}–${interval.until - 1}`).join(", ")}${result.conditional ? " (conditional: switches off)" : ""}`);
        if (result.verdict === "outside-library")
            lines.push("steered along a direction that is not in the library" + (result.best != null ? ` (nearest: ${result.best.name} ×${result.best.alpha.toFixed(2)}, which does not explain the text)` : ""));
    }
    if (result.best != null && (result.verdict === "library" || !result.steered)) {
        const best = result.best;
        lines.push(`${result.steered ? "best" : "closest"} library hypothesis: ${best.name} ×${best.alpha.toFixed(3)} on blocks ${best.layers.first}-${best.layers.last} ` +
            `(‖v‖ ${best.norm.toFixed(3)}), log LR ${best.logLrVsClean.toFixed(2)} vs clean` +
            (best.runnerUp != null && best.logLrVsRunnerUp != null ? `, ${best.logLrVsRunnerUp.toFixed(2)} vs the runner-up ${best.runnerUp}` : ""));
    }
    lines.push(`evidence per token (llr, nats): ${result.tokens.map((token) => token.llr.toFixed(1)).join(" ")}`);
    for (const warning of result.warnings)
        lines.push(`warning: ${warning}`);
    lines.push(`${result.hypotheses} hypotheses, ${result.decodes} decodes, ${result.nullDraws} null draws per token, ${(result.elapsedMs / 1000).toFixed(1)} s`);
    return lines.join("\n");
}
