// Writes requested over RPC stay inside the folders fixed at launch, never replace a file unless the
// request says so, and carry the format's extension. Through the real RPC server (no model needed).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeControlVector } from "../../engine/gguf/ControlVectorFile.js";
import { EngineService } from "../../engine/service/EngineService.js";
import { InProcessRpcClient } from "../support/inProcessRpc.js";

describe("write confinement of RPC requests", () => {
    let base: string;
    let dataDir: string;
    let exportDir: string;
    let outside: string;
    let client: InProcessRpcClient;
    let vectorId: string;

    beforeAll(async () => {
        base = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-writes-"));
        dataDir = path.join(base, "data");
        exportDir = path.join(base, "exports");
        outside = path.join(base, "elsewhere");
        for (const dir of [dataDir, exportDir, outside])
            fs.mkdirSync(dir);
        client = new InProcessRpcClient(new EngineService({ dataDir, threads: 1, writableRoots: [dataDir, exportDir] }));
        const source = path.join(outside, "v.gguf");
        fs.writeFileSync(source, encodeControlVector({ modelHint: "llama", nEmbd: 4, directions: new Map([[1, Float32Array.from([1, 2, 3, 4])]]) }));
        vectorId = (await client.request("vectors.import", { path: source })).id; // reading from anywhere is fine
    });
    afterAll(async () => {
        await client?.close();
        fs.rmSync(base, { recursive: true, force: true });
    });

    it("exports into an allowed folder, with the format's extension", async () => {
        const target = path.join(exportDir, "v.npy");
        expect(await client.request("vectors.export", { id: vectorId, path: target, format: "npy" })).toBeNull();
        expect(fs.existsSync(target)).toBe(true);
        expect(await client.failure("vectors.export", { id: vectorId, path: path.join(exportDir, "v.txt"), format: "gguf" }))
            .toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("must end in .gguf") });
        expect(await client.failure("vectors.export", { id: vectorId, path: "relative.gguf", format: "gguf" }))
            .toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("absolute") });
    });

    it("refuses to replace an existing file unless asked to", async () => {
        const target = path.join(exportDir, "keep.gguf");
        fs.writeFileSync(target, "precious");
        expect(await client.failure("vectors.export", { id: vectorId, path: target, format: "gguf" }))
            .toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("already exists") });
        expect(fs.readFileSync(target, "utf8")).toBe("precious");
        await client.request("vectors.export", { id: vectorId, path: target, format: "gguf", overwrite: true });
        expect(fs.readFileSync(target).subarray(0, 4).toString()).toBe("GGUF");
    });

    it("refuses folders outside the allowed ones, also through a symlink or dot segments", async () => {
        const expectOutside = async (target: string) => expect(await client.failure("vectors.export", { id: vectorId, path: target, format: "gguf" }))
            .toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("outside the folders") });
        await expectOutside(path.join(outside, "v2.gguf"));
        await expectOutside(`${exportDir}/../elsewhere/v3.gguf`);
        fs.symlinkSync(outside, path.join(exportDir, "link"));
        await expectOutside(path.join(exportDir, "link", "v4.gguf"));
        expect(fs.readdirSync(outside)).toEqual(["v.gguf"]);
        expect(await client.failure("sessions.export", { id: "whatever", path: path.join(outside, "s.zip"), format: "zip" }))
            .toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("outside the folders") });
        expect(await client.failure("models.download", { uri: "https://example.invalid/m.gguf", directory: outside }))
            .toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("outside the folders") });
    });
});
