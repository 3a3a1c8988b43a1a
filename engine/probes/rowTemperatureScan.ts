// The temperature scan of one logits row that stays in the context: one native analysis with the
// whole grid (row_analysis.cc sums four temperatures per read of the row on AVX-512, two
// otherwise, and reuses the sums at T = 1), instead of a JavaScript loop of Math.exp over the vocabulary per temperature. Float
// exponentials with double sums (≈ 1e-6 relative, as in generation); the JavaScript temperatureScan
// (thermodynamics.ts) is the reference it is tested against.
import type { TillerContext } from "../runtime/TillerContext.js";
import { scanOfReadouts, type TemperatureScan } from "./thermodynamics.js";

export function rowTemperatureScan(context: TillerContext, row: number, temperatures: readonly number[], token: number): TemperatureScan {
    const analysis = context.analyzeRows(Int32Array.of(row), { temperature: 1, targets: Int32Array.of(token), topAlternatives: 2, temperatureGrid: temperatures });
    return scanOfReadouts(temperatures, analysis.gridReadouts(0), true, analysis.readouts(0).gap);
}
