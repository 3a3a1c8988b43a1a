// Pure policy shared by the two engine supervisors (here because Electron main may import only
// engine/protocol). How long to wait before restarting a crashed engine: the one policy for both supervisors
// (`tiller serve`'s EngineProcessHost and Electron main). Crashes within a window count towards
// the back-off, so a model that crashes the engine at once does not restart it in a tight loop.

/** Restarts within this window count towards the back-off. */
export const CRASH_WINDOW_MS = 60_000;
export const FIRST_RESTART_DELAY_MS = 200;
export const MAX_RESTART_DELAY_MS = 10_000;

export class RestartBackoff {
    private recentCrashes: number[] = [];

    /** Records a crash at `now`; returns how long to wait before the restart (doubling per recent crash). */
    public delayAfterCrash(now = Date.now()): number {
        this.recentCrashes = [...this.recentCrashes.filter((at) => now - at < CRASH_WINDOW_MS), now];
        return Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** (this.recentCrashes.length - 1));
    }
}
