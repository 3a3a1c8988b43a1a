// Writes a folder as a .zip (PKWARE APPNOTE: local headers, deflated data, central directory), so a
// session export is one file to mail or upload. Plain ZIP, no ZIP64: each file and the archive stay
// under 4 GiB, which session exports (CSV, small .npy, vectors) are far below; larger input is refused.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { TillerError } from "../protocol/TillerError.js";

const ZIP32_LIMIT = 0xffffffff;

/** The files under `folder`, as zip entry names (forward slashes), sorted for a stable archive. */
function listFiles(folder: string, prefix = ""): string[] {
    const names: string[] = [];
    for (const entry of fs.readdirSync(path.join(folder, prefix), { withFileTypes: true })) {
        const name = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
        if (entry.isDirectory())
            names.push(...listFiles(folder, name));
        else if (entry.isFile())
            names.push(name);
    }
    return names.sort();
}

/** MS-DOS time and date, the only timestamps plain ZIP headers hold. */
function dosDateTime(date: Date): { time: number; date: number } {
    return {
        time: (date.getHours() << 11) | (date.getMinutes() << 5) | Math.floor(date.getSeconds() / 2),
        date: ((Math.max(1980, date.getFullYear()) - 1980) << 9) | ((date.getMonth() + 1) << 5) | date.getDate()
    };
}

/** Zips every file under `folder` into `target` (written atomically); returns the number of files. */
export function zipFolder(folder: string, target: string): number {
    const names = listFiles(folder);
    const chunks: Buffer[] = [];
    const central: Buffer[] = [];
    let offset = 0;
    for (const name of names) {
        const data = fs.readFileSync(path.join(folder, name));
        const stat = fs.statSync(path.join(folder, name));
        const compressed = zlib.deflateRawSync(data);
        const stored = compressed.length >= data.length;
        const body = stored ? data : compressed;
        const crc = zlib.crc32(data);
        const fileName = Buffer.from(name, "utf8");
        const { time, date } = dosDateTime(stat.mtime);
        if (data.length > ZIP32_LIMIT || offset > ZIP32_LIMIT)
            throw new TillerError("INVALID_ARGUMENT", `"${name}" does not fit a plain zip (over 4 GiB); export as a folder instead`);
        const local = Buffer.alloc(30);
        local.writeUInt32LE(0x04034b50, 0);
        local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
        local.writeUInt16LE(0x0800, 6); // UTF-8 names
        local.writeUInt16LE(stored ? 0 : 8, 8);
        local.writeUInt16LE(time, 10);
        local.writeUInt16LE(date, 12);
        local.writeUInt32LE(crc, 14);
        local.writeUInt32LE(body.length, 18);
        local.writeUInt32LE(data.length, 22);
        local.writeUInt16LE(fileName.length, 26);
        local.writeUInt16LE(0, 28);
        const header = Buffer.alloc(46);
        header.writeUInt32LE(0x02014b50, 0);
        header.writeUInt16LE(20, 4); // made by: 2.0
        header.writeUInt16LE(20, 6);
        header.writeUInt16LE(0x0800, 8);
        header.writeUInt16LE(stored ? 0 : 8, 10);
        header.writeUInt16LE(time, 12);
        header.writeUInt16LE(date, 14);
        header.writeUInt32LE(crc, 16);
        header.writeUInt32LE(body.length, 20);
        header.writeUInt32LE(data.length, 24);
        header.writeUInt16LE(fileName.length, 28);
        header.writeUInt32LE(offset, 42);
        central.push(header, fileName);
        chunks.push(local, fileName, body);
        offset += local.length + fileName.length + body.length;
    }
    const centralSize = central.reduce((sum, chunk) => sum + chunk.length, 0);
    if (offset + centralSize > ZIP32_LIMIT || names.length > 0xffff)
        throw new TillerError("INVALID_ARGUMENT", "the export does not fit a plain zip (over 4 GiB or 65,535 files); export as a folder instead");
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(names.length, 8);
    end.writeUInt16LE(names.length, 10);
    end.writeUInt32LE(centralSize, 12);
    end.writeUInt32LE(offset, 16);
    // a random name, created exclusively: nothing planted at a guessable name is written through
    const temporary = `${target}.${randomBytes(12).toString("hex")}.tmp`;
    fs.writeFileSync(temporary, Buffer.concat([...chunks, ...central, end]), { flag: "wx" });
    fs.renameSync(temporary, target);
    return names.length;
}
