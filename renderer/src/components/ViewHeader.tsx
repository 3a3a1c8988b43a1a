import type { ReactNode } from "react";

export function ViewHeader(props: { title: string; subtitle?: ReactNode; actions?: ReactNode }) {
    return (
        <header className="view-header">
            <div>
                <h1>{props.title}</h1>
                {props.subtitle != null && <p className="view-subtitle">{props.subtitle}</p>}
            </div>
            {props.actions != null && <div className="view-actions">{props.actions}</div>}
        </header>
    );
}
