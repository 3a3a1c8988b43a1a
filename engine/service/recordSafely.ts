// Recording is a by-product of the work, not its purpose: when the session cannot be written (a full
// disk, an I/O error) a finished vector build, sweep or detection is still returned to the client,
// and the failure is reported on the engine's stderr instead of discarding the result.

/** Runs `record`; a failure is logged and reported as false, never thrown. */
export async function recordSafely(what: string, record: () => Promise<unknown> | unknown): Promise<boolean> {
    try {
        await record();
        return true;
    } catch (error) {
        process.stderr.write(`tiller: could not record ${what} into the session: ${error instanceof Error ? error.message : String(error)}\n`);
        return false;
    }
}
