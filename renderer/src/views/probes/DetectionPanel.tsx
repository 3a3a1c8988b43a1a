// Detection: was a run steered, where and with what? Black box: KL(p_obs ‖ p_ref) per token (bars)
// and Δ log-prob of the emitted token (line, right axis). White box: the onset token, the first
// patched layer, the best-matching library vector with its cosine, and the strength α̂.
import { useRef } from "react";
import { Bar, CartesianGrid, ComposedChart, Legend, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Panel, Spinner, Stat } from "../../components/ui";
import { visiblePiece } from "../../lib/format";
import { selectLastRunId, runDetection, useProbeStore, type DetectionResult } from "../../state/probeStore";
import { useRunStore } from "../../state/runStore";
import { PlotExport } from "./PlotExport";
import { detectionCsv } from "./probeCsv";
import { axisTick, tooltipStyle } from "../chartTheme.js";


export function DetectionPanel() {
    const source = useProbeStore((s) => s.detectSource);
    const setSource = useProbeStore((s) => s.setDetectSource);
    const detection = useProbeStore((s) => s.detection);
    const progress = useProbeStore((s) => s.progress);
    // re-render when the Run view's run changes, so "last run" is current
    const runId = useRunStore(selectLastRunId);
    const canDetect = progress == null && (source === "typed" || runId != null);
    return (
        <Panel title="Explain a recorded run — its known patches against a clean reference" testId="detection-panel"
            actions={
                <button type="button" className="button small primary" data-testid="detect-run" disabled={!canDetect} onClick={() => void runDetection()}>
                    {progress?.kind === "detect" ? <Spinner small /> : null} Detect
                </button>
            }>
            <div className="input-row">
                <div className="segmented" role="radiogroup" aria-label="what to examine">
                    <button type="button" role="radio" aria-checked={source === "lastRun"} className={source === "lastRun" ? "active" : ""} data-testid="detect-source-run"
                        onClick={() => setSource("lastRun")}>Last run</button>
                    <button type="button" role="radio" aria-checked={source === "typed"} className={source === "typed" ? "active" : ""} data-testid="detect-source-typed"
                        onClick={() => setSource("typed")}>Typed text</button>
                </div>
                <span className="muted small">
                    {source === "lastRun"
                        ? runId != null ? "the Run view's last run, teacher-forced with the patches it had, against a clean reference" : "no finished run yet: generate one in Run"
                        : "the sweep's prompt + completion, claimed to come from the Run view's patches, against a clean reference"}
                </span>
            </div>
            {detection != null && <DetectionResultView detection={detection} />}
        </Panel>
    );
}

function DetectionResultView(props: { detection: DetectionResult }) {
    const { detection } = props;
    const plot = useRef<HTMLDivElement>(null);
    const best = detection.matches[0];
    const onsetPiece = detection.onsetToken != null ? detection.tokens[detection.onsetToken]?.piece : undefined;
    const data = detection.kl.map((kl, k) => ({ k, kl, delta: detection.deltaLogprob[k], piece: detection.tokens[k]?.piece ?? "" }));
    return (
        <>
            <div className="stat-grid" data-testid="detection-summary" data-steered={detection.steered} data-onset={detection.onsetToken ?? ""}
                data-first-layer={detection.firstLayer ?? ""} data-best={best?.vectorId ?? ""}>
                <Stat label="verdict" value={detection.steered ? <span className="accent">steered</span> : "not steered"} />
                <Stat label="onset token" value={detection.onsetToken != null ? `${detection.onsetToken} ${JSON.stringify(visiblePiece(onsetPiece ?? ""))}` : "—"} mono />
                <Stat label="first layer" value={detection.firstLayer ?? "—"} mono />
                <Stat label="best vector" value={best != null ? `${best.name} (cos ${best.cosine.toFixed(4)})` : "—"} />
                <Stat label="strength α̂" value={best != null && detection.steered ? best.strength.toFixed(4) : "—"} mono />
                <Stat label="max KL" value={Math.max(0, ...detection.kl).toExponential(2)} mono />
            </div>
            {detection.matches.length > 1 && (
                <div className="muted small">
                    Other candidates: {detection.matches.slice(1, 5).map((match) => `${match.name} ${match.cosine.toFixed(3)}`).join(" · ")}
                </div>
            )}
            <div className="chart-card" data-testid="detection-chart" data-values={JSON.stringify(detection.kl)}>
                <div className="chart-head">
                    <div className="chart-title">KL per token (bars) and Δ log p of the emitted token (line)</div>
                    <PlotExport target={plot} baseName="detection-kl" csv={() => detectionCsv(detection)} testId="export-detection" />
                </div>
                <div className="chart-body" ref={plot}>
                    <ResponsiveContainer width="100%" height={240}>
                        <ComposedChart data={data} margin={{ top: 20, right: 4, bottom: 4, left: 0 }}>
                            <CartesianGrid stroke="var(--border)" strokeDasharray="3 4" vertical={false} />
                            <XAxis dataKey="k" tick={axisTick} tickLine={false} axisLine={{ stroke: "var(--border)" }} />
                            <YAxis yAxisId="kl" tick={axisTick} tickLine={false} axisLine={false} width={56} tickFormatter={(v: number) => v.toPrecision(2)} />
                            <YAxis yAxisId="delta" orientation="right" tick={axisTick} tickLine={false} axisLine={false} width={48} tickFormatter={(v: number) => v.toFixed(1)} />
                            <Tooltip contentStyle={tooltipStyle}
                                labelFormatter={(k) => `token ${String(k)} ${JSON.stringify(data[Number(k)]?.piece ?? "")}`}
                                formatter={(value, name) => [typeof value === "number" ? value.toExponential(3) : "—", String(name)]} />
                            <Legend wrapperStyle={{ fontSize: 12 }} />
                            {detection.onsetToken != null && <ReferenceLine yAxisId="kl" x={detection.onsetToken} stroke="var(--accent)" strokeDasharray="2 3"
                                label={{ value: "onset", position: "top", fill: "var(--accent)", fontSize: 11 }} />}
                            <Bar yAxisId="kl" dataKey="kl" name="KL(obs ‖ ref)" fill="var(--steer)" isAnimationActive={false} />
                            <Line yAxisId="delta" dataKey="delta" name="Δ log p (right)" stroke="var(--accent)" dot={false} isAnimationActive={false} />
                        </ComposedChart>
                    </ResponsiveContainer>
                </div>
            </div>
        </>
    );
}
