// `tiller sweep`, `tiller explain` and `tiller detect` (blind) end to end on stories260K.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missing, sharedFiles } from "../support/sharedFiles.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const tiller = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, "bin", "tiller.js"), ...args], { encoding: "utf8" });

describe.skipIf(missing(sharedFiles.stories260K))("tiller sweep and detect", () => {
    let dir: string;
    let vector: string;

    beforeAll(() => {
        if (!fs.existsSync(path.join(repoRoot, "dist", "engine", "cli", "main.js")))
            throw new Error("dist/ is missing: run `npm run build:ts` before these tests");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-probes-cli-"));
        vector = path.join(dir, "happy.gguf");
        execFileSync(process.execPath, [path.join(repoRoot, "bin", "tiller.js"), "vector", "build", "-m", sharedFiles.stories260K,
            "--dataset", "sentiment", "--read", "mean", "-o", vector, "--threads", "1", "--json"], { encoding: "utf8" });
    }, 60_000);
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("sweep reports per-token χ as JSON and CSV, happy positive", () => {
        const args = ["sweep", "-m", sharedFiles.stories260K, "-p", "One day, Tom went to the park.", "--completion", " He was very happy and he smiled.",
            "--vector", vector, "--layers", "2-3", "--alphas", "-1:1:5", "--per-layer", "--threads", "1"];
        const json = tiller(...args, "--json");
        expect(json.status).toBe(0);
        const result = JSON.parse(json.stdout);
        expect(result.alphas).toEqual([-1, -0.5, 0, 0.5, 1]);
        const happy = result.tokens.find((token: { piece: string }) => token.piece === " happy");
        expect(happy.chi).toBeGreaterThan(0);
        expect(happy.chiPerLayer).toHaveLength(2);
        const csv = tiller(...args, "--csv");
        expect(csv.stdout.split("\n")[0]).toBe("index,id,piece,chi,chi_error,curvature,entropy_response,fisher,fdt_gap,fdt_gap_error," +
            "logp@-1,logp@-0.5,logp@0,logp@0.5,logp@1,chi_L2,chi_L3,chi_error_L2,chi_error_L3");
        // from generated token 2: the first two tokens do not respond and are not listed
        const later = JSON.parse(tiller(...args, "--from-token", "2", "--json").stdout);
        expect(later.fromToken).toBe(2);
        expect(later.tokens[0].index).toBe(2);
        expect(later.tokens.every((token: { chiError: number }) => token.chiError >= 0)).toBe(true);
    });

    it("thermo scans S(T), C(T) of a text, and refuses a bad grid", () => {
        const args = ["thermo", "-m", sharedFiles.stories260K, "-p", "One day, Tom went to the park.", "--completion", " He was very happy.", "--threads", "1"];
        const result = JSON.parse(tiller(...args, "--temperatures", "0.1:10:25", "--json").stdout);
        expect(result.temperatures).toHaveLength(25);
        expect(result.tokens.map((token: { piece: string }) => token.piece).join("")).toBe(" He was very happy.");
        for (const token of result.tokens) {
            // entropy grows with temperature towards ln V
            expect(token.entropy[24]).toBeGreaterThan(token.entropy[0]);
            expect(token.entropy[24]).toBeLessThanOrEqual(Math.log(512) + 1e-9);
        }
        const one = JSON.parse(tiller(...args, "--token", "3", "--vector", vector + ":2", "--json").stdout);
        expect(one.tokens.map((token: { index: number }) => token.index)).toEqual([3]);
        const csv = tiller(...args, "--csv");
        expect(csv.stdout.split("\n")[0]).toBe("index,id,piece,temperature,entropy,free_energy,mean_energy,heat_capacity,surprisal");
        const bad = tiller(...args, "--temperatures", "0:1:5");
        expect(bad.status).not.toBe(0);
        expect(bad.stderr).toMatch(/temperature grid/);
    });

    it("explain recovers an applied patch (the known-run diff)", () => {
        const explained = tiller("explain", "-m", sharedFiles.stories260K, "--library", vector, "-p", "Once upon a time",
            "--completion", ", there was a little girl named Lily. She loved to play.", "--applied", `${vector}:-1.5`, "--layers", "2-4",
            "--from-token", "5", "--threads", "1", "--json");
        expect(explained.status).toBe(0);
        const report = JSON.parse(explained.stdout);
        expect(report).toMatchObject({ steered: true, onsetToken: 5, firstLayer: 2 });
        expect(report.matches[0].strength).toBeCloseTo(-1.5, 3);
    });

    it("detect is blind: the text a patched greedy run wrote, from the text and the library alone", () => {
        const generated = tiller("generate", "-m", sharedFiles.stories260K, "-p", "Once upon a time", "-n", "40", "--vector", `${vector}:1.5`,
            "--layers", "2-3", "--from-token", "12", "--threads", "1");
        expect(generated.status).toBe(0);
        const completion = generated.stdout.replace(/\n$/, "");
        const detected = tiller("detect", "-m", sharedFiles.stories260K, "-p", "Once upon a time", "--completion", completion,
            "--library", vector, "--threads", "1", "--null-draws", "50", "--json");
        expect(detected.status).toBe(0);
        const report = JSON.parse(detected.stdout);
        expect(report).toMatchObject({ steered: true, method: "greedy-exact", verdict: "library" });
        expect(report.best.name).toBe("happy");
        expect(report.onsetToken).toBeGreaterThanOrEqual(9);
        const text = tiller("detect", "-m", sharedFiles.stories260K, "-p", "Once upon a time", "--completion", completion,
            "--library", vector, "--threads", "1", "--null-draws", "50");
        expect(text.stdout).toMatch(/^steered: p = 0/);
        expect(text.stdout).toMatch(/best library hypothesis: happy/);

        const file = path.join(dir, "transcript.json");
        fs.writeFileSync(file, JSON.stringify({ prompt: "Once upon a time", text: completion, sampling: { temperature: 0 } }));
        const fromFile = JSON.parse(tiller("detect", "-m", sharedFiles.stories260K, "--transcript", file, "--threads", "1", "--null-draws", "50", "--json").stdout);
        expect(fromFile).toMatchObject({ steered: true, verdict: "outside-library", best: null });
    }, 180_000);

    it("detect --blind runs hidden-patch trials", () => {
        const blind = tiller("detect", "-m", sharedFiles.stories260K, "--library", vector, "--blind", "3", "-n", "16", "--null-draws", "50", "--threads", "1", "--json");
        expect(blind.status).toBe(0);
        const { summary, trials } = JSON.parse(blind.stdout);
        expect(summary.trials).toBe(3);
        expect(trials).toHaveLength(3);
    }, 120_000);

    it("bad input gives one line and a non-zero exit", () => {
        for (const args of [
            ["sweep", "-m", sharedFiles.stories260K, "-p", "x", "--completion", "y", "--vector", vector, "--alphas", "1:2"],
            ["sweep", "-m", sharedFiles.stories260K, "-p", "x", "--completion", "y", "--vector", vector, "--layers", "0-9"],
            ["explain", "-m", sharedFiles.stories260K, "-p", "x", "--completion", "y"],
            ["detect", "-m", sharedFiles.stories260K, "-p", "Once upon a time", "--tokens", "5,99999"],
            ["detect", "-m", sharedFiles.stories260K, "--transcript", path.join(dir, "absent.json")],
            ["detect", "-m", sharedFiles.stories260K, "-p", "Once upon a time", "--tokens", "5", "--temperature", "-1"]
        ]) {
            const result = tiller(...args, "--threads", "1");
            expect(result.status).not.toBe(0);
            expect(result.stderr.trim().split("\n")).toHaveLength(1);
        }
    }, 180_000);
});

