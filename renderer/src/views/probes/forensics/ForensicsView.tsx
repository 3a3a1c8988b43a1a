// Probes → Forensics: patch forensics that does not know the answer. Two tabs: blind detection from
// a transcript (needs the model's weights loaded) and the black box (an endpoint's log-probs only;
// no model needed here). "Explain a recorded run" (the known-patch diff) stays on the Susceptibility page.
import { useForensicsStore } from "../../../state/forensicsStore";
import { BlackboxPanel } from "./BlackboxPanel";
import { TranscriptPanel } from "./TranscriptPanel";

export function ForensicsView() {
    const tab = useForensicsStore((s) => s.tab);
    const setTab = useForensicsStore((s) => s.setTab);
    return (
        <div className="view-body forensics-layout" data-testid="forensics-view">
            <div className="segmented" role="tablist" aria-label="forensics setting">
                <button type="button" role="tab" aria-selected={tab === "transcript"} className={tab === "transcript" ? "active" : ""} data-testid="forensics-tab-transcript"
                    onClick={() => setTab("transcript")}>Transcript + weights</button>
                <button type="button" role="tab" aria-selected={tab === "blackbox"} className={tab === "blackbox" ? "active" : ""} data-testid="forensics-tab-blackbox"
                    onClick={() => setTab("blackbox")}>Black box (log-probs only)</button>
            </div>
            {tab === "transcript" ? <TranscriptPanel /> : <BlackboxPanel />}
        </div>
    );
}
