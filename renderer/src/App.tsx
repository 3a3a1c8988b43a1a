// The window: navigation on the left, the current view, the connection banner and the toasts.
// Global keys: Ctrl/⌘+Enter generates (Run), compares (Compare) or sweeps (Probes); Escape stops;
// Ctrl/⌘+Shift+S opens Sessions, Ctrl/⌘+Shift+P Probes.
import { useEffect } from "react";
import { ConnectionBanner } from "./components/ConnectionBanner";
import { Sidebar } from "./components/Sidebar";
import { Toasts } from "./components/Toasts";
import { runCompare, stopCompare } from "./state/compareStore";
import { generate, stop } from "./state/runControl";
import { cancelProbe, runSweep } from "./state/probeStore";
import { useUiStore } from "./state/uiStore";
import { CompareView } from "./views/CompareView";
import { ModelView } from "./views/ModelView";
import { ProbesView } from "./views/probes/ProbesView";
import { cancelForensics, runForensicsTab, useForensicsStore } from "./state/forensicsStore";
import { RunView } from "./views/RunView";
import { SessionsView } from "./views/sessions/SessionsView";
import { StartView } from "./views/StartView";
import { VectorsView } from "./views/VectorsView";

export function App() {
    const view = useUiStore((state) => state.view);

    useEffect(() => {
        const onKey = (event: KeyboardEvent): void => {
            if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
                const current = useUiStore.getState().view;
                if (current === "run") {
                    event.preventDefault();
                    void generate();
                } else if (current === "compare") {
                    event.preventDefault();
                    void runCompare();
                } else if (current === "probes") {
                    event.preventDefault();
                    if (useForensicsStore.getState().page === "forensics")
                        runForensicsTab();
                    else
                        void runSweep();
                }
            } else if (event.key.toLowerCase() === "s" && event.shiftKey && (event.ctrlKey || event.metaKey)) {
                event.preventDefault();
                useUiStore.getState().setView("sessions");
            } else if (event.key.toLowerCase() === "p" && event.shiftKey && (event.ctrlKey || event.metaKey)) {
                event.preventDefault();
                useUiStore.getState().setView("probes");
            } else if (event.key === "Escape") {
                stop();
                stopCompare();
                cancelProbe();
                cancelForensics();
            }
        };
        window.addEventListener("keydown", onKey);
        return () => window.removeEventListener("keydown", onKey);
    }, []);

    return (
        <div className="app">
            <Sidebar />
            <main className="main">
                <ConnectionBanner />
                {view === "start" && <StartView />}
                {view === "model" && <ModelView />}
                {view === "vectors" && <VectorsView />}
                {view === "run" && <RunView />}
                {view === "compare" && <CompareView />}
                {view === "probes" && <ProbesView />}
                {view === "sessions" && <SessionsView />}
            </main>
            <Toasts />
        </div>
    );
}
