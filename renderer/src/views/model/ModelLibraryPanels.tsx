// The Model view's machine-wide panels: the GGUF files the engine found (with Open), the catalog of
// recommended models (one-click download with progress, cancel and resume), and the backends.
import { useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { BackendChoice, ScannedModelInfo } from "../../../../engine/protocol/models";
import { Panel, ProgressBar, Spinner } from "../../components/ui";
import { formatBytes, formatCount } from "../../lib/format";
import { useConnectionStore } from "../../state/connectionStore";
import { cancelDownload, downloadModel, scanModels, useModelLibraryStore, type DownloadState } from "../../state/modelLibraryStore";
import { loadModel, useModelStore } from "../../state/modelStore";

const sourceLabels: Record<ScannedModelInfo["source"], string> = {
    "project": "models/", "node-llama-cpp": "node-llama-cpp", "lm-studio": "LM Studio", "huggingface": "Hugging Face", "ollama": "Ollama"
};

export const backendLabels: Record<BackendChoice, string> = { auto: "Auto", cuda: "CUDA", vulkan: "Vulkan", metal: "Metal", cpu: "CPU" };

function FitBadge(props: { fit: ScannedModelInfo["fit"] }) {
    const { fit } = props;
    if (fit == null)
        return <span className="muted">—</span>;
    const title = `needs ≈${formatBytes(fit.ramBytes)} RAM with a ${fit.contextSize}-token context (free ${formatBytes(fit.freeRamBytes)})`
        + (fit.gpu != null ? `; ≈${formatBytes(fit.gpu.vramBytes)} VRAM fully offloaded (free ${formatBytes(fit.gpu.freeVramBytes)})` : "");
    return (
        <span className="fit-badges" title={title}>
            {fit.gpu != null && <span className={`pill ${fit.gpu.fitsInGpu ? "ok" : "bad"}`}>GPU {fit.gpu.fitsInGpu ? "fits" : "too big"}</span>}
            <span className={`pill ${fit.fitsInRam ? "ok" : "bad"}`}>RAM {fit.fitsInRam ? "fits" : "too big"}</span>
        </span>
    );
}

export function ScannedModelsPanel() {
    const { scanned, scanning, modelsDir } = useModelLibraryStore(useShallow((s) => ({ scanned: s.scanned, scanning: s.scanning, modelsDir: s.modelsDir })));
    const connected = useConnectionStore((s) => s.state === "connected");
    const busy = useModelStore((s) => s.busy);
    const current = useModelStore((s) => s.model?.path);
    return (
        <Panel title="Models on this machine" className="scan-panel" testId="scan-panel"
            actions={<button type="button" className="button small" data-testid="models-scan" disabled={!connected || scanning} onClick={() => void scanModels()}>
                {scanning ? <><Spinner small /> Scanning…</> : scanned == null ? "Scan" : "Rescan"}
            </button>}>
            <p className="muted small">Tiller's models/ folder{modelsDir != null && <> (<span className="mono">{modelsDir}</span>)</>}, node-llama-cpp's, LM Studio's, the Hugging Face cache and Ollama's store.</p>
            {scanned == null
                ? <p className="muted small">Press Scan to look for GGUF files.</p>
                : scanned.length === 0
                    ? <p className="muted small" data-testid="scan-empty">No GGUF files found.</p>
                    : (
                        <div className="table-scroll">
                            <table className="lib-table">
                                <thead>
                                    <tr><th>Model</th><th>Source</th><th>Shape</th><th>Quant</th><th>Size</th><th>Fits</th><th /></tr>
                                </thead>
                                <tbody>
                                    {scanned.map((model) => (
                                        <tr key={model.path} data-testid="scanned-model" data-name={model.name} className={model.path === current ? "current" : ""}>
                                            <td title={model.path}><div>{model.name}</div><div className="muted small mono">{model.fileName}</div></td>
                                            <td>{sourceLabels[model.source]}</td>
                                            <td>{model.problem != null
                                                ? <span className="warning-text small" title={model.problem}>{model.problem}</span>
                                                : <>{model.architecture} · {model.layers ?? "?"} layers · {model.embeddingLength ?? "?"}d{model.parameters != null && <> · {formatCount(model.parameters)}</>}</>}</td>
                                            <td className="mono">{model.quantization ?? "—"}</td>
                                            <td>{formatBytes(model.sizeBytes)}</td>
                                            <td><FitBadge fit={model.fit} /></td>
                                            <td>
                                                <button type="button" className="button small" data-testid="scanned-open" disabled={!connected || busy != null || model.problem != null}
                                                    onClick={() => {
                                                        useModelStore.getState().setForm({ path: model.path });
                                                        void loadModel();
                                                    }}>Open</button>
                                            </td>
                                        </tr>
                                    ))}
                                </tbody>
                            </table>
                        </div>
                    )}
        </Panel>
    );
}

export function CatalogPanel() {
    const { catalog, downloads, modelsDir } = useModelLibraryStore(useShallow((s) => ({ catalog: s.catalog, downloads: s.downloads, modelsDir: s.modelsDir })));
    const connected = useConnectionStore((s) => s.state === "connected");
    return (
        <Panel title="Recommended models" className="catalog-panel" testId="catalog-panel">
            <p className="muted small">Small chat models common in steering work. Download saves into {modelsDir != null ? <span className="mono">{modelsDir}</span> : "models/"}; a cancelled download resumes where it stopped.</p>
            <UriDownload />
            {catalog == null
                ? <p className="muted small">Loading the catalog…</p>
                : (
                    <ul className="catalog-list">
                        {catalog.map((entry) => (
                            <li key={entry.id} className="catalog-item" data-testid="catalog-item" data-id={entry.id}>
                                <div className="catalog-head">
                                    <div>
                                        <div className="catalog-name">{entry.name}</div>
                                        <div className="muted small">{entry.parameters}{entry.layers != null && <> · {entry.layers} layers</>}{entry.width != null && <> · {entry.width}d</>} · ≈{formatBytes(entry.approxSizeBytes)} · {entry.licence}</div>
                                    </div>
                                    <DownloadButton downloadKey={entry.id} uri={entry.uri} disabled={!connected} />
                                </div>
                                <div className="small">{entry.why}</div>
                                <div className="muted small mono">{entry.uri}</div>
                                <DownloadStatus download={downloads[entry.id]} />
                            </li>
                        ))}
                    </ul>
                )}
        </Panel>
    );
}

/** Download, Cancel while it runs, Resume after a cancel or a failure. */
function DownloadButton(props: { downloadKey: string; uri: string; disabled: boolean }) {
    const download = useModelLibraryStore((s) => s.downloads[props.downloadKey]);
    if (download?.status === "downloading")
        return <button type="button" className="button small" data-testid="download-cancel" onClick={() => cancelDownload(props.downloadKey)}>Cancel</button>;
    return (
        <button type="button" className="button small primary" data-testid="download-start" disabled={props.disabled || props.uri.trim() === "" || download?.status === "done"}
            onClick={() => void downloadModel(props.downloadKey, props.uri.trim())}>
            {download?.status === "done" ? "Downloaded" : download?.status === "cancelled" || download?.status === "failed" ? "Resume" : "Download"}
        </button>
    );
}

function DownloadStatus(props: { download: DownloadState | undefined }) {
    const { download } = props;
    if (download == null)
        return null;
    if (download.status === "done")
        return <div className="small ok-text" data-testid="download-done">Saved as <span className="mono">{download.path}</span></div>;
    const running = download.status === "downloading";
    return (
        <div data-testid="download-state" data-status={download.status}>
            <ProgressBar done={download.done} total={download.total} testId="download-progress" indeterminate={running && download.total === 0}
                label={running ? (download.total > 0 ? `${formatBytes(download.done)} of ${formatBytes(download.total)}` : "connecting…") : download.message} />
        </div>
    );
}

/** Any other model: a Hugging Face URI (hf:user/repo:quant) or an http(s) URL. */
function UriDownload() {
    const [uri, setUri] = useState("");
    const connected = useConnectionStore((s) => s.state === "connected");
    const download = useModelLibraryStore((s) => s.downloads[uri.trim()]);
    return (
        <div className="catalog-item uri-download" data-testid="uri-download">
            <div className="catalog-name">By URI or URL</div>
            <div className="input-row">
                <input className="input mono grow" data-testid="download-uri" value={uri} spellCheck={false} placeholder="hf:user/repo:Q4_K_M or https://…/model.gguf"
                    onChange={(event) => setUri(event.target.value)} />
                <DownloadButton downloadKey={uri.trim()} uri={uri} disabled={!connected} />
            </div>
            <DownloadStatus download={download} />
        </div>
    );
}

export function BackendsPanel() {
    const backends = useModelLibraryStore((s) => s.backends);
    return (
        <Panel title="Backends and devices" className="backends-panel" testId="backends-panel">
            {backends == null
                ? <p className="muted small">Asking the engine…</p>
                : (
                    <div className="stack">
                        <div className="stat-grid">
                            <div className="stat"><span className="stat-label">Loaded backend</span><span className="stat-value" data-testid="backend-loaded">{backendLabels[backends.loaded.backend]}</span></div>
                            <div className="stat"><span className="stat-label">Usable here</span><span className="stat-value">{backends.usable.map((name) => backendLabels[name]).join(", ")}</span></div>
                            <div className="stat"><span className="stat-label">llama.cpp</span><span className="stat-value mono">{backends.loaded.llamaCppRelease} ({backends.loaded.buildType})</span></div>
                            <div className="stat"><span className="stat-label">CPU math cores</span><span className="stat-value">{backends.loaded.cpuMathCores}</span></div>
                            <div className="stat"><span className="stat-label">RAM free / total</span><span className="stat-value">{formatBytes(backends.ram.free)} / {formatBytes(backends.ram.total)}</span></div>
                            {backends.vram != null && <div className="stat"><span className="stat-label">VRAM free / total</span><span className="stat-value">{formatBytes(backends.vram.free)} / {formatBytes(backends.vram.total)}</span></div>}
                        </div>
                        <div className="small">
                            <span className="muted">Devices: </span>{backends.devices.length > 0 ? backends.devices.join(", ") : "none (CPU)"}
                        </div>
                        <div className="small muted">Prebuilt binaries: <span className="mono">{backends.installedBinaries.join(", ") || "none"}</span></div>
                    </div>
                )}
        </Panel>
    );
}
