// Probes → Forensics: patch forensics that does not know the answer. The black box works from an
// endpoint's log-probabilities alone and needs no model loaded here.
import { BlackboxPanel } from "./BlackboxPanel";

export function ForensicsView() {
    return (
        <div className="view-body forensics-layout" data-testid="forensics-view">
            <BlackboxPanel />
        </div>
    );
}