describe.skipIf(missing(sharedFiles.stories260K))("tiller sessions", () => {
    it("lists, shows, exports and replays a session recorded by `tiller serve`'s engine service", async () => {
        const { EngineService } = await import("../../engine/service/EngineService.js");
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-sessions-cli-"));
        try {
            const service = new EngineService({ dataDir, threads: 1 });
            await service.loadModel({ path: sharedFiles.stories260K, threads: 1, contextSize: 256 }, { requestId: "t", signal: new AbortController().signal });
            const ended = new Promise<void>((resolve) => service.onEvent((event) => event === "run.end" && resolve()));
            await service.startRun({ prompt: "Once upon a time", maxTokens: 20, sampling: { temperature: 0.8, seed: 3 } });
            await ended;
            await service.dispose();
            const dir = path.join(dataDir, "sessions");
            const listed = JSON.parse(tiller("sessions", "list", "--dir", dir, "--json").stdout);
            expect(listed).toHaveLength(1);
            expect(tiller("sessions", "show", listed[0].id, "--dir", dir).stdout).toMatch(/Once upon a time/);
            const exported = tiller("sessions", "export", listed[0].id, path.join(dataDir, "out"), "--dir", dir);
            expect(exported.status).toBe(0);
            expect(fs.existsSync(path.join(dataDir, "out", "run-0", "tokens.csv"))).toBe(true);
            const replay = tiller("sessions", "replay", listed[0].id, "--dir", dir, "--threads", "1");
            expect(replay.stdout).toMatch(/run 0: identical \(20 tokens\)/);
            expect(replay.status).toBe(0);
        } finally {
            fs.rmSync(dataDir, { recursive: true, force: true });
        }
    });
});
