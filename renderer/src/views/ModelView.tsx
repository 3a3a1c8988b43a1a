// Model: open a GGUF file (path, backend, GPU layers, context, threads), see its shape and where its
// layers actually went; the models on this machine, the recommended catalog, and the backends.
import { useEffect, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { FolderIcon, CloseIcon, ModelIcon } from "../components/icons";
import { ViewHeader } from "../components/ViewHeader";
import { EmptyState, Field, NumberInput, Panel, ProgressBar, Spinner, Stat } from "../components/ui";
import { fileNameOf, formatBytes, formatCount } from "../lib/format";
import { useConnectionStore } from "../state/connectionStore";
import { refreshCatalogAndBackends, useModelLibraryStore } from "../state/modelLibraryStore";
import { forgetRecent, loadModel, unloadModel, useModelStore } from "../state/modelStore";
import { backendLabels, BackendsPanel, CatalogPanel, ScannedModelsPanel } from "./model/ModelLibraryPanels";

export function ModelView() {
    const connected = useConnectionStore((s) => s.state === "connected");
    useEffect(() => {
        if (connected)
            void refreshCatalogAndBackends();
    }, [connected]);
    return (
        <div className="view">
            <ViewHeader title="Model" subtitle="Open a local GGUF model. Its weights are loaded once, in the engine." />
            <div className="view-body model-view-body">
                <div className="model-grid">
                    <LoadPanel />
                    <ModelInfoPanel />
                    <RecentPanel />
                </div>
                <div className="model-library-grid">
                    <ScannedModelsPanel />
                    <CatalogPanel />
                    <BackendsPanel />
                </div>
            </div>
        </div>
    );
}

function LoadPanel() {
    const { form, busy, progressLabel, model } = useModelStore(useShallow((s) => ({ form: s.form, busy: s.busy, progressLabel: s.progressLabel, model: s.model })));
    const setForm = useModelStore((s) => s.setForm);
    const connected = useConnectionStore((s) => s.state === "connected");
    const defaultThreads = useConnectionStore((s) => s.info?.defaultThreads);
    const openFileDialog = window.tiller?.openFileDialog;
    const pathForFile = window.tiller?.pathForFile;
    const [dragging, setDragging] = useState(false);
    return (
        <Panel title="Open a model" className={`load-panel ${dragging ? "dragging" : ""}`}>
            <form className="stack" onSubmit={(event) => {
                event.preventDefault();
                void loadModel();
            }} onDragOver={(event) => {
                if (pathForFile != null && event.dataTransfer.types.includes("Files")) {
                    event.preventDefault();
                    setDragging(true);
                }
            }} onDragLeave={() => setDragging(false)} onDrop={(event) => {
                setDragging(false);
                const file = event.dataTransfer.files[0];
                if (pathForFile != null && file != null) {
                    event.preventDefault();
                    setForm({ path: pathForFile(file) });
                }
            }}>
                <Field label="Model file (.gguf)" hint="A path on the machine that runs the engine.">
                    <div className="input-row">
                        <input className="input mono grow" data-testid="model-path" value={form.path} spellCheck={false}
                            placeholder="/path/to/model.gguf" onChange={(event) => setForm({ path: event.target.value })} />
                        {openFileDialog != null && (
                            <button type="button" className="button" onClick={() => {
                                void openFileDialog("model").then((path) => {
                                    if (path != null)
                                        setForm({ path });
                                });
                            }}><FolderIcon size={16} /> Browse…</button>
                        )}
                    </div>
                </Field>
                <BackendChooser />
                <div className="field-grid">
                    <Field label="GPU layers" hint={form.backend === "cpu" ? "CPU: no layers are offloaded" : undefined}>
                        <div className="input-row">
                            <select className="input" value={form.gpuLayers === "auto" ? "auto" : "n"}
                                onChange={(event) => setForm({ gpuLayers: event.target.value === "auto" ? "auto" : 0 })}>
                                <option value="auto">auto</option>
                                <option value="n">number</option>
                            </select>
                            {form.gpuLayers !== "auto" && (
                                <NumberInput className="narrow" value={form.gpuLayers} integer min={0} ariaLabel="GPU layers"
                                    onChange={(value) => setForm({ gpuLayers: value ?? 0 })} />
                            )}
                        </div>
                    </Field>
                    <Field label="Context size" hint="empty: model default (≤ 4096)">
                        <NumberInput value={form.contextSize} integer min={16} allowEmpty placeholder="default" testId="model-context" onChange={(value) => setForm({ contextSize: value })} />
                    </Field>
                    <Field label="Threads" hint={defaultThreads != null ? `empty: ${defaultThreads}` : "empty: cores available"}>
                        <NumberInput value={form.threads} integer min={1} allowEmpty placeholder="default" onChange={(value) => setForm({ threads: value })} />
                    </Field>
                </div>
                <div className="button-row">
                    <button type="submit" className="button primary" data-testid="model-load" disabled={!connected || busy != null || form.path.trim() === ""}>
                        {busy === "loading" ? <><Spinner small /> Loading…</> : model != null ? "Load (replace)" : "Load"}
                    </button>
                    <button type="button" className="button" data-testid="model-unload" disabled={!connected || busy != null || model == null} onClick={() => void unloadModel()}>
                        {busy === "unloading" ? <><Spinner small /> Unloading…</> : "Unload"}
                    </button>
                </div>
                {busy === "loading" && <ProgressBar done={0} total={0} indeterminate label={progressLabel || "loading the model"} />}
            </form>
        </Panel>
    );
}

/** auto/CUDA/Vulkan/Metal/CPU; the ones this engine cannot load on are disabled, with the reason as their title. */
function BackendChooser() {
    const backend = useModelStore((s) => s.form.backend);
    const setForm = useModelStore((s) => s.setForm);
    const choices = useModelLibraryStore((s) => s.backends?.choices);
    return (
        <Field label="Backend">
            <div className="segmented backend-chooser" role="radiogroup" aria-label="Backend" data-testid="backend-chooser">
                {(choices ?? [{ choice: "auto" as const, available: true, reason: null }]).map((choice) => (
                    <button key={choice.choice} type="button" role="radio" aria-checked={backend === choice.choice} className={backend === choice.choice ? "active" : ""}
                        data-testid={`backend-${choice.choice}`} disabled={!choice.available} title={choice.reason ?? undefined}
                        onClick={() => setForm({ backend: choice.choice, ...(choice.choice === "cpu" ? { gpuLayers: 0 } : {}) })}>
                        {backendLabels[choice.choice]}
                    </button>
                ))}
            </div>
            <ul className="backend-reasons muted small" data-testid="backend-reasons">
                {choices?.filter((choice) => !choice.available).map((choice) => <li key={choice.choice}>{backendLabels[choice.choice]}: {choice.reason}</li>)}
            </ul>
        </Field>
    );
}

function ModelInfoPanel() {
    const model = useModelStore((s) => s.model);
    const info = useConnectionStore((s) => s.info);
    if (model == null) {
        return (
            <Panel title="Loaded model" className="info-panel">
                <EmptyState testId="no-model" icon={<ModelIcon size={36} />} title="No model loaded">
                    Enter the path of a GGUF file and press Load. Small test models such as stories260K load in a moment.
                </EmptyState>
            </Panel>
        );
    }
    const { shape } = model;
    return (
        <Panel title={<>Loaded model <span className="pill ok">ready</span></>} className="info-panel" testId="model-shape">
            <div className="model-title">
                <div className="model-name">{model.fileName}</div>
                <div className="muted mono small">{model.path}</div>
                {shape.description !== "" && <div className="muted small">{shape.description}</div>}
            </div>
            <div className="stat-grid">
                <Stat label="Architecture" value={shape.architecture} />
                <Stat label="Layers" value={<span data-testid="model-layers">{shape.nLayer}</span>} />
                <Stat label="Width (n_embd)" value={shape.nEmbd} />
                <Stat label="Vocabulary" value={shape.nVocab.toLocaleString()} />
                <Stat label="Heads / KV heads" value={`${shape.nHead} / ${shape.nHeadKv}`} />
                <Stat label="Parameters" value={formatCount(shape.nParams)} />
                <Stat label="File size" value={formatBytes(shape.sizeBytes)} />
                <Stat label="Training context" value={shape.nCtxTrain.toLocaleString()} />
                <Stat label="Chat template" value={shape.hasChatTemplate ? "yes" : "no"} />
                {model.steeringSupport != null && <>
                    <Stat label="Steering" value={<span data-testid="model-steering">{model.steeringSupport.steering ? "yes" : "not supported"}</span>} />
                    <Stat label="Capture" value={<span data-testid="model-capture">{model.steeringSupport.capture ? "every block" : "not supported"}</span>} />
                </>}
            </div>
            {model.steeringSupport?.message != null && (
                <div className="warning-text small" role="alert" data-testid="model-support-message">{model.steeringSupport.message}</div>
            )}
            <div className="divider" />
            <div className="stat-grid">
                <Stat label="Backend" value={<span data-testid="loaded-backend">{model.placement != null ? backendLabels[model.placement.backend] : info?.gpu === false || info == null ? "CPU" : info.gpu}</span>} />
                <Stat label="GPU layers" value={model.gpuLayers} />
                {model.placement != null && <>
                    <Stat label="Blocks on the GPU" value={<span data-testid="loaded-offloaded">{model.placement.offloadedBlocks} of {model.placement.nLayer}{model.placement.outputOnGpu ? " + output" : ""}</span>} />
                    <Stat label="VRAM taken" value={model.placement.vramUsedBytes != null ? formatBytes(model.placement.vramUsedBytes) : "— (CPU)"} />
                    <Stat label="RAM growth at load" value={formatBytes(model.placement.rssGrowthBytes)} />
                </>}
                <Stat label="Context size" value={model.contextSize.toLocaleString()} />
                <Stat label="Threads" value={model.threads} />
            </div>
            {info?.systemInfo != null && info.systemInfo !== "" && (
                <details className="system-info">
                    <summary>llama.cpp system info</summary>
                    <pre className="mono small">{info.systemInfo}</pre>
                </details>
            )}
        </Panel>
    );
}

function RecentPanel() {
    const recent = useModelStore((s) => s.recent);
    const current = useModelStore((s) => s.model?.path);
    const setForm = useModelStore((s) => s.setForm);
    return (
        <Panel title="Recent models" className="recent-panel">
            {recent.length === 0
                ? <p className="muted small">Models you load appear here.</p>
                : (
                    <ul className="recent-list">
                        {recent.map((path) => (
                            <li key={path} className={path === current ? "current" : ""}>
                                <button type="button" className="recent-item" title={path} onClick={() => setForm({ path })}
                                    onDoubleClick={() => {
                                        setForm({ path });
                                        void loadModel();
                                    }}>
                                    <span className="recent-name">{fileNameOf(path)}</span>
                                    <span className="recent-path mono">{path}</span>
                                </button>
                                <button type="button" className="icon-button" aria-label={`Forget ${path}`} onClick={() => forgetRecent(path)}><CloseIcon size={14} /></button>
                            </li>
                        ))}
                    </ul>
                )}
        </Panel>
    );
}
