// What the token strip can colour by besides the projection: the token's own read-outs at T = 1
// (entropy S, heat capacity C, standardised surprise ζ; see TokenThermo). Each has a fixed scale so
// runs compare at a glance: S and C in nats (0 … 3), ζ in spreads (−3 … +3).
import type { TokenInfo } from "../../../engine/protocol/EngineContract";

export type StripMetric = "projection" | "entropy" | "heatCapacity" | "zeta";

export const stripMetrics: { value: StripMetric; label: string; legend: string; scale: number }[] = [
    { value: "projection", label: "projection", legend: "cos", scale: 0 },
    { value: "entropy", label: "entropy S", legend: "S (nats)", scale: 3 },
    { value: "heatCapacity", label: "heat capacity C", legend: "C", scale: 3 },
    { value: "zeta", label: "surprise ζ", legend: "ζ = (s − S)/√C", scale: 3 }
];

/** The read-out a token is coloured by, or null (projection mode, or a token without read-outs). */
export function stripReadout(token: TokenInfo, metric: StripMetric): number | null {
    const readout = token.readouts?.t1;
    if (metric === "projection" || readout == null)
        return null;
    const value = metric === "entropy" ? readout.entropy : metric === "heatCapacity" ? readout.heatCapacity : readout.zeta;
    return value != null && Number.isFinite(value) ? value : null;
}
