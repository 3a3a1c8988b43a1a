// Sessions and the Model view's library in Chromium against the real `tiller serve` and stories260K:
// build a vector and do a short steered run, unload the model, reopen the recorded session (strip
// and separation chart without a model), rename and search it, replay it (identical), export it as a
// zip and a folder, delete it; then scan a temporary models folder, open a model from the scan on the
// CPU backend and see where its layers went, and the catalog and backends; download a model by URL
// from a loopback HTTP server with its progress bar, Cancel, and Resume.
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { writeRandomModelFile } from "../../engine/gguf/RandomModelFile.js";
import { startRangeFileServer } from "../support/rangeFileServer.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { buildSentimentVector, openModel, screenshot, setUpPatch, vectorName, waitForEngine } from "./scenarios.js";
import { expect, startServe, stopServe, test, type TillerServer } from "./tillerServe.js";

const PREFIX = "sessions";
const modelPath = sharedFiles.stories260K;

test.describe.configure({ mode: "serial" });

test.describe("Sessions and models in Chromium", () => {
    test.skip(missing(modelPath), `the test model is absent: ${modelPath}`);

    let server: TillerServer;
    let child: ChildProcess;
    let scratch: string;

    test.beforeAll(async () => {
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-e2e-sessions-"));
        // the model scan sees only this folder: a copy of stories260K and a file that is not a model
        const models = path.join(scratch, "models");
        fs.mkdirSync(models);
        fs.copyFileSync(modelPath, path.join(models, "stories260K.gguf"));
        fs.writeFileSync(path.join(models, "notes.gguf"), "not a model");
        ({ server, child } = await startServe({
            env: {
                TILLER_MODELS_DIR: models, TILLER_NODE_LLAMA_CPP_MODELS_DIR: "", TILLER_LMSTUDIO_MODELS_DIR: "",
                TILLER_HF_HUB_CACHE: "", TILLER_OLLAMA_MODELS: ""
            }
        }));
    });

    test.afterAll(async () => {
        if (child != null)
            await stopServe(child, server.dataDir);
        if (scratch != null)
            fs.rmSync(scratch, { recursive: true, force: true });
    });

    test("record a run, unload, reopen it without a model, replay identical, export, delete", async ({ page }) => {
        await page.goto(server.url);
        await openModel(page, modelPath, PREFIX);
        await buildSentimentVector(page, PREFIX);
        await setUpPatch(page, { strength: 1.5, fromToken: 5, maxTokens: 48 });
        await page.getByTestId("sampling-temperature").fill("0.8"); // sampled: the replay must reproduce the seed's draws
        const strip = page.getByTestId("token-strip");
        await page.getByTestId("generate").click();
        await expect.poll(async () => Number(await strip.getAttribute("data-count")), { message: "the run streams tokens" }).toBeGreaterThan(0);
        await expect(strip).toHaveAttribute("data-status", "idle", { timeout: 60_000 });
        const generated = Number(await strip.getAttribute("data-count"));
        expect(generated).toBeGreaterThan(5);

        await page.getByTestId("nav-model").click();
        await page.getByTestId("model-unload").click();
        await expect(page.getByTestId("no-model")).toBeVisible();

        // the shortcut opens Sessions
        await page.keyboard.press("Control+Shift+S");
        await expect(page.getByTestId("nav-sessions")).toHaveAttribute("aria-current", "page");
        const rows = page.getByTestId("session-row");
        await expect(rows).toHaveCount(1);
        await expect(rows.first()).toContainText("stories260K.gguf");
        await rows.first().getByTestId("session-open").click();

        // the strip and the chart, from the session's files alone
        const detail = page.getByTestId("session-detail");
        await expect(detail).toBeVisible();
        const sessionStrip = detail.getByTestId("session-strip");
        await expect(sessionStrip).toHaveAttribute("data-tokens", String(generated));
        const tokens = sessionStrip.locator(".recorded-token");
        await expect(tokens).toHaveCount(generated);
        const cosines = await tokens.evaluateAll((nodes) => nodes.map((node) => (node as HTMLElement).dataset.cosine));
        expect(cosines.every((value) => value != null && Number.isFinite(Number(value))), "every token has its recorded read-out").toBe(true);
        const backgrounds = await tokens.evaluateAll((nodes) => nodes.map((node) => (node as HTMLElement).style.background));
        expect(new Set(backgrounds).size).toBeGreaterThan(3);
        await expect(sessionStrip.locator(".recorded-token.steered").first()).toHaveAttribute("data-index", "5");
        await expect(detail.getByTestId("session-run-readout").locator("option").first()).toHaveText(`${vectorName} · L1`);
        const chart = detail.getByTestId("separation-chart");
        await expect(chart).toBeVisible();
        await expect(chart.locator("svg.recharts-surface").first()).toBeVisible();
        expect(Number(await chart.getAttribute("data-best-layer"))).toBeGreaterThanOrEqual(1);
        await expect(page.locator(".model-chip")).toContainText("no model");
        await screenshot(page, PREFIX, "session-open");

        // rename, then search by the new name
        await rows.first().getByTestId("session-rename").click();
        await page.getByTestId("session-name-input").fill("happy run (e2e)");
        await page.getByTestId("session-rename-save").click();
        await expect(rows.first().getByTestId("session-name")).toHaveText("happy run (e2e)");
        await page.getByTestId("sessions-search").fill("nothing like this");
        await expect(rows).toHaveCount(0);
        await page.getByTestId("sessions-search").fill("HAPPY");
        await expect(rows).toHaveCount(1);

        // replay: the engine loads the session's model and reproduces the tokens
        await page.getByTestId("session-replay").click();
        await expect(page.getByTestId("replay-result")).toHaveAttribute("data-identical", "true", { timeout: 60_000 });
        await expect(page.getByTestId("session-run-replay")).toHaveAttribute("data-identical", "true");
        await expect(page.getByTestId("session-run-replay")).toContainText(`${generated} tokens`);
        await expect(page.locator(".model-chip")).toContainText("stories260K.gguf");
        await screenshot(page, PREFIX, "session-replayed");

        // export: a zip, then a folder
        const zipPath = path.join(scratch, "session.zip");
        await page.getByTestId("session-export-format").selectOption("zip");
        await page.getByTestId("session-export-path").fill(zipPath);
        await page.getByTestId("session-export").click();
        await expect(page.getByTestId("session-exported")).toContainText(zipPath);
        expect(fs.readFileSync(zipPath).subarray(0, 4).toString("latin1")).toBe("PK\u0003\u0004");
        const folder = path.join(scratch, "export");
        await page.getByTestId("session-export-format").selectOption("folder");
        await page.getByTestId("session-export-path").fill(folder);
        await page.getByTestId("session-export").click();
        await expect(page.getByTestId("session-exported")).toContainText(folder);
        const tokensCsv = fs.readFileSync(path.join(folder, "run-0", "tokens.csv"), "utf8").trim().split("\n");
        expect(tokensCsv).toHaveLength(generated + 1);
        expect(fs.existsSync(path.join(folder, "run-0", "projections.npy"))).toBe(true);
        // exporting over it again is refused with the reason
        await page.getByTestId("session-export").click();
        await expect(page.getByTestId("error-toast").filter({ hasText: "not an empty folder" })).toBeVisible();
        await screenshot(page, PREFIX, "session-exported");

        // delete asks first
        await rows.first().getByTestId("session-delete").click();
        await rows.first().getByTestId("session-delete-confirm").click();
        await page.getByTestId("sessions-search").fill("");
        await expect(rows).toHaveCount(0);
        await expect(page.getByTestId("no-session")).toBeVisible();
    });

    test("scan a models folder, open from the scan on the CPU, see the catalog and backends", async ({ page }) => {
        await page.goto(server.url);
        await waitForEngine(page);
        await page.getByTestId("nav-model").click();
        await page.getByTestId("models-scan").click();
        const scanned = page.getByTestId("scanned-model");
        await expect(scanned).toHaveCount(2);
        const stories = page.locator("[data-testid='scanned-model'][data-name='stories260K']");
        await expect(stories).toContainText("llama · 5 layers · 64d");
        await expect(stories).toContainText("RAM fits");
        const notes = page.locator("[data-testid='scanned-model'][data-name='notes']");
        await expect(notes.getByTestId("scanned-open")).toBeDisabled();

        // the backend chooser: a choice is disabled exactly when the engine gives a reason
        const backends = page.getByTestId("backends-panel");
        await expect(backends.getByTestId("backend-loaded")).not.toBeEmpty();
        for (const choice of ["auto", "cpu", "cuda", "vulkan", "metal"]) {
            const button = page.getByTestId(`backend-${choice}`);
            const title = await button.getAttribute("title");
            if (title == null)
                await expect(button, choice).toBeEnabled();
            else
                await expect(button, choice).toBeDisabled();
        }
        await expect(page.getByTestId("backend-cpu")).toBeEnabled();
        await page.getByTestId("backend-cpu").click();
        await stories.getByTestId("scanned-open").click();
        await expect(page.getByTestId("model-shape")).toContainText("stories260K.gguf");
        await expect(page.getByTestId("loaded-backend")).toHaveText("CPU");
        await expect(page.getByTestId("loaded-offloaded")).toHaveText("0 of 5");

        await expect(page.getByTestId("catalog-item").first()).toBeVisible();
        expect(await page.getByTestId("catalog-item").count()).toBeGreaterThanOrEqual(3);
        await expect(page.getByTestId("catalog-item").first().getByTestId("download-start")).toBeEnabled();
        await screenshot(page, PREFIX, "model-library");
    });

    test("download by URL: progress bar, Cancel, Resume from the kept part, then listed by the scan", async ({ page }) => {
        // a generated model over two of ipull's 5 MiB chunks, served slowly enough to cancel mid-way
        const source = path.join(scratch, "big-source.bin");
        await writeRandomModelFile(source, { nLayer: 2, nEmbd: 256, nHead: 4, nVocab: 2000, type: "f32", seed: 21 });
        const body = fs.readFileSync(source);
        fs.rmSync(source);
        // 80 ms a 64 KiB piece: at 25 ms the rest of the file could arrive between the progress bar
        // passing 6 MiB and the Cancel click landing, and the "cancelled" download was already complete
        const fileHost = await startRangeFileServer({ "big.gguf": { body, delayMs: 80 } });
        const url = fileHost.url("big.gguf");
        try {
            await page.goto(server.url);
            await waitForEngine(page);
            await page.getByTestId("nav-model").click();
            const panel = page.getByTestId("uri-download");
            await panel.getByTestId("download-uri").fill(url);
            await panel.getByTestId("download-start").click();
            const progress = panel.getByTestId("download-progress");
            // cancel once more than a whole chunk has arrived
            await expect.poll(async () => Number(await progress.getAttribute("data-done")), { message: "the progress bar moves", timeout: 60_000 })
                .toBeGreaterThan(6 * 1024 * 1024);
            expect(Number(await progress.getAttribute("data-total"))).toBe(body.length);
            await panel.scrollIntoViewIfNeeded();
            await screenshot(page, PREFIX, "download-progress");
            await panel.getByTestId("download-cancel").click();
            await expect(panel.getByTestId("download-state")).toHaveAttribute("data-status", "cancelled");
            await expect(panel.getByTestId("download-start")).toHaveText("Resume");
            const models = path.join(scratch, "models");
            expect(fs.existsSync(path.join(models, "big.gguf"))).toBe(false);
            expect(fs.existsSync(path.join(models, "big.gguf.ipull"))).toBe(true);

            fileHost.setDelay("big.gguf", 0);
            const before = fileHost.rangeBytes("big.gguf");
            await panel.getByTestId("download-start").click();
            await expect(panel.getByTestId("download-done")).toContainText(path.join(models, "big.gguf"), { timeout: 60_000 });
            expect(fileHost.rangeBytes("big.gguf") - before, "the resumed download fetched less than the whole file").toBeLessThan(body.length);
            expect(createHash("sha256").update(fs.readFileSync(path.join(models, "big.gguf"))).digest("hex"))
                .toBe(createHash("sha256").update(body).digest("hex"));
            // a finished download rescans: the new model is listed
            await expect(page.locator("[data-testid='scanned-model'][data-name='big']")).toBeVisible();
            await screenshot(page, PREFIX, "download-done");
        } finally {
            await fileHost.close();
        }
    });
});
