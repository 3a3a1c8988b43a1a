// The CSV tables behind the forensics plots.
import { toCsv } from "../../../lib/exportPlot";
import type { LocateResult } from "../../../state/forensicsStore";

/** the prefix scan: L_k for each scanned prefix of k prompt tokens */
export function prefixScanCsv(result: LocateResult): string {
    return toCsv(["k", "last_token", "logprob_probe"],
        result.scan.map((entry) => [entry.k, entry.k > 0 ? result.units[entry.k - 1]?.text ?? "" : "", entry.logprob]));
}

/** one row per prompt token, with its rank and evidence */
export function candidatesCsv(result: LocateResult): string {
    const rankOf = new Map(result.ranking.map((index, rank) => [index, rank + 1]));
    return toCsv(["index", "text", "start", "rank", "step", "step_z", "drop", "drop_z", "score"],
        result.units.map((unit) => [unit.index, unit.text, unit.start, rankOf.get(unit.index) ?? null, unit.step, unit.stepZ, unit.drop, unit.dropZ, unit.score]));
}
