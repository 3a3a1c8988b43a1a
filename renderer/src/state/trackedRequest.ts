// One cancellable engine request at a time for a page (Probes, Forensics), its progress shown in
// that page's store: start, progress updates, the failure reported unless the user cancelled, cancel.
import type { EngineMethod, EngineParams, EngineResult } from "../../../engine/protocol/EngineContract";
import { getEngineClient } from "../engineClient/getEngineClient";
import { reportError } from "./notificationStore";

export interface RequestProgress<Kind extends string> {
    kind: Kind;
    done: number;
    total: number;
    label: string;
}

export class TrackedRequest<Kind extends string> {
    private abort: AbortController | null = null;

    public constructor(private readonly showProgress: (progress: RequestProgress<Kind> | null) => void) {}

    /** The result, or undefined when the request failed (reported as `failure`) or was cancelled. */
    public async run<M extends EngineMethod>(kind: Kind, method: M, params: EngineParams<M>, failure: string, total = 0): Promise<EngineResult<M> | undefined> {
        const abort = new AbortController();
        this.abort = abort;
        this.showProgress({ kind, done: 0, total, label: "starting" });
        try {
            return await getEngineClient().request(method, params, {
                signal: abort.signal,
                onProgress: (update) => this.showProgress({ kind, done: update.done, total: update.total, label: update.label })
            });
        } catch (error) {
            if (!abort.signal.aborted)
                reportError(error, failure);
            return undefined;
        } finally {
            this.abort = null;
            this.showProgress(null);
        }
    }

    public cancel(): void {
        this.abort?.abort();
    }
}
