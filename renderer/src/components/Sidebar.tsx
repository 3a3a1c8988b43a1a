// Left navigation: the views, the loaded model and the engine's connection.
import type { ReactNode } from "react";
import { useShallow } from "zustand/react/shallow";
import { useConnectionStore } from "../state/connectionStore";
import { useModelStore } from "../state/modelStore";
import { useRunStore } from "../state/runStore";
import { useUiStore, type View } from "../state/uiStore";
import { useVectorStore } from "../state/vectorStore";
import { CompareIcon, LogoIcon, ModelIcon, ProbesIcon, RunIcon, SessionsIcon, StartIcon, VectorsIcon } from "./icons";

const items: { view: View; label: string; icon: ReactNode }[] = [
    { view: "start", label: "Start", icon: <StartIcon /> },
    { view: "model", label: "Model", icon: <ModelIcon /> },
    { view: "vectors", label: "Vectors", icon: <VectorsIcon /> },
    { view: "run", label: "Run", icon: <RunIcon /> },
    { view: "compare", label: "Compare", icon: <CompareIcon /> },
    { view: "probes", label: "Probes", icon: <ProbesIcon /> },
    { view: "sessions", label: "Sessions", icon: <SessionsIcon /> }
];

export function Sidebar() {
    const [view, setView] = useUiStore(useShallow((state) => [state.view, state.setView]));
    const vectorCount = useVectorStore((state) => state.ids.length);
    const running = useRunStore((state) => state.status !== "idle");
    return (
        <nav className="sidebar" aria-label="Views">
            <div className="brand">
                <span className="brand-logo"><LogoIcon /></span>
                <div>
                    <div className="brand-name">Tiller</div>
                    <div className="brand-tag">steering lab</div>
                </div>
            </div>
            <ul className="nav">
                {items.map((item) => (
                    <li key={item.view}>
                        <button type="button" className={`nav-item ${view === item.view ? "active" : ""}`} data-testid={`nav-${item.view}`}
                            aria-current={view === item.view ? "page" : undefined} onClick={() => setView(item.view)}>
                            {item.icon}
                            <span>{item.label}</span>
                            {item.view === "vectors" && vectorCount > 0 && <span className="nav-badge">{vectorCount}</span>}
                            {item.view === "run" && running && <span className="nav-live" title="generating" />}
                        </button>
                    </li>
                ))}
            </ul>
            <div className="sidebar-footer">
                <ModelChip />
                <EngineStatus />
            </div>
        </nav>
    );
}

function ModelChip() {
    const model = useModelStore((state) => state.model);
    const busy = useModelStore((state) => state.busy);
    const setView = useUiStore((state) => state.setView);
    return (
        <button type="button" className="model-chip" data-testid="model-chip" onClick={() => setView("model")} title={model?.path ?? "no model loaded"}>
            <span className={`dot ${model != null ? "ok" : busy != null ? "busy" : "off"}`} />
            <span className="model-chip-text">
                <span className="model-chip-name">{model?.fileName ?? (busy === "loading" ? "loading…" : "no model")}</span>
                {model != null && <span className="model-chip-sub">{model.shape.architecture} · {model.shape.nLayer} layers · {model.shape.nEmbd}d</span>}
            </span>
        </button>
    );
}

function EngineStatus() {
    const { state, info } = useConnectionStore(useShallow((s) => ({ state: s.state, info: s.info })));
    const label = state === "connected" ? `engine ${info?.version ?? ""}` : state === "connecting" ? "connecting…" : "disconnected";
    return (
        <div className="engine-status" data-testid="engine-status" data-state={state}>
            <span className={`dot ${state === "connected" ? "ok" : state === "connecting" ? "busy" : "bad"}`} />
            <span>{label}</span>
            {state === "connected" && info != null && <span className="muted"> · {info.gpu === false ? "CPU" : info.gpu}</span>}
        </div>
    );
}
