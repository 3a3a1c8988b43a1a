// Probes → Forensics in Chromium against the real `tiller serve`: the black-box tab localises the
// trigger of a seeded `tiller suspect` (stories260K, served over HTTP on loopback) through the
// engine, shows the prefix scan and the highlighted tokens, exports PNG/CSV, cancels, and names an
// unreachable endpoint. The suspect's revealed answer is read only to check the result.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Page } from "@playwright/test";
import type { SuspectAnswer } from "../../engine/blackbox/drawSuspect.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { startSuspect, type SuspectProcess } from "../support/suspectProcess.js";
import { openModel, screenshot, waitForEngine } from "./scenarios.js";
import { expect, test } from "./tillerServe.js";

const PREFIX = "forensics";

async function downloadText(page: Page, testId: string): Promise<Buffer> {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testId).click()]);
    return fs.readFileSync(await download.path());
}

test.describe("Forensics view in Chromium", () => {
    test.skip(missing(sharedFiles.stories260K), `the test model is absent: ${sharedFiles.stories260K}`);
    let suspect: SuspectProcess | undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-e2e-suspect-"));
    test.afterAll(() => {
        suspect?.child.kill("SIGTERM");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test("black box: locate a suspect's trigger, prefix scan, highlighted tokens, exports, cancel, unreachable endpoint", async ({ page, tillerServer }) => {
        const reveal = path.join(dir, "answer.json");
        suspect = await startSuspect(["--seed", "4", "--kind", "text", "-m", sharedFiles.stories260K, "--threads", "1", "--reveal", reveal]);
        const answer = JSON.parse(fs.readFileSync(reveal, "utf8")) as SuspectAnswer;
        const prompt = `Tom had a red car. He drove it to the big hill and${answer.triggerWord} looked at the trees.`;

        await page.goto(tillerServer.url);
        await waitForEngine(page);
        await page.getByTestId("nav-probes").click();
        await page.getByTestId("probes-page-forensics").click();
        await page.getByTestId("forensics-tab-blackbox").click();
        // no model is loaded: the black box needs none
        await expect(page.getByTestId("blackbox-panel")).toBeVisible();
        await page.getByTestId("bb-endpoint").fill(suspect.endpoint);
        await page.getByTestId("bb-api-key").fill(suspect.key);
        await page.getByTestId("bb-prompt").fill(prompt);
        await page.getByTestId("bb-budget").fill("150");
        await page.keyboard.press("Control+Enter");
        await expect(page.getByTestId("bb-progress")).toBeVisible();

        const summary = page.getByTestId("bb-summary");
        await expect(summary).toBeVisible({ timeout: 150_000 });
        await expect(summary).toHaveAttribute("data-switch-found", "true");
        const top = (await summary.getAttribute("data-top"))!;
        expect(top.trim().length).toBeGreaterThan(0);
        expect(answer.triggerWord).toContain(top.trim());
        expect(Number(await summary.getAttribute("data-queries"))).toBeLessThanOrEqual(150);

        // the strip spells the prompt and marks the top token as rank 1
        const tokens = page.getByTestId("bb-token");
        const count = await tokens.count();
        expect((await tokens.allTextContents()).map((text) => text.replace(/[123]$/, "")).join("").replace(/␣/g, " ")).toBe(prompt);
        await expect(page.locator("[data-testid='bb-token'][data-rank='1']")).toContainText(top.trim());
        await expect(page.locator("[data-testid='bb-token'].candidate").first()).toBeVisible();
        const scan = JSON.parse((await page.getByTestId("bb-scan-chart").getAttribute("data-values"))!) as number[];
        expect(scan).toHaveLength(count + 1);
        await expect(page.locator("[data-testid='bb-scan-chart'] .recharts-line-curve")).toBeVisible();
        await expect(page.getByTestId("bb-candidate").first()).toContainText(top.trim());
        await screenshot(page, PREFIX, "blackbox");

        const csv = (await downloadText(page, "export-scan-csv")).toString("utf8").trim().split(/\r\n/);
        expect(csv[0]).toBe("k,last_token,logprob_probe");
        expect(csv).toHaveLength(scan.length + 1);
        expect(Number(csv[1]!.split(",").at(-1))).toBeCloseTo(scan[0]!, 9);
        const candidates = (await downloadText(page, "export-candidates-csv")).toString("utf8").trim().split(/\r\n/);
        expect(candidates[0]).toBe("index,text,start,rank,step,step_z,drop,drop_z,score");
        expect(candidates).toHaveLength(count + 1);
        const png = await downloadText(page, "export-scan-png");
        expect([...png.subarray(1, 4)].map((byte) => String.fromCharCode(byte)).join("")).toBe("PNG");

        // cancel: a second localisation stops at once, the result of the first stays (a prompt
        // eight times as long, so that the run is still going on a fast machine when Esc comes)
        await page.getByTestId("bb-prompt").fill(Array.from({ length: 8 }, () => prompt).join(" "));
        await page.getByTestId("bb-budget").fill("2000");
        await page.getByTestId("bb-locate").click();
        await expect(page.getByTestId("bb-progress")).toBeVisible();
        await page.keyboard.press("Escape");
        await expect(page.getByTestId("bb-progress")).toHaveCount(0);
        await expect(page.getByTestId("error-toast")).toHaveCount(0);
        await expect(summary).toHaveAttribute("data-top", top);

        // an endpoint that is not there: a clear error, and the view keeps working
        await page.getByTestId("bb-endpoint").fill("http://127.0.0.1:9/v1");
        await page.getByTestId("bb-locate").click();
        const toast = page.getByTestId("error-toast").first();
        await expect(toast).toBeVisible();
        await expect(toast).toHaveAttribute("data-code", "ORACLE_UNAVAILABLE");
        await expect(toast).toContainText("could not reach");
        await expect(page.getByTestId("bb-locate")).toBeEnabled();
    });

    test("transcript: pasted greedy text (clean and altered) and a JSON file, blind detection with onset, evidence strip, CSV, bad file", async ({ page, tillerServer }) => {
        await page.goto(tillerServer.url);
        await openModel(page, sharedFiles.stories260K, PREFIX);
        await page.getByTestId("nav-probes").click();
        await page.getByTestId("probes-page-forensics").click();
        await page.getByTestId("forensics-tab-transcript").click();
        await page.getByTestId("tx-source-pasted").click();
        // stories260K's own greedy continuation (its README): the clean model wrote it
        const clean = ", there was a little girl named Lily. She loved to play outside in the park.";
        await page.getByTestId("tx-prompt").fill("Once upon a time");
        await page.getByTestId("tx-completion").fill(clean);
        await page.keyboard.press("Control+Enter");
        const summary = page.getByTestId("tx-summary");
        await expect(summary).toBeVisible({ timeout: 150_000 });
        await expect(summary).toHaveAttribute("data-steered", "false");
        const tokens = page.getByTestId("tx-token");
        expect((await tokens.allTextContents()).join("").replace(/␣/g, " ")).toBe(clean);

        // the same text leaving the greedy path after "named": a greedy transcript that is not the argmax there
        const altered = ", there was a little girl named Tom. She loved to play outside in the park.";
        await page.getByTestId("tx-completion").fill(altered);
        await page.getByTestId("tx-detect").click();
        await expect(summary).toHaveAttribute("data-steered", "true", { timeout: 150_000 });
        const onset = Number(await summary.getAttribute("data-onset"));
        const pieces = await tokens.allTextContents();
        expect(pieces.slice(0, onset).join("").replace(/␣/g, " ")).toBe(", there was a little girl named");
        // the onset is marked in the strip (no library here, so no hypothesis to segment engaged intervals with)
        await expect(page.locator(`[data-testid='tx-token'][data-index='${onset}']`)).toHaveClass(/onset/);
        const llr = JSON.parse((await page.getByTestId("tx-chart").getAttribute("data-values"))!) as number[];
        expect(llr).toHaveLength(pieces.length);
        const csv = (await downloadText(page, "export-evidence-csv")).toString("utf8").trim().split(/\r\n/);
        expect(csv[0]).toBe("index,id,piece,clean_logprob,best_logprob,llr,kl,delta_logprob,clean_argmax,surprise,engaged");
        expect(csv).toHaveLength(pieces.length + 1);
        await screenshot(page, PREFIX, "transcript");

        // a JSON file with the clean text: read in the page, detected like the pasted one
        const file = path.join(dir, "transcript.json");
        fs.writeFileSync(file, JSON.stringify({ prompt: "Once upon a time", completion: clean, sampling: { temperature: 0 } }));
        await page.getByTestId("tx-source-file").click();
        await page.getByTestId("tx-file").setInputFiles(file);
        await expect(page.getByTestId("tx-file-name")).toContainText("transcript.json");
        await page.getByTestId("tx-detect").click();
        await expect(summary).toHaveAttribute("data-steered", "false", { timeout: 150_000 });

        const bad = path.join(dir, "bad.json");
        fs.writeFileSync(bad, JSON.stringify({ prompt: "Once", tokens: "not a list" }));
        await page.getByTestId("tx-file").setInputFiles(bad);
        const toast = page.getByTestId("error-toast").first();
        await expect(toast).toBeVisible();
        await expect(toast).toHaveAttribute("data-code", "INVALID_ARGUMENT");
        await expect(toast).toContainText("bad.json is malformed at tokens");
        await expect(page.getByTestId("tx-detect")).toBeDisabled();
    });
});
