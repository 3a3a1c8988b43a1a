// `tiller serve --host localhost`: "localhost" resolves to ::1 as well as 127.0.0.1 (browsers try
// either), so the server must answer on both address families, on the same port, with the same
// token checks. Skipped where the machine has no IPv6 loopback.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRpc, rpcCall, startServe } from "../support/serveProcess.js";

/** whether this machine can listen on ::1 (containers without IPv6 cannot) */
async function hasIpv6Loopback(): Promise<boolean> {
    return new Promise((resolve) => {
        const probe = net.createServer();
        probe.once("error", () => resolve(false));
        probe.listen(0, "::1", () => probe.close(() => resolve(true)));
    });
}

const ipv6 = await hasIpv6Loopback();

if (!ipv6)
    it.skip("tiller serve --host localhost on both address families: this machine has no IPv6 loopback (::1)", () => undefined);

describe.skipIf(!ipv6)("tiller serve --host localhost", () => {
    let child: ChildProcess;
    let port = 0;
    let token = "";
    let dataDir: string;

    beforeAll(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-localhost-"));
        ({ child, port, token } = await startServe(["--data-dir", dataDir, "--no-model", "--host", "localhost"]));
    }, 60_000);
    afterAll(() => {
        child?.kill("SIGTERM");
        if (dataDir != null)
            fs.rmSync(dataDir, { recursive: true, force: true });
    });

    for (const address of ["127.0.0.1", "::1"]) {
        it(`answers RPC on ${address} with the token, and refuses it without`, async () => {
            const socket = await connectRpc(port, `?token=${token}`, {}, address);
            try {
                expect((await rpcCall(socket, "r1", "engine.info", {})).version).toBeTypeOf("string");
            } finally {
                socket.terminate();
            }
            await expect(connectRpc(port, "?token=wrong", {}, address)).rejects.toThrow(/status 401/);
        });
    }
});
