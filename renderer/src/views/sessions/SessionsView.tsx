// Sessions: every run and vector build the engine recorded, by session. Search, rename and delete
// them; open one to see its strips and separation charts without a model; replay or export it.
import { useEffect, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { SessionSummaryInfo } from "../../../../engine/protocol/sessions";
import { TrashIcon } from "../../components/icons";
import { ViewHeader } from "../../components/ViewHeader";
import { EmptyState, Panel, Spinner, modKey } from "../../components/ui";
import { formatDate } from "../../lib/format";
import { useConnectionStore } from "../../state/connectionStore";
import { deleteSession, openSession, refreshSessions, renameSession, useSessionStore } from "../../state/sessionStore";
import { SessionDetail } from "./SessionDetail";

export function SessionsView() {
    const connected = useConnectionStore((s) => s.state === "connected");
    useEffect(() => {
        if (connected)
            void refreshSessions();
    }, [connected]);
    return (
        <div className="view">
            <ViewHeader title="Sessions" subtitle={<>Every run and vector build is recorded. Reopen, replay or export them; no model needed to look. <span className="muted">({modKey}+Shift+S)</span></>} />
            <div className="view-body sessions-grid">
                <SessionListPanel />
                <SessionDetail />
            </div>
        </div>
    );
}

function SessionListPanel() {
    const { sessions, search, listing, openedId } = useSessionStore(useShallow((s) => ({ sessions: s.sessions, search: s.search, listing: s.listing, openedId: s.openedId })));
    return (
        <Panel title={<>Sessions {listing && <Spinner small />}</>} className="sessions-list-panel" testId="sessions-list">
            <input className="input" type="search" data-testid="sessions-search" placeholder="Search name, id or model" value={search}
                onChange={(event) => void refreshSessions(event.target.value)} />
            {sessions.length === 0
                ? <EmptyState title={search.trim() !== "" ? "No session matches" : "No sessions yet"}>
                    {search.trim() !== "" ? "Try another name, id or model file." : "Load a model and generate: the run is recorded into a session."}
                </EmptyState>
                : (
                    <ul className="sessions-list">
                        {sessions.map((session) => <SessionRow key={session.id} session={session} opened={session.id === openedId} />)}
                    </ul>
                )}
        </Panel>
    );
}

function SessionRow(props: { session: SessionSummaryInfo; opened: boolean }) {
    const { session } = props;
    const [editing, setEditing] = useState<string | null>(null);
    const [confirming, setConfirming] = useState(false);
    return (
        <li className={`session-row ${props.opened ? "current" : ""}`} data-testid="session-row" data-session-id={session.id}>
            {editing != null
                ? (
                    <form className="input-row grow" onSubmit={(event) => {
                        event.preventDefault();
                        void renameSession(session.id, editing).then((ok) => {
                            if (ok)
                                setEditing(null);
                        });
                    }}>
                        <input className="input grow" data-testid="session-name-input" value={editing} autoFocus aria-label="Session name"
                            onChange={(event) => setEditing(event.target.value)} onKeyDown={(event) => {
                                if (event.key === "Escape")
                                    setEditing(null);
                            }} />
                        <button type="submit" className="button small primary" data-testid="session-rename-save" disabled={editing.trim() === ""}>Save</button>
                    </form>
                )
                : (
                    <button type="button" className="session-open" data-testid="session-open" onClick={() => void openSession(session.id)} title={session.id}>
                        <span className="session-name" data-testid="session-name">{session.name}</span>
                        <span className="session-sub muted small">{session.model ?? "no model"} · {session.runs} run{session.runs === 1 ? "" : "s"} · {formatDate(session.createdAt)}</span>
                    </button>
                )}
            <div className="session-actions">
                {editing == null && !confirming && (
                    <button type="button" className="button small ghost" data-testid="session-rename" onClick={() => setEditing(session.name)}>Rename</button>
                )}
                {confirming
                    ? <>
                        <button type="button" className="button small danger" data-testid="session-delete-confirm" onClick={() => void deleteSession(session.id)}>Delete for good</button>
                        <button type="button" className="button small ghost" onClick={() => setConfirming(false)}>Keep</button>
                    </>
                    : editing == null && (
                        <button type="button" className="icon-button" data-testid="session-delete" aria-label={`Delete ${session.name}`} onClick={() => setConfirming(true)}>
                            <TrashIcon size={14} />
                        </button>
                    )}
            </div>
        </li>
    );
}
