// A session being recorded carries `recording.lock` (the writer's pid) until its writer closes.
// Electron and `tiller serve` may share one data folder (~/.tiller): the lock is how one process
// knows that a session is live in another and must not be deleted under it. A lock whose process
// is gone (a crash, a kill) is stale and ignored, so a killed recorder never pins its session; so is
// a lock copied along with its folder (it names the folder it was made in).
import fs from "node:fs";
import path from "node:path";

const LOCK_FILE = "recording.lock";

/** Marks `folder` as recorded by this process (the file is created exclusively). */
export function claimRecording(folder: string): void {
    fs.writeFileSync(path.join(folder, LOCK_FILE), JSON.stringify({ pid: process.pid, folder: path.resolve(folder), since: new Date().toISOString() }) + "\n", { flag: "wx" });
}

export function releaseRecording(folder: string): void {
    fs.rmSync(path.join(folder, LOCK_FILE), { force: true });
}

/** The pid of the live process recording into `folder`, or null when none is (no lock, or a stale one). */
export function recordingProcess(folder: string): number | null {
    let lock: { pid?: unknown; folder?: unknown };
    try {
        lock = JSON.parse(fs.readFileSync(path.join(folder, LOCK_FILE), "utf8")) as typeof lock;
    } catch {
        return null; // no lock, or one cut short before its pid was written
    }
    const pid = lock.pid;
    if (typeof pid !== "number" || !Number.isInteger(pid) || pid <= 0 || lock.folder !== path.resolve(folder))
        return null;
    return processIsAlive(pid) ? pid : null;
}

function processIsAlive(pid: number): boolean {
    try {
        process.kill(pid, 0); // signal 0: a permission check only, nothing is sent
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, owned by another user
    }
}
