// The engine process's share of the CPU against other sessions on Linux.
//
// With autogroups (kernel.sched_autogroup_enabled = 1, the default of most distributions' kernels),
// the scheduler first divides the CPU fairly between sessions (each `setsid`), then between the
// threads of each session by their nice values. The decode thread's nice + 10 (decodePriority.ts)
// therefore only ranks it below threads of its own session. A browser the user started from the
// desktop, or Playwright's Chromium, is a session of its own: against it, `tiller serve`'s engine
// kept a full half of a 2-core machine however low its decode thread's nice value was, and the
// renderer waited for a core while the tokens streamed.
//
// So the engine process under `tiller serve` is started as a session of its own (engineChildLauncher
// forks it detached) and, when it decodes in the background, raises its session's nice value: the
// whole engine then yields to other sessions, and inside it the decode thread still yields to the
// JavaScript thread that streams the tokens. Raising a nice value needs no privilege.
//
// It lowers only a session the process leads: in any other session (the desktop app's utility
// process, a CLI command in the user's terminal) the same write would slow the user's shell and
// everything else started from it.
import fs from "node:fs";

/** The session nice value of an engine that decodes in the background (0 is normal, 19 the lowest). */
export const BACKGROUND_SESSION_NICE = 10;

export type SessionLowering =
    | { lowered: true; nice: number }
    /** `expected`: nothing to do here (not Linux, autogroups off, not a session leader); otherwise the write failed */
    | { lowered: false; expected: boolean; why: string };

/** Raises the nice value of this process's autogroup to `nice` when the process leads its own session. */
export function lowerOwnSessionPriority(nice: number = BACKGROUND_SESSION_NICE): SessionLowering {
    if (process.platform !== "linux")
        return { lowered: false, expected: true, why: "scheduling groups by session are Linux's" };
    if (readOrNull("/proc/sys/kernel/sched_autogroup_enabled")?.trim() !== "1")
        return { lowered: false, expected: true, why: "autogroups are off: nice values already weigh every thread of the machine" };
    if (sessionIdOf("self") !== process.pid)
        return { lowered: false, expected: true, why: "the process does not lead its own session: lowering would slow the whole session" };
    try {
        fs.writeFileSync("/proc/self/autogroup", String(nice));
        const now = /nice\s+(-?\d+)/.exec(fs.readFileSync("/proc/self/autogroup", "utf8"))?.[1];
        if (now == null || Number(now) !== nice)
            return { lowered: false, expected: false, why: `the session's nice value reads ${now ?? "nothing"} after writing ${nice}` };
        return { lowered: true, nice };
    } catch (error) {
        return { lowered: false, expected: false, why: (error as Error).message };
    }
}

/** The session id of process `pid` (field 6 of /proc/PID/stat), or null where it cannot be read. */
export function sessionIdOf(pid: number | "self"): number | null {
    const stat = readOrNull(`/proc/${pid}/stat`);
    if (stat == null)
        return null;
    // the fields after the command name in parentheses (which may itself hold spaces): state ppid pgrp session
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const session = Number(fields[3]);
    return Number.isSafeInteger(session) ? session : null;
}

function readOrNull(file: string): string | null {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return null;
    }
}
