// The renderer in Chromium against the real `tiller serve` and the real stories260K model:
// open the model, build the happy/sad vector, steer a run mid-way, inspect; then Compare.
import { missing, sharedFiles } from "../support/sharedFiles.js";
import WebSocket from "ws";
import { buildSentimentVector, compareRuns, openModel, screenshot, steerRun, waitForEngine } from "./scenarios.js";
import { expect, startServe, stopServe, test } from "./tillerServe.js";

const modelPath = sharedFiles.stories260K;
const PREFIX = "chromium";

test.describe.configure({ mode: "serial" });

test.describe("tiller serve in Chromium", () => {
    test.skip(missing(modelPath), `the test model is absent: ${modelPath} (set TILLER_SHARED_DIR)`);

    test("empty state before a model is loaded", async ({ page }) => {
        const { server, child } = await startServe(); // a fresh engine: other specs share the worker's server and load models
        try {
            await page.goto(server.url);
            await waitForEngine(page);
            await expect(page.getByTestId("scenario-sycophancy")).toBeVisible(); // the Start view comes first
            await page.getByTestId("nav-model").click();
            await expect(page.getByTestId("no-model")).toBeVisible();
            await page.getByTestId("nav-run").click();
            await expect(page.getByTestId("no-model")).toBeVisible();
            await screenshot(page, PREFIX, "run-empty");
        } finally {
            await stopServe(child, server.dataDir);
        }
    });

    test("open a model, build a vector, steer mid-run, inspect a token", async ({ page, tillerServer }) => {
        await page.goto(tillerServer.url);
        await openModel(page, modelPath, PREFIX);
        await buildSentimentVector(page, PREFIX);
        await steerRun(page, PREFIX);
    });

    test("compare: the first divergence is at or after the patch's first token", async ({ page, tillerServer }) => {
        await page.goto(tillerServer.url);
        await waitForEngine(page);
        await openModel(page, modelPath, PREFIX);
        // the library persists in the server's data dir; build the vector when an earlier test did not
        await page.getByTestId("nav-vectors").click();
        if (await page.getByTestId("vector-row").count() === 0)
            await buildSentimentVector(page, PREFIX);
        await compareRuns(page, PREFIX);
    });

    test("errors show their code and a hint", async ({ page, tillerServer }) => {
        await page.goto(tillerServer.url);
        await waitForEngine(page);
        await page.getByTestId("nav-model").click();
        await page.getByTestId("model-path").fill("/nonexistent/model.gguf");
        await page.getByTestId("model-load").click();
        const toast = page.getByTestId("error-toast").first();
        await expect(toast).toBeVisible();
        await expect(toast).toHaveAttribute("data-code", /FILE_NOT_FOUND|MODEL_LOAD_FAILED|NOT_GGUF/);
        await screenshot(page, PREFIX, "error");
    });

    test("a stopped engine shows the reconnecting state", async ({ page }) => {
        const { server, child } = await startServe(); // a server of its own, to stop
        try {
            await page.goto(server.url);
            await waitForEngine(page);
            await expect(page.getByTestId("connection-banner")).toHaveCount(0);
            await stopServe(child, server.dataDir);
            const banner = page.getByTestId("connection-banner");
            await expect(banner).toBeVisible();
            await expect(banner).toContainText("reconnecting");
            await expect(page.getByTestId("engine-status")).toHaveAttribute("data-state", "disconnected");
            await expect(page.getByTestId("error-toast")).toHaveCount(0); // the banner says it; no toast storm
            await screenshot(page, PREFIX, "disconnected");
        } finally {
            await stopServe(child, server.dataDir);
        }
    });

    test("an engine killed mid-run is reported and restarted, and the same page runs again", async ({ page }) => {
        const { server, child } = await startServe();
        try {
            await page.goto(server.url);
            await page.getByTestId("nav-model").click();
            await page.getByTestId("model-context").fill("8192");
            await openModel(page, modelPath, PREFIX);
            const enginePid = await engineProcessId(server.url);
            // a long run, killed while it streams
            await page.getByTestId("nav-run").click();
            await page.getByTestId("max-tokens").fill("8000");
            const strip = page.getByTestId("token-strip");
            await page.getByTestId("generate").click();
            await expect.poll(async () => Number(await strip.getAttribute("data-count"))).toBeGreaterThan(50);
            await expect(strip).toHaveAttribute("data-status", "running");
            process.kill(enginePid, "SIGKILL"); // from outside, a native crash looks like this
            const toast = page.getByTestId("error-toast").first();
            await expect(toast).toHaveAttribute("data-code", "ENGINE_RESTARTED");
            await expect(toast).toContainText("SIGKILL");
            await waitForEngine(page); // reconnected to the fresh engine
            await expect(page.getByTestId("connection-banner")).toHaveCount(0);
            expect(await engineProcessId(server.url)).not.toBe(enginePid);
            await expect(page.getByTestId("no-model")).toBeVisible(); // the Run view knows the fresh engine has no model
            await screenshot(page, PREFIX, "engine-restarted");
            // the same page, not reloaded: load the model again and run to the end
            await openModel(page, modelPath, PREFIX);
            await page.getByTestId("nav-run").click();
            await page.getByTestId("max-tokens").fill("24");
            await page.getByTestId("generate").click();
            await expect(page.getByTestId("run-status")).toContainText("max tokens");
            expect(Number(await strip.getAttribute("data-count"))).toBe(24);
        } finally {
            await stopServe(child, server.dataDir);
        }
    });
});

/** The engine's process id, asked over the served RPC socket like any client would. */
async function engineProcessId(pageUrl: string): Promise<number> {
    const url = new URL(pageUrl);
    const socket = new WebSocket(`ws://${url.host}/rpc?token=${url.searchParams.get("token")}`);
    try {
        await new Promise((resolve, reject) => {
            socket.once("open", resolve);
            socket.once("error", reject);
        });
        const reply = new Promise<{ result: { pid: number } }>((resolve) => socket.once("message", (raw) => resolve(JSON.parse(raw.toString()))));
        socket.send(JSON.stringify({ kind: "request", id: "pid", method: "engine.info", params: {} }));
        return (await reply).result.pid;
    } finally {
        socket.close();
    }
}
