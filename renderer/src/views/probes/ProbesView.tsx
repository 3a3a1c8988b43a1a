// Probes: per-token susceptibility of a completion to a vector (χ bars under its tokens, α-curves,
// the tokens × layers heatmap) and the detection of a run's patch (KL per token, white-box report).
// Ctrl/⌘+Shift+P opens it; Ctrl/⌘+Enter sweeps (or, on the Forensics page, locates), Escape
// cancels (App's global keys). The Forensics page (./forensics) works without a loaded model.
import { NoModel } from "../../components/NoModel";
import { StopIcon } from "../../components/icons";
import { ViewHeader } from "../../components/ViewHeader";
import { EmptyState, Kbd, modKey, Spinner } from "../../components/ui";
import { useConnectionStore } from "../../state/connectionStore";
import { useModelStore } from "../../state/modelStore";
import { cancelProbe, runSweep, selectLastRunId, useProbeStore } from "../../state/probeStore";
import { useRunStore } from "../../state/runStore";
import { AlphaCurves } from "./AlphaCurves";
import { ChiHeatmap } from "./ChiHeatmap";
import { ChiStrip } from "./ChiStrip";
import { FisherStrip, PathFreeEnergy } from "./LinearResponse";
import { DetectionPanel } from "./DetectionPanel";
import { ProbesIcon } from "../../components/icons";
import { SweepForm } from "./SweepForm";
import { useForensicsStore } from "../../state/forensicsStore";
import { ForensicsView } from "./forensics/ForensicsView";

export function ProbesView() {
    const hasModel = useModelStore((s) => s.model != null);
    const sweep = useProbeStore((s) => s.sweep);
    const page = useForensicsStore((s) => s.page);
    return (
        <div className="view">
            <ViewHeader title="Probes" subtitle="How strongly each token responds to a vector, whether a run was steered, and what switches a hidden patch on."
                actions={<><ProbesPages />{page === "sweep" && <ProbeButtons />}</>} />
            {page === "forensics"
                ? <ForensicsView />
                : hasModel
                ? (
                    <div className="view-body probes-layout">
                        <div className="probes-side">
                            <SweepForm />
                        </div>
                        <div className="probes-plots">
                            {sweep != null
                                ? (
                                    <>
                                        <ChiStrip sweep={sweep} />
                                        <AlphaCurves sweep={sweep} />
                                        <ChiHeatmap sweep={sweep} />
                                        <PathFreeEnergy sweep={sweep} />
                                        <FisherStrip sweep={sweep} />
                                    </>
                                )
                                : <EmptyState icon={<ProbesIcon size={28} />} title="No sweep yet" testId="probes-empty">
                                    Pick a vector, give a completion (or use the last run) and sweep: each token's log-probability is measured over the α grid.
                                </EmptyState>}
                            <DetectionPanel />
                        </div>
                    </div>
                )
                : <div className="view-body"><NoModel what="sweep and detect" /></div>}
        </div>
    );
}

function ProbesPages() {
    const page = useForensicsStore((s) => s.page);
    const setPage = useForensicsStore((s) => s.setPage);
    return (
        <div className="segmented" role="tablist" aria-label="Probes pages">
            <button type="button" role="tab" aria-selected={page === "sweep"} className={page === "sweep" ? "active" : ""} data-testid="probes-page-sweep"
                onClick={() => setPage("sweep")}>Susceptibility</button>
            <button type="button" role="tab" aria-selected={page === "forensics"} className={page === "forensics" ? "active" : ""} data-testid="probes-page-forensics"
                onClick={() => setPage("forensics")}>Forensics</button>
        </div>
    );
}

function ProbeButtons() {
    const progress = useProbeStore((s) => s.progress);
    // "use last run" depends on the Run view's run too
    const runId = useRunStore(selectLastRunId);
    const ready = useProbeStore((s) => s.form.vectorId !== "" && (s.form.source === "typed" || runId != null));
    const hasModel = useModelStore((s) => s.model != null);
    const connected = useConnectionStore((s) => s.state === "connected");
    const runBusy = useRunStore((s) => s.status !== "idle");
    return (
        <div className="run-buttons">
            <button type="button" className="button primary large" data-testid="sweep-run" disabled={!hasModel || !connected || !ready || progress != null || runBusy}
                title={runBusy ? "a run is going: the engine does one thing at a time" : undefined} onClick={() => void runSweep()}>
                {progress?.kind === "sweep" ? <Spinner small /> : <ProbesIcon size={16} />} Sweep <Kbd>{modKey}+Enter</Kbd>
            </button>
            <button type="button" className="button large" data-testid="probe-cancel" disabled={progress == null} onClick={cancelProbe}>
                <StopIcon size={16} /> Cancel <Kbd>Esc</Kbd>
            </button>
        </div>
    );
}
