// Fault injection for the session and library writers: a full disk (ENOSPC), an I/O error (EIO) and
// short writes, injected at the file-system calls the writers make (fs.writeSync on a session's
// events.jsonl, fs.promises.open for the library's atomic writes). Nothing else is touched, and
// `restore` puts the real calls back.
import fs from "node:fs";
import fsp from "node:fs/promises";
import { vi } from "vitest";

export function errnoError(code: "ENOSPC" | "EIO", syscall: string): NodeJS.ErrnoException {
    const message = code === "ENOSPC" ? "no space left on device" : "i/o error";
    return Object.assign(new Error(`${code}: ${message}, ${syscall}`), { code, syscall, errno: code === "ENOSPC" ? -28 : -5 });
}

export type EventsFault =
    | { kind: "none" }
    /** every write moves at most `maxBytes` bytes (the writer must continue the rest) */
    | { kind: "short"; maxBytes: number }
    /** after `okWrites` good writes, each write moves `partialBytes` bytes and throws `code`; with `truncateFails`, so does ftruncate */
    | { kind: "fail"; code: "ENOSPC" | "EIO"; okWrites: number; partialBytes: number; truncateFails?: boolean; times?: number };

/** Faults on the events.jsonl files of sessions created while installed. */
export class EventsFileFaults {
    public fault: EventsFault = { kind: "none" };
    /** how many writes failed (or were cut short) on purpose */
    public injected = 0;
    private readonly fds = new Set<number>();
    private writes = 0;
    private readonly spies: { mockRestore(): void }[] = [];

    public install(): this {
        const realOpen = fs.openSync.bind(fs);
        const realWrite = fs.writeSync.bind(fs) as (...args: unknown[]) => number;
        const realTruncate = fs.ftruncateSync.bind(fs);
        this.spies.push(vi.spyOn(fs, "openSync").mockImplementation(((file: fs.PathLike, ...rest: unknown[]) => {
            const fd = (realOpen as (...args: unknown[]) => number)(file, ...rest);
            if (String(file).endsWith("events.jsonl"))
                this.fds.add(fd);
            return fd;
        }) as typeof fs.openSync));
        this.spies.push(vi.spyOn(fs, "writeSync").mockImplementation(((fd: number, buffer: unknown, ...rest: unknown[]) => {
            if (!this.fds.has(fd) || !(buffer instanceof Uint8Array))
                return realWrite(fd, buffer, ...rest);
            const offset = (rest[0] as number | undefined) ?? 0;
            const length = (rest[1] as number | undefined) ?? buffer.length - offset;
            const fault = this.fault;
            if (fault.kind === "short" && length > fault.maxBytes) {
                this.injected++;
                return realWrite(fd, buffer, offset, fault.maxBytes);
            }
            if (fault.kind === "fail" && this.writes++ >= fault.okWrites && (fault.times ?? Infinity) > 0) {
                if (fault.times != null)
                    fault.times--;
                this.injected++;
                if (fault.partialBytes > 0)
                    realWrite(fd, buffer, offset, Math.min(fault.partialBytes, length));
                throw errnoError(fault.code, "write");
            }
            return realWrite(fd, buffer, offset, length);
        }) as typeof fs.writeSync));
        this.spies.push(vi.spyOn(fs, "ftruncateSync").mockImplementation(((fd: number, length?: number) => {
            if (this.fds.has(fd) && this.fault.kind === "fail" && this.fault.truncateFails === true)
                throw errnoError(this.fault.code, "ftruncate");
            return realTruncate(fd, length);
        }) as typeof fs.ftruncateSync));
        return this;
    }

    /** Sets the next fault; the count of good writes starts again from zero. */
    public set(fault: EventsFault): void {
        this.fault = fault;
        this.writes = 0;
    }

    public restore(): void {
        for (const spy of this.spies.splice(0))
            spy.mockRestore();
    }
}

/** Makes the next `times` atomic writes whose path passes `test` fail with `code` while writing. */
export function failAtomicWrites(test: (file: string) => boolean, code: "ENOSPC" | "EIO", times = 1): { injected: () => number; restore(): void } {
    const realOpen = fsp.open.bind(fsp);
    let injected = 0;
    const spy = vi.spyOn(fsp, "open").mockImplementation((async (file: fs.PathLike, ...rest: unknown[]) => {
        const handle = await (realOpen as (...args: unknown[]) => Promise<fsp.FileHandle>)(file, ...rest);
        if (times > 0 && test(String(file))) {
            times--;
            injected++;
            handle.writeFile = async () => {
                throw errnoError(code, "write");
            };
        }
        return handle;
    }) as typeof fsp.open);
    return { injected: () => injected, restore: () => spy.mockRestore() };
}

/** Makes the next `times` synchronous whole-file writes whose path passes `test` fail with `code`. */
export function failFileWrites(test: (file: string) => boolean, code: "ENOSPC" | "EIO", times = 1): { injected: () => number; restore(): void } {
    const realWriteFile = fs.writeFileSync.bind(fs);
    let injected = 0;
    const spy = vi.spyOn(fs, "writeFileSync").mockImplementation(((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
        if (times > 0 && test(String(file))) {
            times--;
            injected++;
            throw errnoError(code, "open");
        }
        return (realWriteFile as (...args: unknown[]) => void)(file, ...rest);
    }) as typeof fs.writeFileSync);
    return { injected: () => injected, restore: () => spy.mockRestore() };
}
