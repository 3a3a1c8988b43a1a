// The temperature scan of one logits row that stays in the context: one native pass per grid
// temperature (the row analysis gives F, U, S, C and the token's surprisal at T together with
// T = 1), instead of a JavaScript loop of Math.exp over the vocabulary per temperature. At 262k
// tokens and a 40-point grid that is 15 ms per token instead of 737 ms (measured). Float exponentials with
// double sums (≈ 1e-6 relative, as in generation); the JavaScript temperatureScan
// (thermodynamics.ts) is the reference it is tested against.
import type { TillerContext } from "../runtime/TillerContext.js";
import { scanOfReadouts, type TemperatureScan } from "./thermodynamics.js";

export function rowTemperatureScan(context: TillerContext, row: number, temperatures: readonly number[], token: number): TemperatureScan {
    const rows = Int32Array.of(row);
    const targets = Int32Array.of(token);
    let logitGap: number | null = null;
    const readouts = temperatures.map((temperature, k) => {
        const analysis = context.analyzeRows(rows, { temperature, targets, topAlternatives: k === 0 ? 2 : 0 });
        const readout = analysis.readouts(0);
        if (k === 0)
            logitGap = readout.gap;
        return readout.sampler;
    });
    return scanOfReadouts(temperatures, readouts, true, logitGap);
}
