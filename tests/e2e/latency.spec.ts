// The 4,096-token run's latency read-outs (README "UI latency"): the renderer in Chromium against
// the real `tiller serve` and stories260K. A file of its own so that the trace Playwright records
// for failures carries no DOM snapshots: a snapshot walks the whole page on every action, work the
// user's browser never does and the frame-gap probe would count against the app.
import fs from "node:fs";
import path from "node:path";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { traceMainThreadTasks } from "./mainThreadTasks.js";
import { buildSentimentVector, longRun, openModel, waitForEngine } from "./scenarios.js";
import { test } from "./tillerServe.js";

const modelPath = sharedFiles.stories260K;

test.use({ trace: { mode: "retain-on-failure", snapshots: false, screenshots: false } });

test("a 4,096-token run stays responsive; token-to-DOM latency is measured", async ({ page, tillerServer }) => {
    test.setTimeout(360_000); // it builds its vector, then runs 4,096 tokens: minutes on a busy 2-core machine
    test.skip(missing(modelPath), `the test model is absent: ${modelPath} (set TILLER_SHARED_DIR)`);
    await page.goto(tillerServer.url);
    await waitForEngine(page);
    await page.getByTestId("nav-vectors").click();
    if (await page.getByTestId("vector-row").count() === 0) {
        await openModel(page, modelPath, "chromium");
        await buildSentimentVector(page, "chromium");
    }
    // the long tasks' CPU time, from a trace: the page's own work, or waiting for a core
    const trace = await traceMainThreadTasks(await page.context().newCDPSession(page), "tiller-latency-start", "tiller-latency-end");
    const latency = await longRun(page, modelPath, "chromium");
    const tasks = await trace.stop();
    fs.mkdirSync("test-artifacts", { recursive: true });
    // the engine's decode priority (README "Decode priority"): the server's engine reads $TILLER_DECODE_PRIORITY
    const decodePriority = process.env.TILLER_DECODE_PRIORITY || "background";
    fs.writeFileSync(path.join("test-artifacts", "ui-latency.json"), JSON.stringify({ ...latency, decodePriority, mainThread: tasks }, null, 2) + "\n");
    console.log(`decode priority ${decodePriority}; token emitted → painted: median ${latency.medianMs} ms, p95 ${latency.p95Ms} ms over ${latency.samples} tokens; ` +
        `emitted → received (transport, and the page's own backlog): median ${latency.arrivalMedianMs} ms, p95 ${latency.arrivalP95Ms} ms; ` +
        `received → painted: median ${latency.renderMedianMs} ms, p95 ${latency.renderP95Ms} ms; ` +
        `longest frame gap ${latency.maxFrameGapMs} ms; main-thread tasks over 50 ms: ${latency.longTasks} (longest ${latency.longestTaskMs} ms); ` +
        `traced: ${tasks.long} over 50 ms, ${tasks.longBusy} of them with ≥ 50 ms of CPU (the page's own work), ${tasks.longStarved} waiting for a core ` +
        `(CPU < half the wall time); the most CPU in one task ${tasks.longestTaskCpuMs} ms`);
});
