// The frame both Forensics tabs share: a panel whose actions are the tab's run button
// (Ctrl/⌘+Enter, a spinner while busy; off while busy or disconnected) and Cancel (Esc), an
// explanatory line, then the tab's form and results. Cancel stops whichever forensics request is
// going (cancelForensics).
import type { ReactNode } from "react";
import { Kbd, modKey, Panel, Spinner } from "../../../components/ui";
import { useConnectionStore } from "../../../state/connectionStore";
import { cancelForensics } from "../../../state/forensicsStore";

export interface ForensicsRunAction {
    label: string;
    testId: string;
    /** the tab's own reasons (an incomplete form...); busy and disconnected are added here */
    disabled: boolean;
    /** why it is disabled, when that is not obvious */
    title?: string;
    onRun(): void;
}

export function ForensicsPanel(props: { title: string; testId: string; run: ForensicsRunAction; cancelTestId: string; busy: boolean; intro: ReactNode; children: ReactNode }) {
    const { run, busy } = props;
    const connected = useConnectionStore((s) => s.state === "connected");
    return (
        <Panel title={props.title} testId={props.testId}
            actions={
                <div className="run-buttons">
                    <button type="button" className="button small primary" data-testid={run.testId} disabled={run.disabled || busy || !connected} title={run.title} onClick={run.onRun}>
                        {busy ? <Spinner small /> : null} {run.label} <Kbd>{modKey}+Enter</Kbd>
                    </button>
                    <button type="button" className="button small" data-testid={props.cancelTestId} disabled={!busy} onClick={cancelForensics}>
                        Cancel <Kbd>Esc</Kbd>
                    </button>
                </div>
            }>
            <div className="muted small">{props.intro}</div>
            {props.children}
        </Panel>
    );
}
