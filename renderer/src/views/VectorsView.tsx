// Vectors: the library (rename, delete, export, import, combine) and building a vector from a
// built-in dataset, with its progress and per-layer separation chart.
import { memo, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import { ChartIcon, DownloadIcon, FolderIcon, PencilIcon, PlusIcon, TrashIcon, VectorsIcon } from "../components/icons";
import { NoModel } from "../components/NoModel";
import { ViewHeader } from "../components/ViewHeader";
import { EmptyState, Field, NumberInput, Panel, ProgressBar, Spinner } from "../components/ui";
import { formatDate, formatLayers } from "../lib/format";
import { useConnectionStore } from "../state/connectionStore";
import { useModelStore } from "../state/modelStore";
import {
    buildVector, cancelBuild, combineVectors, deleteVector, exportVector, importVector, renameVector, showBuild, useVectorStore
} from "../state/vectorStore";
import { SeparationChart } from "./SeparationChart";

export function VectorsView() {
    const hasModel = useModelStore((s) => s.model != null);
    return (
        <div className="view">
            <ViewHeader title="Vectors" subtitle="Build steering vectors from contrastive datasets, and manage the library." />
            <div className="view-body vectors-grid">
                <div className="vectors-main">
                    {hasModel ? <BuildPanel /> : <Panel title="Build a vector"><NoModel what="build vectors from its activations" /></Panel>}
                    <BuildResultPanel />
                </div>
                <div className="vectors-side">
                    <LibraryPanel />
                    <div className="side-by-side">
                        <ImportPanel />
                        <CombinePanel />
                    </div>
                </div>
            </div>
        </div>
    );
}

// ---- build ------------------------------------------------------------------------------------

function BuildPanel() {
    const { datasets, form, build } = useVectorStore(useShallow((s) => ({ datasets: s.datasets, form: s.buildForm, build: s.build })));
    const setForm = useVectorStore((s) => s.setBuildForm);
    const nLayer = useModelStore((s) => s.model?.shape.nLayer ?? 0);
    const connected = useConnectionStore((s) => s.state === "connected");
    const dataset = datasets.find((d) => d.name === form.dataset);
    const running = build?.running === true;
    return (
        <Panel title="Build a vector">
            <form className="stack" onSubmit={(event) => {
                event.preventDefault();
                void buildVector();
            }}>
                <div className="field-grid">
                    <Field label="Dataset" hint={dataset != null ? `${dataset.pairCount} pairs · ${dataset.framing} framing` : undefined}>
                        <select className="input" data-testid="dataset-select" value={form.dataset} onChange={(event) => setForm({ dataset: event.target.value })}>
                            {datasets.length === 0 && <option value="">(no datasets)</option>}
                            {datasets.map((d) => <option key={d.name} value={d.name}>{d.name}</option>)}
                        </select>
                    </Field>
                    <Field label="Method">
                        <select className="input" data-testid="build-method" value={form.method} onChange={(event) => setForm({ method: event.target.value as typeof form.method })}>
                            <option value="mean">mean difference</option>
                            <option value="pca-diff">PCA of differences</option>
                            <option value="pca-center">PCA, centred</option>
                        </select>
                    </Field>
                    <Field label="Read at">
                        <select className="input" value={form.readAt} onChange={(event) => setForm({ readAt: event.target.value as typeof form.readAt })}>
                            <option value="last">last token</option>
                            <option value="mean">mean over tokens</option>
                            <option value="answer">answer tokens</option>
                        </select>
                    </Field>
                    <Field label="Layers" hint={`empty: all (1–${Math.max(1, nLayer - 1)})`}>
                        <div className="input-row">
                            <NumberInput value={form.first} integer min={1} max={Math.max(1, nLayer - 1)} allowEmpty placeholder="first" ariaLabel="first layer"
                                onChange={(first) => setForm({ first })} />
                            <span className="muted">–</span>
                            <NumberInput value={form.last} integer min={1} max={Math.max(1, nLayer - 1)} allowEmpty placeholder="last" ariaLabel="last layer"
                                onChange={(last) => setForm({ last })} />
                        </div>
                    </Field>
                </div>
                {dataset != null && <p className="muted small dataset-description">{dataset.description}</p>}
                <div className="input-row">
                    <input className="input grow" placeholder={`name (default: ${form.dataset || "dataset"} (${form.method}))`} value={form.name}
                        data-testid="build-name" onChange={(event) => setForm({ name: event.target.value })} />
                    <button type="submit" className="button primary" data-testid="vector-build" disabled={!connected || running || form.dataset === ""}>
                        {running ? <><Spinner small /> Building…</> : "Build"}
                    </button>
                    {running && <button type="button" className="button" onClick={cancelBuild}>Cancel</button>}
                </div>
                {build != null && (
                    <ProgressBar testId="build-progress" done={build.done} total={build.total} label={build.label}
                        indeterminate={build.running && build.total === 0} />
                )}
            </form>
        </Panel>
    );
}

function BuildResultPanel() {
    const result = useVectorStore((s) => (s.shownBuild != null ? s.diagnostics[s.shownBuild] : undefined));
    if (result == null)
        return null;
    return <SeparationChart result={result} />;
}

// ---- library ----------------------------------------------------------------------------------

function LibraryPanel() {
    const ids = useVectorStore((s) => s.ids);
    const problems = useVectorStore((s) => s.problems);
    return (
        <Panel title={<>Library <span className="muted">({ids.length})</span></>}>
            {ids.length === 0
                ? (
                    <EmptyState icon={<VectorsIcon size={32} />} title="No vectors yet">
                        Build one from a dataset, or import a llama.cpp / repeng control-vector GGUF.
                    </EmptyState>
                )
                : (
                    <div className="table-wrap">
                        <table className="table" data-testid="vector-table">
                            <thead>
                                <tr>
                                    <th>Name</th>
                                    <th>Layers</th>
                                    <th>Norms</th>
                                    <th>Source</th>
                                    <th className="col-created">Created</th>
                                    <th aria-label="actions" />
                                </tr>
                            </thead>
                            <tbody>
                                {ids.map((id) => <VectorRow key={id} id={id} />)}
                            </tbody>
                        </table>
                    </div>
                )}
            {problems.length > 0 && (
                <details className="problems">
                    <summary>{problems.length} file{problems.length === 1 ? "" : "s"} in the library could not be read</summary>
                    <ul>{problems.map((p) => <li key={p.file}><span className="mono">{p.file}</span>: {p.message}</li>)}</ul>
                </details>
            )}
        </Panel>
    );
}

const VectorRow = memo(function VectorRow(props: { id: string }) {
    const vector = useVectorStore((s) => s.byId[props.id]);
    const hasDiagnostics = useVectorStore((s) => s.diagnostics[props.id] != null);
    const shown = useVectorStore((s) => s.shownBuild === props.id);
    const [mode, setMode] = useState<"view" | "rename" | "export" | "delete">("view");
    const [name, setName] = useState("");
    const [exportPath, setExportPath] = useState("");
    const [format, setFormat] = useState<"gguf" | "npy">("gguf");
    if (vector == null)
        return null;
    const norms = vector.layers.map((layer) => vector.norms[layer] ?? 0);
    const maxNorm = Math.max(1e-9, ...norms);
    return (
        <>
            <tr className={shown ? "selected" : ""} data-testid="vector-row" data-vector-id={vector.id}>
                <td className="name-cell">
                    {mode === "rename"
                        ? (
                            <form className="input-row" onSubmit={(event) => {
                                event.preventDefault();
                                if (name.trim() !== "")
                                    void renameVector(vector.id, name.trim()).then(() => setMode("view"));
                            }}>
                                <input className="input small" autoFocus value={name} onChange={(event) => setName(event.target.value)}
                                    onKeyDown={(event) => {
                                        if (event.key === "Escape") {
                                            event.stopPropagation();
                                            setMode("view");
                                        }
                                    }} />
                                <button type="submit" className="button small primary">Save</button>
                            </form>
                        )
                        : <span className="vector-name" title={vector.id}>{vector.name}</span>}
                </td>
                <td className="mono">{formatLayers(vector.layers)}</td>
                <td className="norm-cell">
                    <span className="norm-spark" title={vector.layers.map((l, i) => `L${l}: ${norms[i]!.toFixed(3)}`).join("\n")}>
                        {norms.map((norm, i) => <span key={i} style={{ height: `${Math.max(8, (norm / maxNorm) * 100)}%` }} />)}
                    </span>
                    <span className="mono small muted norm-range"> {Math.min(...norms).toFixed(2)}–{maxNorm.toFixed(2)}</span>
                </td>
                <td className="source-cell">
                    <div>{vector.metadata.sourceDataset ?? <span className="muted">{vector.metadata.derivedFrom != null ? "combined" : "imported"}</span>}</div>
                    {vector.metadata.method != null && (
                        <div className="muted small">{vector.metadata.method}{vector.metadata.readAt != null && ` · ${vector.metadata.readAt}`}</div>
                    )}
                </td>
                <td className="small muted nowrap col-created">{formatDate(vector.metadata.createdAt)}</td>
                {/* icon buttons with their names as labels and tooltips: the row fits a 1440 px window with the build panel beside it */}
                <td className="actions-cell" data-testid="vector-actions">
                    {hasDiagnostics && (
                        <button type="button" className="icon-button" aria-label={`Chart of ${vector.name}`} title="Separation chart"
                            onClick={() => showBuild(vector.id)}><ChartIcon size={15} /></button>
                    )}
                    <button type="button" className={`icon-button ${mode === "rename" ? "active" : ""}`} aria-label={`Rename ${vector.name}`} title="Rename"
                        data-testid="vector-rename" onClick={() => {
                            setName(vector.name);
                            setMode(mode === "rename" ? "view" : "rename");
                        }}><PencilIcon size={15} /></button>
                    <button type="button" className={`icon-button ${mode === "export" ? "active" : ""}`} aria-label={`Export ${vector.name}`} title="Export"
                        data-testid="vector-export" onClick={() => setMode(mode === "export" ? "view" : "export")}><DownloadIcon size={15} /></button>
                    {mode === "delete"
                        ? <button type="button" className="button small danger" onClick={() => void deleteVector(vector.id)}>Confirm</button>
                        : <button type="button" className="icon-button" aria-label={`Delete ${vector.name}`} title="Delete" onClick={() => setMode("delete")}><TrashIcon size={15} /></button>}
                </td>
            </tr>
            {mode === "export" && (
                <tr className="sub-row">
                    <td colSpan={6}>
                        <form className="input-row" onSubmit={(event) => {
                            event.preventDefault();
                            if (exportPath.trim() !== "")
                                void exportVector(vector.id, exportPath.trim(), format).then((ok) => ok && setMode("view"));
                        }}>
                            <span className="muted small">Export to</span>
                            <input className="input mono grow small" placeholder={`/path/to/${vector.name.replace(/\W+/g, "_")}.${format}`} value={exportPath}
                                onChange={(event) => setExportPath(event.target.value)} />
                            <select className="input small" value={format} onChange={(event) => setFormat(event.target.value as "gguf" | "npy")}>
                                <option value="gguf">GGUF (control vector)</option>
                                <option value="npy">.npy (layers × width)</option>
                            </select>
                            <button type="submit" className="button small primary">Export</button>
                            <button type="button" className="button small" onClick={() => setMode("view")}>Cancel</button>
                        </form>
                    </td>
                </tr>
            )}
        </>
    );
});

function BrowseButton(props: { kind: "vector"; onPath(path: string): void }) {
    const open = window.tiller?.openFileDialog;
    if (open == null)
        return null;
    return (
        <button type="button" className="button small" onClick={() => {
            void open(props.kind).then((path) => path != null && props.onPath(path));
        }}><FolderIcon size={14} /> Browse…</button>
    );
}

function ImportPanel() {
    const [path, setPath] = useState("");
    const [busy, setBusy] = useState(false);
    return (
        <Panel title="Import">
            <form className="stack" onSubmit={(event) => {
                event.preventDefault();
                if (path.trim() === "")
                    return;
                setBusy(true);
                void importVector(path.trim()).then((ok) => {
                    setBusy(false);
                    if (ok)
                        setPath("");
                });
            }}>
                <Field label="Control-vector GGUF" hint="llama.cpp or repeng format">
                    <div className="input-row">
                        <input className="input mono grow" data-testid="import-path" placeholder="/path/to/vector.gguf" value={path} onChange={(event) => setPath(event.target.value)} />
                        <BrowseButton kind="vector" onPath={setPath} />
                    </div>
                </Field>
                <div className="button-row">
                    <button type="submit" className="button" disabled={busy || path.trim() === ""}>{busy ? <Spinner small /> : null} Import</button>
                </div>
            </form>
        </Panel>
    );
}

function CombinePanel() {
    const ids = useVectorStore((s) => s.ids);
    const byId = useVectorStore((s) => s.byId);
    const [terms, setTerms] = useState<{ id: string; weight: number }[]>([]);
    const [name, setName] = useState("");
    const available = ids.filter((id) => !terms.some((term) => term.id === id));
    const valid = terms.length > 0 && terms.every((term) => byId[term.id] != null && Number.isFinite(term.weight)) && name.trim() !== "";
    return (
        <Panel title="Combine">
            <div className="stack">
                {terms.length === 0 && <p className="muted small">A weighted sum of library vectors, e.g. happy − 0.5 × formal.</p>}
                {terms.map((term, i) => (
                    <div className="input-row" key={term.id}>
                        <NumberInput className="narrow" value={term.weight} ariaLabel="weight" onChange={(weight) => {
                            if (weight != null)
                                setTerms(terms.map((t, j) => (j === i ? { ...t, weight } : t)));
                        }} />
                        <span className="muted">×</span>
                        <span className="grow ellipsis">{byId[term.id]?.name ?? term.id}</span>
                        <button type="button" className="icon-button" aria-label="remove term" onClick={() => setTerms(terms.filter((_, j) => j !== i))}><TrashIcon size={14} /></button>
                    </div>
                ))}
                <div className="input-row">
                    <select className="input grow" value="" disabled={available.length === 0} onChange={(event) => {
                        if (event.target.value !== "")
                            setTerms([...terms, { id: event.target.value, weight: 1 }]);
                    }}>
                        <option value="">{available.length === 0 ? "no more vectors" : "add a vector…"}</option>
                        {available.map((id) => <option key={id} value={id}>{byId[id]?.name ?? id}</option>)}
                    </select>
                    <PlusIcon size={16} />
                </div>
                <div className="input-row">
                    <input className="input grow" placeholder="name of the new vector" value={name} onChange={(event) => setName(event.target.value)} />
                    <button type="button" className="button" disabled={!valid} onClick={() => {
                        void combineVectors(terms, name.trim()).then((ok) => {
                            if (ok) {
                                setTerms([]);
                                setName("");
                            }
                        });
                    }}>Combine</button>
                </div>
            </div>
        </Panel>
    );
}
