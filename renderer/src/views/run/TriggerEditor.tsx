// A patch's trigger: always on, on a projection (⟨h_layer, v̂⟩ of a condition vector crossing a
// threshold, released after N tokens or once back past threshold ∓ hysteresis, optionally on the
// mean of a window of tokens), or on a text match (plain or regular expression). Edits produce a
// TriggerSpec exactly as the contract takes it (triggerSpecSchema); null is "always".
import type { TriggerSpec } from "../../../../engine/protocol/EngineContract";
import { NumberInput } from "../../components/ui";

type ProjectionTrigger = Extract<TriggerSpec, { kind: "projection" }>;
type TextTrigger = Extract<TriggerSpec, { kind: "text" }>;

export function TriggerEditor(props: {
    trigger: TriggerSpec | null;
    onChange(trigger: TriggerSpec | null): void;
    vectorIds: readonly string[];
    vectorName(id: string): string;
    /** the condition vector a new projection trigger starts with */
    defaultVectorId: string;
    maxLayer: number;
}) {
    const { trigger } = props;
    const choose = (kind: "always" | "projection" | "text"): void => {
        if (kind === "always")
            props.onChange(null);
        else if (kind === "projection" && trigger?.kind !== "projection")
            props.onChange({ kind: "projection", vectorId: props.defaultVectorId, layer: Math.min(2, props.maxLayer), threshold: 0, when: "above" });
        else if (kind === "text" && trigger?.kind !== "text")
            props.onChange({ kind: "text", match: "happy" });
    };
    return (
        <div className="trigger-editor" data-testid="trigger-editor">
            <div className="input-row">
                <span className="field-label">when</span>
                <span className="segmented small" role="radiogroup" aria-label="trigger">
                    {(["always", "projection", "text"] as const).map((kind) => (
                        <button key={kind} type="button" role="radio" aria-checked={(trigger?.kind ?? "always") === kind}
                            className={(trigger?.kind ?? "always") === kind ? "active" : ""} data-testid={`trigger-kind-${kind}`} onClick={() => choose(kind)}>
                            {kind}
                        </button>
                    ))}
                </span>
            </div>
            {trigger?.kind === "projection" && <ProjectionFields {...props} trigger={trigger} />}
            {trigger?.kind === "text" && <TextFields trigger={trigger} onChange={props.onChange} />}
        </div>
    );
}

