// The patch set: each patch is a library vector × strength on a layer range for a token window.
// Edits during a run reach the engine (debounced) and act from the next token. A patch may carry a
// trigger (TriggerEditor): it then acts only while its condition holds.
import { memo } from "react";
import { PlusIcon, TrashIcon } from "../../components/icons";
import { NumberInput, Panel } from "../../components/ui";
import { useModelStore } from "../../state/modelStore";
import { useRunStore } from "../../state/runStore";
import { useVectorStore } from "../../state/vectorStore";
import { TriggerEditor } from "./TriggerEditor";

export function PatchEditor() {
    const patchIds = useRunStore((s) => s.patchIds);
    const addPatch = useRunStore((s) => s.addPatch);
    const live = useRunStore((s) => s.status === "running");
    const hasVectors = useVectorStore((s) => s.ids.length > 0);
    return (
        <Panel title={<>Patches {live && <span className="pill live">live</span>}</>} className="patch-panel"
            actions={<button type="button" className="button small" data-testid="patch-add" disabled={!hasVectors} onClick={addPatch}><PlusIcon size={14} /> Add patch</button>}>
            {patchIds.length === 0
                ? <p className="muted small">{hasVectors ? "No patches: the run is unsteered. Add one to push the residual stream along a vector." : "Build or import a vector first (Vectors)."}</p>
                : <div className="patch-rows">{patchIds.map((id) => <PatchRow key={id} id={id} />)}</div>}
            {live && <p className="muted small live-hint">Changes act from the next token.</p>}
        </Panel>
    );
}

const PatchRow = memo(function PatchRow(props: { id: string }) {
    const patch = useRunStore((s) => s.patchById[props.id]);
    const update = useRunStore((s) => s.updatePatch);
    const remove = useRunStore((s) => s.removePatch);
    const ids = useVectorStore((s) => s.ids);
    const byId = useVectorStore((s) => s.byId);
    const nLayer = useModelStore((s) => s.model?.shape.nLayer ?? 0);
    if (patch == null)
        return null;
    const vector = byId[patch.vectorId];
    const maxLayer = Math.max(1, nLayer - 1);
    const set = (change: Partial<typeof patch>): void => update(patch.id, change);
    return (
        <div className={`patch-row ${patch.enabled ? "" : "disabled"}`} data-testid="patch-row">
            <div className="patch-row-head">
                <label className="switch" title={patch.enabled ? "switch off" : "switch on"}>
                    <input type="checkbox" checked={patch.enabled} data-testid="patch-enabled" onChange={(event) => set({ enabled: event.target.checked })} />
                    <span />
                </label>
                <select className="input grow" data-testid="patch-vector" value={patch.vectorId} onChange={(event) => set({ vectorId: event.target.value })}>
                    {patch.vectorId === "" && <option value="">choose a vector…</option>}
                    {ids.map((id) => <option key={id} value={id}>{byId[id]?.name ?? id}</option>)}
                    {patch.vectorId !== "" && vector == null && <option value={patch.vectorId}>(missing) {patch.vectorId}</option>}
                </select>
                <button type="button" className="icon-button" aria-label="remove patch" onClick={() => remove(patch.id)}><TrashIcon size={15} /></button>
            </div>
            <div className="strength">
                <span className="field-label">α</span>
                <input type="range" className="slider" min={-10} max={10} step={0.1} value={Math.max(-10, Math.min(10, patch.strength))}
                    data-testid="patch-strength-slider" aria-label="strength"
                    onChange={(event) => set({ strength: Number(event.target.value) })}
                    onDoubleClick={() => set({ strength: 0 })} />
                <NumberInput className="strength-input" value={patch.strength} testId="patch-strength" ariaLabel="strength value"
                    onChange={(value) => value != null && set({ strength: value })} />
            </div>
            <div className="patch-grid">
                <label className="mini-field">
                    <span>layers</span>
                    <NumberInput value={patch.layerFirst} integer min={1} max={maxLayer} allowEmpty placeholder="all" ariaLabel="first layer"
                        testId="patch-layer-first" onChange={(layerFirst) => set({ layerFirst, layerLast: layerFirst == null ? null : patch.layerLast ?? layerFirst })} />
                    <span className="muted">–</span>
                    <NumberInput value={patch.layerLast} integer min={1} max={maxLayer} allowEmpty placeholder="all" ariaLabel="last layer"
                        testId="patch-layer-last" onChange={(layerLast) => set({ layerLast, layerFirst: layerLast == null ? null : patch.layerFirst ?? layerLast })} />
                </label>
                <label className="mini-field">
                    <span>tokens</span>
                    <NumberInput value={patch.fromToken} integer min={0} allowEmpty placeholder="0" ariaLabel="from token" testId="patch-from"
                        onChange={(fromToken) => set({ fromToken })} />
                    <span className="muted">…</span>
                    <NumberInput value={patch.untilToken} integer min={1} allowEmpty placeholder="end" ariaLabel="until token" testId="patch-until"
                        onChange={(untilToken) => set({ untilToken })} />
                </label>
            </div>
            <TriggerEditor trigger={patch.trigger} onChange={(trigger) => set({ trigger })} vectorIds={ids} vectorName={(id) => byId[id]?.name ?? id}
                defaultVectorId={patch.vectorId !== "" ? patch.vectorId : ids[0] ?? ""} maxLayer={maxLayer} />
            {vector != null && (
                <div className="muted tiny">
                    ‖v‖ at its layers: {vector.layers.slice(0, 6).map((l) => `${(vector.norms[l] ?? 0).toFixed(2)}`).join(" ")}{vector.layers.length > 6 ? " …" : ""}
                    {" "}· α scales the vector as stored
                </div>
            )}
        </div>
    );
});
