// Small building blocks shared by the views: panels, fields, number inputs, progress, keys.
import { useEffect, useState, type ReactNode } from "react";

export function Panel(props: { title: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; testId?: string }) {
    return (
        <section className={`panel ${props.className ?? ""}`} data-testid={props.testId}>
            <header className="panel-header">
                <h2 className="panel-title">{props.title}</h2>
                {props.actions != null && <div className="panel-actions">{props.actions}</div>}
            </header>
            <div className="panel-body">{props.children}</div>
        </section>
    );
}

export function Field(props: { label: ReactNode; hint?: ReactNode; children: ReactNode; className?: string }) {
    return (
        <label className={`field ${props.className ?? ""}`}>
            <span className="field-label">{props.label}</span>
            {props.children}
            {props.hint != null && <span className="field-hint">{props.hint}</span>}
        </label>
    );
}

/**
 * A number input that keeps what is typed (a lone "-" or "0.") and reports only valid numbers.
 * `value === null` shows empty; with `allowEmpty` an empty box reports null.
 */
export function NumberInput(props: {
    value: number | null;
    onChange(value: number | null): void;
    min?: number;
    max?: number;
    step?: number;
    integer?: boolean;
    allowEmpty?: boolean;
    placeholder?: string;
    testId?: string;
    className?: string;
    disabled?: boolean;
    ariaLabel?: string;
}) {
    const [text, setText] = useState(props.value == null ? "" : String(props.value));
    useEffect(() => {
        setText((current) => {
            const parsed = current.trim() === "" ? null : Number(current);
            return parsed === props.value ? current : props.value == null ? "" : String(props.value);
        });
    }, [props.value]);
    const commit = (raw: string): void => {
        setText(raw);
        if (raw.trim() === "") {
            if (props.allowEmpty)
                props.onChange(null);
            return;
        }
        const value = Number(raw);
        if (!Number.isFinite(value) || (props.integer && !Number.isInteger(value)))
            return;
        if ((props.min != null && value < props.min) || (props.max != null && value > props.max))
            return;
        props.onChange(value);
    };
    const parsed = text.trim() === "" ? null : Number(text);
    const invalid = text.trim() !== "" && (parsed == null || !Number.isFinite(parsed) || (props.integer === true && !Number.isInteger(parsed))
        || (props.min != null && parsed < props.min) || (props.max != null && parsed > props.max));
    return (
        <input
            className={`input number ${invalid ? "invalid" : ""} ${props.className ?? ""}`}
            type="text"
            inputMode="decimal"
            value={text}
            placeholder={props.placeholder}
            data-testid={props.testId}
            aria-label={props.ariaLabel}
            aria-invalid={invalid}
            disabled={props.disabled}
            onChange={(event) => commit(event.target.value)}
            onBlur={() => {
                if (invalid || (text.trim() === "" && !props.allowEmpty))
                    setText(props.value == null ? "" : String(props.value));
            }}
        />
    );
}

export function ProgressBar(props: { done: number; total: number; label?: string; testId?: string; indeterminate?: boolean }) {
    const fraction = props.total > 0 ? Math.min(1, props.done / props.total) : 0;
    return (
        <div className="progress" data-testid={props.testId} data-done={props.done} data-total={props.total}
            role="progressbar" aria-valuemin={0} aria-valuemax={props.total} aria-valuenow={props.done}>
            <div className={`progress-track ${props.indeterminate ? "indeterminate" : ""}`}>
                <div className="progress-fill" style={{ width: props.indeterminate ? undefined : `${fraction * 100}%` }} />
            </div>
            {props.label != null && (
                <div className="progress-label">
                    <span>{props.label}</span>
                    {props.total > 0 && <span className="muted">{props.done} / {props.total}</span>}
                </div>
            )}
        </div>
    );
}

export function Spinner(props: { small?: boolean }) {
    return <span className={`spinner ${props.small ? "small" : ""}`} aria-hidden="true" />;
}

export function Kbd(props: { children: ReactNode }) {
    return <kbd className="kbd">{props.children}</kbd>;
}

export const isMac = typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);
export const modKey = isMac ? "⌘" : "Ctrl";

export function EmptyState(props: { icon?: ReactNode; title: ReactNode; children?: ReactNode; action?: ReactNode; testId?: string }) {
    return (
        <div className="empty-state" data-testid={props.testId}>
            {props.icon != null && <div className="empty-icon">{props.icon}</div>}
            <h3>{props.title}</h3>
            {props.children != null && <p className="muted">{props.children}</p>}
            {props.action}
        </div>
    );
}

export function Stat(props: { label: ReactNode; value: ReactNode; mono?: boolean }) {
    return (
        <div className="stat">
            <span className="stat-label">{props.label}</span>
            <span className={`stat-value ${props.mono ? "mono" : ""}`}>{props.value}</span>
        </div>
    );
}
