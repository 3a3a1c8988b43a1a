// The first start on a fresh clone: `tiller serve` without a model opens the toy world (what
// `npm start` does), the Start view offers the sycophancy-patch scenario, and the scenario's
// conditional anti-flattery patch fires on a user who merely describes flattery (and on real
// flattery) but not on the same sentence with a harmless deed nor on an unmarked claim — the
// hasty-patch story, end to end on the real model in a real browser — and the susceptibility view
// opens on a flattering reply.
import fs from "node:fs";
import path from "node:path";
import { screenshot, waitForEngine } from "./scenarios.js";
import { expect, startServe, stopServe, test } from "./tillerServe.js";

const toyWorld = path.resolve(import.meta.dirname, "..", "..", "models", "toyworld.gguf");
const PREFIX = "toyworld";

test.describe("the toy world, the default model", () => {
    test.skip(!fs.existsSync(toyWorld), `the toy world is absent: ${toyWorld} (npm run toyworld)`);

    test("opens by default; the sycophancy scenario's patch fires on a description of flattery, not on the same sentence with a harmless deed nor on a neutral claim", async ({ page }) => {
        const { server, child } = await startServe({ model: "default" });
        try {
            await page.goto(server.url);
            await waitForEngine(page);
            await expect(page.getByTestId("model-chip")).toContainText("toyworld.gguf");
            await screenshot(page, PREFIX, "start");

            await page.getByTestId("scenario-open").click();
            // the scenario builds the flattery vector, then shows the Run view with its patch
            await expect(page.getByTestId("generate")).toBeVisible({ timeout: 120_000 });
            await expect(page.getByTestId("patch-row")).toHaveCount(1);
            await expect(page.getByTestId("patch-vector").locator("option:checked")).toHaveText("toyworld flattery");

            const strip = page.getByTestId("token-strip");
            const runToEnd = async (): Promise<void> => {
                await page.getByTestId("generate").click();
                await expect(strip).toHaveAttribute("data-status", "idle", { timeout: 60_000 });
                expect(Number(await strip.getAttribute("data-count"))).toBeGreaterThan(0);
            };
            await runToEnd(); // the scenario's first prompt describes flattery
            await expect(page.getByTestId("trigger-marker").first()).toHaveAttribute("data-kind", "engaged");
            await screenshot(page, PREFIX, "description-fires");

            // the same sentence with a harmless deed: what fires the patch is what the description says
            await page.getByTestId("nav-start").click();
            await page.locator("[data-testid='scenario-prompt'][data-kind='neutral']").first().click();
            await runToEnd();
            await expect(page.getByTestId("trigger-marker")).toHaveCount(0);
            await screenshot(page, PREFIX, "twin-quiet");

            await page.getByTestId("nav-start").click();
            await page.locator("[data-testid='scenario-prompt'][data-kind='neutral']").last().click();
            await runToEnd();
            await expect(page.getByTestId("trigger-marker")).toHaveCount(0);
            await screenshot(page, PREFIX, "neutral-quiet");

            // and real flattery fires it too
            await page.getByTestId("nav-start").click();
            await page.locator("[data-testid='scenario-prompt'][data-kind='flattery']").first().click();
            await runToEnd();
            await expect(page.getByTestId("trigger-marker").first()).toHaveAttribute("data-kind", "engaged");

            // the susceptibility of a flattering reply to the flattery direction, token by token
            await page.getByTestId("nav-start").click();
            await page.getByTestId("scenario-susceptibility").click();
            await expect(page.getByTestId("chi-strip")).toBeVisible({ timeout: 60_000 });
            expect((await page.getByTestId("probe-token").allTextContents()).join("")).toContain("smart");
            const chi = JSON.parse((await page.getByTestId("chi-bars").getAttribute("data-values"))!) as number[];
            expect(Math.max(...chi.map(Math.abs))).toBeGreaterThan(1e-3);
            await screenshot(page, PREFIX, "susceptibility");
        } finally {
            await stopServe(child, server.dataDir);
        }
    });
});