function ProjectionFields(props: { trigger: ProjectionTrigger; onChange(trigger: TriggerSpec): void; vectorIds: readonly string[]; vectorName(id: string): string; maxLayer: number }) {
    const { trigger } = props;
    const set = (change: Partial<ProjectionTrigger>): void => {
        const next: ProjectionTrigger = { ...trigger, ...change };
        // optional fields are left out rather than sent as undefined
        for (const key of ["holdTokens", "hysteresis", "window"] as const) {
            if (next[key] == null)
                delete next[key];
        }
        props.onChange(next);
    };
    const release = trigger.holdTokens != null ? "hold" : "hysteresis";
    return (
        <>
            <div className="input-row">
                <select className="input grow" value={trigger.vectorId} aria-label="condition vector" data-testid="trigger-vector" onChange={(event) => set({ vectorId: event.target.value })}>
                    {props.vectorIds.map((id) => <option key={id} value={id}>{props.vectorName(id)}</option>)}
                    {!props.vectorIds.includes(trigger.vectorId) && <option value={trigger.vectorId}>(missing) {trigger.vectorId}</option>}
                </select>
                <span className="muted small">@L</span>
                <NumberInput value={trigger.layer} integer min={0} max={props.maxLayer} ariaLabel="trigger layer" testId="trigger-layer"
                    onChange={(layer) => layer != null && set({ layer })} />
            </div>
            <div className="input-row">
                <span className="muted small">⟨h, v̂⟩</span>
                <span className="segmented small" role="radiogroup" aria-label="direction">
                    <button type="button" role="radio" aria-checked={trigger.when !== "below"} className={trigger.when !== "below" ? "active" : ""} data-testid="trigger-above"
                        onClick={() => set({ when: "above" })}>above</button>
                    <button type="button" role="radio" aria-checked={trigger.when === "below"} className={trigger.when === "below" ? "active" : ""} data-testid="trigger-below"
                        onClick={() => set({ when: "below" })}>below</button>
                </span>
                <NumberInput value={trigger.threshold} ariaLabel="threshold" testId="trigger-threshold" onChange={(threshold) => threshold != null && set({ threshold })} />
            </div>
            <div className="input-row">
                <span className="muted small">release</span>
                <span className="segmented small" role="radiogroup" aria-label="release">
                    <button type="button" role="radio" aria-checked={release === "hold"} className={release === "hold" ? "active" : ""} data-testid="trigger-release-hold"
                        onClick={() => set({ holdTokens: trigger.holdTokens ?? 8, hysteresis: undefined })}>after N tokens</button>
                    <button type="button" role="radio" aria-checked={release === "hysteresis"} className={release === "hysteresis" ? "active" : ""} data-testid="trigger-release-hysteresis"
                        onClick={() => set({ holdTokens: undefined })}>when it falls back</button>
                </span>
                {release === "hold"
                    ? <NumberInput value={trigger.holdTokens ?? 8} integer min={1} ariaLabel="hold tokens" testId="trigger-hold" onChange={(holdTokens) => holdTokens != null && set({ holdTokens })} />
                    : <NumberInput value={trigger.hysteresis ?? null} min={0} allowEmpty placeholder="0" ariaLabel="hysteresis" testId="trigger-hysteresis"
                        onChange={(hysteresis) => set({ hysteresis: hysteresis ?? undefined })} />}
            </div>
            <div className="input-row">
                <span className="muted small">mean over</span>
                <NumberInput value={trigger.window ?? null} integer min={1} max={256} allowEmpty placeholder="1" ariaLabel="window" testId="trigger-window"
                    onChange={(window) => set({ window: window ?? undefined })} />
                <span className="muted small">tokens (smooths noisy per-token projections)</span>
            </div>
        </>
    );
}

function TextFields(props: { trigger: TextTrigger; onChange(trigger: TriggerSpec): void }) {
    const { trigger } = props;
    const set = (change: Partial<TextTrigger>): void => {
        const next: TextTrigger = { ...trigger, ...change };
        if (next.holdTokens == null)
            delete next.holdTokens;
        if (next.regex !== true)
            delete next.regex;
        props.onChange(next);
    };
    const invalidRegex = trigger.regex === true && !isValidRegex(trigger.match);
    return (
        <>
            <div className="input-row">
                <input className={`input grow mono ${trigger.match === "" || invalidRegex ? "invalid" : ""}`} value={trigger.match} aria-label="text to match" data-testid="trigger-match"
                    aria-invalid={trigger.match === "" || invalidRegex} onChange={(event) => set({ match: event.target.value })} />
                <label className="input-row small">
                    <input type="checkbox" checked={trigger.regex === true} data-testid="trigger-regex" onChange={(event) => set({ regex: event.target.checked })} /> regex
                </label>
            </div>
            {invalidRegex && <span className="field-hint bad">not a valid regular expression</span>}
            <div className="input-row">
                <span className="muted small">then for</span>
                <NumberInput value={trigger.holdTokens ?? null} integer min={1} allowEmpty placeholder="the rest" ariaLabel="hold tokens" testId="trigger-text-hold"
                    onChange={(holdTokens) => set({ holdTokens: holdTokens ?? undefined })} />
                <span className="muted small">tokens</span>
            </div>
        </>
    );
}

function isValidRegex(source: string): boolean {
    try {
        new RegExp(source);
        return true;
    } catch {
        return false;
    }
}
