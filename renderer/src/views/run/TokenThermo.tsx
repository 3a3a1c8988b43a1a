// The inspector's thermodynamic read-outs of the selected token (DESIGN.md §4; README
// "Susceptibility, linear response, temperature scans"): S, e^S, C, s, ζ, F, U at T = 1 from the
// run's own per-token read-outs, and on demand its heat-capacity curve C(T) (with S(T)) from the
// engine's temperature scan of the recorded run (`probes.thermo`), with PNG/CSV export.
import { useRef, useState } from "react";
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { TokenInfo } from "../../../../engine/protocol/EngineContract";
import type { ProbesThermoResult } from "../../../../engine/protocol/thermoRequests";
import { toCsv } from "../../lib/exportPlot";
import { getEngineClient } from "../../engineClient/getEngineClient";
import { reportError } from "../../state/notificationStore";
import { PlotExport } from "../probes/PlotExport";
import { axisTick, tooltipStyle } from "../chartTheme.js";

/** 40 temperatures from 0.05 to 5, evenly spaced in log T */
const temperatures = Array.from({ length: 40 }, (_, i) => 0.05 * Math.pow(100, i / 39));

function format(value: number | null | undefined, digits = 3): string {
    return value == null || !Number.isFinite(value) ? "—" : value.toFixed(digits);
}

export function TokenThermo(props: { token: TokenInfo; runId: string | null; runFinished: boolean }) {
    const { token, runId, runFinished } = props;
    const readout = token.readouts?.t1;
    const [scan, setScan] = useState<{ key: string; result: ProbesThermoResult } | null>(null);
    const [busy, setBusy] = useState(false);
    const plot = useRef<HTMLDivElement>(null);
    const key = `${runId ?? ""}#${token.index}`;
    const curve = scan?.key === key ? scan.result.tokens[0] : undefined;

    const load = async (): Promise<void> => {
        if (runId == null)
            return;
        setBusy(true);
        try {
            const result = await getEngineClient().request("probes.thermo", { runId, temperatures, index: token.index });
            setScan({ key, result });
        } catch (error) {
            reportError(error, "Could not scan the temperature");
        } finally {
            setBusy(false);
        }
    };
    const data = curve?.temperatures.map((temperature, k) => ({ temperature, heatCapacity: curve.heatCapacity[k], entropy: curve.entropy[k] })) ?? [];
    const csv = () => toCsv(["temperature", "entropy", "free_energy", "mean_energy", "heat_capacity", "surprisal"],
        (curve?.temperatures ?? []).map((temperature, k) => [temperature, curve!.entropy[k], curve!.freeEnergy[k], curve!.meanEnergy[k], curve!.heatCapacity[k], curve!.surprisal?.[k]]));

    return (
        <section className="inspector-section" data-testid="inspector-thermo">
            <h3>Read-outs at T = 1</h3>
            {readout == null
                ? <div className="muted small">This token carries no read-outs.</div>
                : (
                    <div className="stat-grid compact">
                        <div className="stat" title="entropy S = (U − F)/T"><span className="stat-label">S</span><span className="stat-value mono" data-testid="readout-entropy">{format(readout.entropy)} nats</span></div>
                        <div className="stat" title="effective number of choices e^S"><span className="stat-label">e^S</span><span className="stat-value mono">{format(readout.effectiveChoices, 2)}</span></div>
                        <div className="stat" title="heat capacity C = Var(E)/T²"><span className="stat-label">C</span><span className="stat-value mono" data-testid="readout-heat-capacity">{format(readout.heatCapacity)}</span></div>
                        <div className="stat" title="surprisal s = −log p(token)"><span className="stat-label">s</span><span className="stat-value mono">{format(readout.surprisal)}</span></div>
                        <div className="stat" title="standardised surprise ζ = (s − S)/√C"><span className="stat-label">ζ</span><span className="stat-value mono" data-testid="readout-zeta">{format(readout.zeta, 2)}</span></div>
                        <div className="stat" title="free energy relative to the top logit"><span className="stat-label">F</span><span className="stat-value mono">{format(readout.freeEnergy)}</span></div>
                        <div className="stat" title="mean energy relative to the top logit"><span className="stat-label">U</span><span className="stat-value mono">{format(readout.meanEnergy)}</span></div>
                        <div className="stat" title="top-1 − top-2 logit"><span className="stat-label">gap</span><span className="stat-value mono">{format(token.readouts?.gap)}</span></div>
                    </div>
                )}
            <div className="input-row small">
                <button type="button" className="button small" data-testid="thermo-scan" disabled={busy || runId == null || !runFinished} onClick={() => void load()}
                    title={runFinished ? "teacher-force the recorded run and scan this position over T = 0.05…5" : "available once the run has ended"}>
                    {busy ? "scanning…" : "C(T) curve"}
                </button>
                {curve != null && <span className="muted small" data-testid="thermo-peak">
                    {curve.heatCapacityPeak == null ? "C(T) peaks outside 0.05…5" : `C peaks at T = ${curve.heatCapacityPeak.temperature.toFixed(2)}`}
                </span>}
                {curve != null && <PlotExport target={plot} baseName={`heat-capacity-token-${token.index}`} csv={csv} testId="export-thermo" />}
            </div>
            {curve != null && (
                <div className="inspector-chart" ref={plot} data-testid="thermo-chart" data-values={JSON.stringify(curve.heatCapacity)}>
                    <ResponsiveContainer width="100%" height={170}>
                        <LineChart data={data} margin={{ top: 8, right: 12, bottom: 0, left: -16 }}>
                            <CartesianGrid stroke="var(--border)" strokeDasharray="3 4" vertical={false} />
                            <XAxis dataKey="temperature" type="number" scale="log" domain={["dataMin", "dataMax"]} tick={axisTick} tickLine={false}
                                axisLine={{ stroke: "var(--border)" }} tickFormatter={(v: number) => v.toPrecision(1)} />
                            <YAxis tick={axisTick} tickLine={false} axisLine={false} tickFormatter={(v: number) => v.toFixed(1)} />
                            <Tooltip contentStyle={tooltipStyle}
                                labelFormatter={(t) => `T = ${Number(t).toFixed(3)}`} formatter={(value, name) => [typeof value === "number" ? value.toFixed(4) : "—", String(name)]} />
                            <Legend wrapperStyle={{ fontSize: 11 }} />
                            <Line type="monotone" dataKey="heatCapacity" name="C(T)" stroke="var(--accent)" strokeWidth={2} dot={false} isAnimationActive={false} />
                            <Line type="monotone" dataKey="entropy" name="S(T)" stroke="var(--chart-2)" strokeWidth={1.5} dot={false} isAnimationActive={false} />
                        </LineChart>
                    </ResponsiveContainer>
                </div>
            )}
        </section>
    );
}
