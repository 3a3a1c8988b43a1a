// The same scenarios in the Electron app (dist/electron/main.js), through Playwright's Electron
// support — wherever an Electron binary is installed; otherwise this says so and skips.
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { _electron as electron, expect, test, type ElectronApplication, type Page } from "@playwright/test";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { buildSentimentVector, compareRuns, openModel, steerRun, waitForEngine } from "./scenarios.js";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const mainScript = path.join(repoRoot, "dist", "electron", "main.js");
const modelPath = sharedFiles.stories260K;
const PREFIX = "electron";
const SKIP_MESSAGE = "Electron binary not installed — skipping Electron e2e";

/** the Electron binary `require("electron")` names, when it exists */
function electronBinary(): string | null {
    try {
        const binary: unknown = createRequire(import.meta.url)("electron");
        return typeof binary === "string" && fs.existsSync(binary) ? binary : null;
    } catch {
        return null; // the electron package throws when its binary was never downloaded
    }
}

const binary = electronBinary();
if (binary == null)
    console.log(SKIP_MESSAGE);

test.describe.configure({ mode: "serial" });

test.describe("Electron app", () => {
    test.skip(binary == null, SKIP_MESSAGE);
    test.skip(binary != null && missing(modelPath), `the test model is absent: ${modelPath}`);

    let app: ElectronApplication;
    let page: Page;
    let dataDir: string;

    test.beforeAll(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-e2e-electron-"));
        app = await electron.launch({
            executablePath: binary!,
            args: [mainScript, ...(process.platform === "linux" ? ["--no-sandbox", "--disable-gpu"] : [])],
            env: { ...process.env, TILLER_DATA_DIR: dataDir }
        });
        page = await app.firstWindow();
        await page.setViewportSize({ width: 1440, height: 900 }).catch(() => undefined);
        await waitForEngine(page);
    });

    test.afterAll(async () => {
        await app?.close();
        if (dataDir != null)
            fs.rmSync(dataDir, { recursive: true, force: true });
    });

    test("open a model, build a vector, steer mid-run, inspect a token", async () => {
        await openModel(page, modelPath, PREFIX);
        await buildSentimentVector(page, PREFIX);
        await steerRun(page, PREFIX);
    });

    test("compare: the first divergence is at or after the patch's first token", async () => {
        await page.reload();
        await waitForEngine(page);
        await expect(page.getByTestId("nav-compare")).toBeVisible();
        await openModel(page, modelPath, PREFIX);
        await compareRuns(page, PREFIX);
    });
});
