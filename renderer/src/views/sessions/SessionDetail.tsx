// The opened session: what it was recorded with, Replay (identical, or the first divergence per
// run) and Export (a folder or a zip on the engine's machine), then its runs as read-only strips
// and its vector builds as separation charts. All of it comes from the session's files.
import { useShallow } from "zustand/react/shallow";
import { EmptyState, Field, Panel, ProgressBar, Spinner, Stat } from "../../components/ui";
import { formatBytes, formatDate } from "../../lib/format";
import { useConnectionStore } from "../../state/connectionStore";
import { closeSession, exportOpenedSession, replaySession, setExportForm, useSessionStore } from "../../state/sessionStore";
import { SeparationChart } from "../SeparationChart";
import { RecordedRunCard } from "./RecordedRunCard";

export function SessionDetail() {
    const { opened, opening } = useSessionStore(useShallow((s) => ({ opened: s.opened, opening: s.opening })));
    if (opened == null) {
        return (
            <Panel title="Session" className="session-detail-panel">
                {opening
                    ? <div className="muted"><Spinner small /> Opening…</div>
                    : <EmptyState testId="no-session" title="No session open">Open a session on the left to see its runs and plots.</EmptyState>}
            </Panel>
        );
    }
    return (
        <div className="session-detail stack" data-testid="session-detail" data-session-id={opened.id}>
            <Panel title={<span data-testid="session-title">{opened.name}</span>} actions={<button type="button" className="button small ghost" onClick={closeSession}>Close</button>}>
                <div className="stat-grid">
                    <Stat label="Model" value={opened.model?.fileName ?? "—"} />
                    <Stat label="Model size" value={opened.model != null ? formatBytes(opened.model.sizeBytes) : "—"} />
                    <Stat label="Model sha256" value={<span title={opened.model?.sha256}>{opened.model?.sha256.slice(0, 12) ?? "—"}…</span>} mono />
                    <Stat label="Created" value={formatDate(opened.createdAt)} />
                    <Stat label="Runs" value={opened.runs.length} />
                    <Stat label="Vector builds" value={opened.vectorBuilds.length} />
                </div>
                {opened.recording && <p className="muted small">The engine is still recording into this session (its model is loaded); reopen it to see later runs.</p>}
                {opened.problems.length > 0 && (
                    <p className="small warning-text" data-testid="session-problems">
                        {opened.problems.length} unreadable line(s), e.g. line {opened.problems[0]!.line}: {opened.problems[0]!.message}. Everything before them is shown.
                    </p>
                )}
                <div className="divider" />
                <div className="session-tools">
                    <ReplayTool />
                    <ExportTool />
                </div>
            </Panel>
            {opened.runs.length === 0 && <Panel title="Runs"><p className="muted small">This session has no runs.</p></Panel>}
            {opened.runs.map((run, index) => <RecordedRunCard key={run.runId} run={run} index={index} />)}
            {opened.vectorBuilds.map((build, index) => (
                <Panel key={`${build.at}-${index}`} title={`Vector build ${index + 1}: ${build.dataset} (${build.method}, read at ${build.readAt})`} testId="session-build">
                    <SeparationChart result={{ diagnostics: build.diagnostics, bestLayer: build.bestLayer, elapsedMs: Number.NaN, vectorId: "", vectorName: build.dataset }} />
                </Panel>
            ))}
        </div>
    );
}

function ReplayTool() {
    const { replay, opened } = useSessionStore(useShallow((s) => ({ replay: s.replay, opened: s.opened })));
    const connected = useConnectionStore((s) => s.state === "connected");
    const results = replay?.results != null ? Object.values(replay.results) : [];
    const identical = results.length > 0 && results.every((run) => run.identical);
    return (
        <div className="session-tool">
            <div className="session-tool-head">
                <button type="button" className="button primary" data-testid="session-replay" disabled={!connected || replay?.busy === true || opened == null || opened.runs.length === 0}
                    onClick={() => void replaySession()}>
                    {replay?.busy === true ? <><Spinner small /> Replaying…</> : "Replay all runs"}
                </button>
                <span className="muted small">Re-runs each run with the same model, seed, settings and patches (and mid-run changes at the same tokens); loads the session's model if needed.</span>
            </div>
            {replay?.busy === true && <ProgressBar done={replay.done} total={replay.total} label={replay.label} testId="replay-progress" />}
            {replay?.busy === false && results.length > 0 && (
                <div className={`replay-verdict ${identical ? "ok" : "bad"}`} data-testid="replay-result" data-identical={identical}>
                    {identical
                        ? <>Identical: {results.length} run(s) reproduced token for token.</>
                        : <>Diverged: {results.filter((run) => !run.identical).length} of {results.length} run(s) differ; see the first divergence under each run.</>}
                    {replay.loadedModel && <span className="muted small"> The replay loaded {replay.modelPath}.</span>}
                </div>
            )}
        </div>
    );
}

function ExportTool() {
    const { form, exporting, exported } = useSessionStore(useShallow((s) => ({ form: s.exportForm, exporting: s.exporting, exported: s.exported })));
    const connected = useConnectionStore((s) => s.state === "connected");
    return (
        <form className="session-tool" onSubmit={(event) => {
            event.preventDefault();
            void exportOpenedSession();
        }}>
            <Field label="Export to" hint={form.format === "zip" ? "an absolute path ending in .zip, on the engine's machine" : "a new (or empty) folder: an absolute path on the engine's machine"}>
                <div className="input-row">
                    <input className="input mono grow" data-testid="session-export-path" value={form.path} spellCheck={false}
                        placeholder={form.format === "zip" ? "/path/to/session.zip" : "/path/to/new-folder"} onChange={(event) => setExportForm({ path: event.target.value })} />
                    <select className="input" data-testid="session-export-format" value={form.format} aria-label="Export format"
                        onChange={(event) => setExportForm({ format: event.target.value === "zip" ? "zip" : "folder" })}>
                        <option value="folder">folder</option>
                        <option value="zip">zip</option>
                    </select>
                    <button type="submit" className="button" data-testid="session-export" disabled={!connected || exporting || form.path.trim() === ""}>
                        {exporting ? <><Spinner small /> Exporting…</> : "Export"}
                    </button>
                </div>
            </Field>
            {exported != null && (
                <p className="small" data-testid="session-exported">Exported {exported.files} files (CSV, .npy, JSON and a README) to <span className="mono">{exported.path}</span></p>
            )}
        </form>
    );
}
