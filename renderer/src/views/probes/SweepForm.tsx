// The sweep's inputs: the text (typed, or the Run view's last run), the vector, the layer range,
// the α grid and α₀, and whether to compute χ per layer; with the progress bar while it runs.
import { useEffect } from "react";
import { Field, NumberInput, Panel, ProgressBar } from "../../components/ui";
import { useModelStore } from "../../state/modelStore";
import { alphaGrid, selectLastRunId, useProbeStore } from "../../state/probeStore";
import { useRunStore } from "../../state/runStore";
import { useVectorStore } from "../../state/vectorStore";

export function SweepForm() {
    const form = useProbeStore((s) => s.form);
    const setForm = useProbeStore((s) => s.setForm);
    const progress = useProbeStore((s) => s.progress);
    const ids = useVectorStore((s) => s.ids);
    const byId = useVectorStore((s) => s.byId);
    const nLayer = useModelStore((s) => s.model?.shape.nLayer ?? 0);
    const runId = useRunStore(selectLastRunId);
    const vector = byId[form.vectorId];

    // a vector is needed: take the first of the library until the user picks one
    useEffect(() => {
        if ((form.vectorId === "" || byId[form.vectorId] == null) && ids.length > 0)
            setForm({ vectorId: ids[0]! });
    }, [form.vectorId, ids, byId, setForm]);

    const grid = alphaGrid(form);
    const maxLayer = Math.max(1, nLayer - 1);
    return (
        <Panel title="Susceptibility sweep" testId="sweep-form">
            <div className="input-row">
                <div className="segmented" role="radiogroup" aria-label="text to measure">
                    <button type="button" role="radio" aria-checked={form.source === "typed"} className={form.source === "typed" ? "active" : ""}
                        data-testid="sweep-source-typed" onClick={() => setForm({ source: "typed" })}>Typed text</button>
                    <button type="button" role="radio" aria-checked={form.source === "lastRun"} className={form.source === "lastRun" ? "active" : ""}
                        data-testid="sweep-source-run" disabled={runId == null} title={runId == null ? "no finished run yet" : "the Run view's last run"}
                        onClick={() => setForm({ source: "lastRun" })}>Use last run</button>
                </div>
            </div>
            {form.source === "typed"
                ? (
                    <>
                        <Field label="Prompt" hint="decoded once, unsteered">
                            <textarea className="input mono" rows={2} value={form.prompt} data-testid="sweep-prompt" onChange={(event) => setForm({ prompt: event.target.value })} />
                        </Field>
                        <Field label="Completion" hint="its tokens are measured (teacher-forced)">
                            <textarea className="input mono" rows={2} value={form.completion} data-testid="sweep-completion" onChange={(event) => setForm({ completion: event.target.value })} />
                        </Field>
                    </>
                )
                : <p className="muted small">{runId != null ? "The prompt and the generated text of the Run view's last run." : "No finished run: generate one in Run first."}</p>}
            <Field label="Vector">
                <select className="input" value={form.vectorId} data-testid="sweep-vector" onChange={(event) => setForm({ vectorId: event.target.value })}>
                    {ids.length === 0 && <option value="">build or import a vector first</option>}
                    {ids.map((id) => <option key={id} value={id}>{byId[id]?.name ?? id}</option>)}
                </select>
            </Field>
            <div className="field-grid">
                <Field label="Layers" hint={vector != null ? `vector has L${vector.layers[0] ?? "?"}–${vector.layers.at(-1) ?? "?"}` : undefined}>
                    <div className="input-row">
                        <NumberInput value={form.layerFirst} integer min={1} max={maxLayer} allowEmpty placeholder="all" ariaLabel="first layer" testId="sweep-layer-first"
                            onChange={(layerFirst) => setForm({ layerFirst, layerLast: layerFirst == null ? null : form.layerLast ?? layerFirst })} />
                        <span className="muted">–</span>
                        <NumberInput value={form.layerLast} integer min={1} max={maxLayer} allowEmpty placeholder="all" ariaLabel="last layer" testId="sweep-layer-last"
                            onChange={(layerLast) => setForm({ layerLast, layerFirst: layerLast == null ? null : form.layerFirst ?? layerLast })} />
                    </div>
                </Field>
                <Field label="α grid" hint={`${grid.length} strengths: ${grid.slice(0, 5).map((a) => a.toFixed(2)).join(", ")}${grid.length > 5 ? " …" : ""}`}>
                    <div className="input-row">
                        <NumberInput value={form.alphaFrom} ariaLabel="α from" testId="sweep-alpha-from" onChange={(value) => value != null && setForm({ alphaFrom: value })} />
                        <span className="muted">to</span>
                        <NumberInput value={form.alphaTo} ariaLabel="α to" testId="sweep-alpha-to" onChange={(value) => value != null && setForm({ alphaTo: value })} />
                        <span className="muted">×</span>
                        <NumberInput value={form.alphaCount} integer min={1} max={201} ariaLabel="α count" testId="sweep-alpha-count" onChange={(value) => value != null && setForm({ alphaCount: value })} />
                    </div>
                </Field>
                <Field label="α₀" hint="where χ, curvature and ∂H/∂α are taken">
                    <NumberInput value={form.alpha0} ariaLabel="α₀" testId="sweep-alpha0" onChange={(value) => value != null && setForm({ alpha0: value })} />
                </Field>
                <Field label="Steer from token" hint="which run χ is the slope of: 0 steers from the prompt on, K from generated token K">
                    <NumberInput value={form.fromToken} integer min={0} ariaLabel="steer from token" testId="sweep-from-token" onChange={(value) => value != null && setForm({ fromToken: value })} />
                </Field>
            </div>
            <label className="input-row small">
                <input type="checkbox" checked={form.perLayer} data-testid="sweep-per-layer" onChange={(event) => setForm({ perLayer: event.target.checked })} />
                per layer (χ at one layer at a time: the tokens × layers heatmap; two more decodes per layer)
            </label>
            {progress != null && (
                <ProgressBar testId="probe-progress" done={progress.done} total={progress.total} indeterminate={progress.total === 0}
                    label={progress.kind === "sweep" ? `sweeping (${progress.label})` : `detecting (${progress.label})`} />
            )}
        </Panel>
    );
}
