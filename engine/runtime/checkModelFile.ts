// Cheap checks of a model file before llama.cpp sees it, so bad input gets a precise error
// (not GGUF, GGUF v1, truncated) instead of llama.cpp's generic "failed to load".
import fs from "node:fs/promises";
import { GgufInsights, readGgufFileInfo } from "node-llama-cpp";
import { TillerError } from "../protocol/TillerError.js";

const ggufMagic = 0x46554747; // "GGUF" little-endian

/**
 * Throws NOT_GGUF, UNSUPPORTED_GGUF, TRUNCATED_FILE or FILE_NOT_FOUND with a message naming the
 * file. Reads only the header, never the weights.
 */
export async function checkModelFile(path: string): Promise<void> {
    let handle: fs.FileHandle;
    try {
        handle = await fs.open(path, "r");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new TillerError(code === "ENOENT" ? "FILE_NOT_FOUND" : "MODEL_LOAD_FAILED",
            code === "ENOENT" ? `model file "${path}" does not exist` : `cannot open model file "${path}": ${(error as Error).message}`);
    }
    try {
        const header = Buffer.alloc(8);
        const { bytesRead } = await handle.read(header, 0, 8, 0);
        if (bytesRead < 8 || header.readUInt32LE(0) !== ggufMagic)
            throw new TillerError("NOT_GGUF", `"${path}" is not a GGUF model file (it does not start with the GGUF magic bytes)`);
        const version = header.readUInt32LE(4);
        if (version < 2)
            throw new TillerError("UNSUPPORTED_GGUF",
                `"${path}" is GGUF version ${version}, which llama.cpp no longer reads; convert the model again with a current llama.cpp`);
        if (version > 3)
            throw new TillerError("UNSUPPORTED_GGUF", `"${path}" is GGUF version ${version}, newer than this llama.cpp understands (3)`);
        const fileSize = (await handle.stat()).size;
        await checkTensorDataExtent(path, fileSize);
    } finally {
        await handle.close();
    }
}

/** The tensor data must fit in the file; a short file is a truncated download or copy. */
async function checkTensorDataExtent(path: string, fileSize: number): Promise<void> {
    let dataStart: number;
    let dataSize: number;
    try {
        const info = await readGgufFileInfo(path, { logWarnings: false, spliceSplitFiles: false });
        const tensors = info.fullTensorInfo ?? [];
        dataStart = tensors.reduce((lowest, tensor) => Math.min(lowest, Number(tensor.fileOffset)), fileSize);
        dataSize = (await GgufInsights.from(info)).modelSize;
    } catch (error) {
        throw new TillerError("TRUNCATED_FILE",
            `"${path}" has a damaged or truncated GGUF header (${fileSize} bytes in all): ${(error as Error).message}`, { cause: error });
    }
    if (dataStart + dataSize > fileSize)
        throw new TillerError("TRUNCATED_FILE",
            `"${path}" is truncated: its tensors need ${dataStart + dataSize} bytes but the file has ${fileSize}`);
}
