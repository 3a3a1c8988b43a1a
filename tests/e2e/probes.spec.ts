// The Probes view in Chromium against the real `tiller serve` and stories260K: a susceptibility
// sweep (χ bars under the tokens, α-curves, the tokens × layers heatmap), the detection of a
// steered run's patch, and the PNG/CSV exports of the plots (read back from the downloads).
import fs from "node:fs";
import path from "node:path";
import type { Download, Page } from "@playwright/test";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { buildSentimentVector, openModel, screenshot, screenshotDir, setUpPatch, vectorName } from "./scenarios.js";
import { expect, test } from "./tillerServe.js";

const PREFIX = "probes";
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

async function downloadOf(page: Page, testId: string): Promise<{ download: Download; bytes: Buffer }> {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testId).click()]);
    const file = await download.path();
    return { download, bytes: fs.readFileSync(file) };
}

/** A PNG's width and height from its IHDR chunk, after checking the signature. */
function pngSize(bytes: Buffer): { width: number; height: number } {
    expect([...bytes.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(bytes.subarray(12, 16).toString("ascii")).toBe("IHDR");
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** How many distinct colours the PNG has, decoded by the page itself: a blank export has one or two. */
async function pngColourCount(page: Page, bytes: Buffer): Promise<number> {
    return page.evaluate(async (base64) => {
        const image = new Image();
        await new Promise((resolve, reject) => {
            image.onload = resolve;
            image.onerror = reject;
            image.src = `data:image/png;base64,${base64}`;
        });
        const canvas = document.createElement("canvas");
        canvas.width = image.width;
        canvas.height = image.height;
        const context = canvas.getContext("2d")!;
        context.drawImage(image, 0, 0);
        const pixels = context.getImageData(0, 0, image.width, image.height).data;
        const colours = new Set<number>();
        for (let i = 0; i < pixels.length; i += 4)
            colours.add((pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!);
        return colours.size;
    }, bytes.toString("base64"));
}

function parseCsv(text: string): string[][] {
    // the exports quote only pieces with commas, quotes or edge spaces; enough for these rows
    return text.trim().split(/\r\n/).map((line) => {
        const cells: string[] = [];
        let cell = "", quoted = false;
        for (let i = 0; i < line.length; i++) {
            const char = line[i]!;
            if (quoted && char === "\"" && line[i + 1] === "\"") {
                cell += "\"";
                i++;
            } else if (char === "\"") {
                quoted = !quoted;
            } else if (char === "," && !quoted) {
                cells.push(cell);
                cell = "";
            } else {
                cell += char;
            }
        }
        cells.push(cell);
        return cells;
    });
}

test.describe.configure({ mode: "serial" });

test.describe("Probes view in Chromium", () => {
    test.skip(missing(sharedFiles.stories260K), `the test model is absent: ${sharedFiles.stories260K}`);

    test("sweep, α-curves, heatmap, detection of a steered and a triggered run, trigger editor, cancel, PNG and CSV exports", async ({ page, tillerServer }) => {
        // several sweeps, each of seven-point stencils per layer with I_t: minutes on a busy 2-core machine
        test.setTimeout(300_000);
        await page.goto(tillerServer.url);
        await openModel(page, sharedFiles.stories260K, PREFIX);
        await buildSentimentVector(page, PREFIX);

        // ---- sweep: a short completion, a 3-point grid, per layer
        await page.getByTestId("nav-probes").click();
        await expect(page.getByTestId("probes-empty")).toBeVisible();
        await page.getByTestId("sweep-vector").selectOption({ label: vectorName });
        await page.getByTestId("sweep-prompt").fill("One day, Tom went to the park with his mom.");
        await page.getByTestId("sweep-completion").fill(" He was very happy. He smiled.");
        await page.getByTestId("sweep-alpha-from").fill("-1");
        await page.getByTestId("sweep-alpha-to").fill("1");
        await page.getByTestId("sweep-alpha-count").fill("3");
        await expect(page.getByTestId("sweep-per-layer")).toBeChecked();
        await page.keyboard.press("Control+Enter"); // the view's shortcut sweeps, as Run's generates

        const strip = page.getByTestId("chi-strip");
        await expect(strip).toBeVisible({ timeout: 60_000 });
        const tokens = page.getByTestId("probe-token");
        const count = await tokens.count();
        expect(count).toBeGreaterThanOrEqual(5);
        expect((await tokens.allTextContents()).join("")).toContain("happy");
        // one bar per token, with values that are not all zero
        const chi = JSON.parse((await page.getByTestId("chi-bars").getAttribute("data-values"))!) as number[];
        expect(chi).toHaveLength(count);
        expect(chi.every(Number.isFinite)).toBe(true);
        expect(Math.max(...chi.map(Math.abs))).toBeGreaterThan(1e-3);
        await expect(page.locator("[data-testid='chi-bars'] .recharts-bar-rectangle")).toHaveCount(count);
        // each bar sits under its token: the centres line up within a pixel
        const tokenBox = (await tokens.nth(2).boundingBox())!;
        const barBox = (await page.locator("[data-testid='chi-bars'] .recharts-bar-rectangle").nth(2).boundingBox())!;
        expect(Math.abs((tokenBox.x + tokenBox.width / 2) - (barBox.x + barBox.width / 2))).toBeLessThan(1.5);

        // α-curves: the three largest |χ| are pre-selected; clicking a token adds its curve
        const curves = page.getByTestId("alpha-curves");
        await expect(curves).toHaveAttribute("data-curves", "3");
        await expect(curves.locator(".recharts-line")).toHaveCount(3);
        const unselected = page.locator("[data-testid='probe-token']:not(.selected)").first();
        await unselected.click();
        await expect(curves).toHaveAttribute("data-curves", "4");
        await expect(curves.locator(".recharts-line")).toHaveCount(4);

        // heatmap: tokens × layers cells, with values of both signs or at least several colours
        const heatmap = page.getByTestId("chi-heatmap");
        const layers = Number(await heatmap.getAttribute("data-layers"));
        expect(layers).toBeGreaterThanOrEqual(2);
        const cells = heatmap.getByTestId("heatmap-cell");
        await expect(cells).toHaveCount(count * layers);
        const values = await cells.evaluateAll((nodes) => nodes.map((node) => Number(node.getAttribute("data-value"))));
        expect(values.every(Number.isFinite)).toBe(true);
        expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(1e-3);
        const fills = await cells.evaluateAll((nodes) => nodes.map((node) => node.getAttribute("fill")));
        expect(new Set(fills).size).toBeGreaterThan(3);
        // linear response: Λ(α) with its maximiser, and I_t per token (positive: the vector moves every distribution)
        const lambda = page.getByTestId("path-free-energy");
        await expect(lambda).toBeVisible();
        expect(Number.isFinite(Number(await lambda.getAttribute("data-alpha-ml")))).toBe(true);
        const fisher = JSON.parse((await page.getByTestId("fisher-strip").getAttribute("data-values"))!) as number[];
        expect(fisher).toHaveLength(count);
        expect(fisher.every((value) => value > 0)).toBe(true);
        const lambdaCsv = parseCsv((await downloadOf(page, "export-lambda-csv")).bytes.toString("utf8"));
        expect(lambdaCsv[0]).toEqual(["alpha", "path_free_energy"]);
        await screenshot(page, PREFIX, "sweep");

        // ---- exports: χ as CSV (the values the bars show), the χ bars and the heatmap as PNG
        const chiCsv = await downloadOf(page, "export-chi-csv");
        expect(chiCsv.download.suggestedFilename()).toBe("chi-per-token.csv");
        const rows = parseCsv(chiCsv.bytes.toString("utf8"));
        expect(rows[0]).toEqual(["index", "id", "piece", "chi", "chi_error", "curvature", "entropy_response", "fisher", "fdt_gap", "fdt_gap_error"]);
        expect(rows).toHaveLength(count + 1);
        for (const [k, row] of rows.slice(1).entries()) {
            expect(Number(row[0])).toBe(k);
            expect(Number(row[3])).toBeCloseTo(chi[k]!, 12);
        }
        const heatmapCsv = parseCsv((await downloadOf(page, "export-heatmap-csv")).bytes.toString("utf8"));
        expect(heatmapCsv[0]!.slice(2).every((name) => /^chi_L\d+$/.test(name))).toBe(true);
        expect(heatmapCsv[0]!.length).toBe(2 + layers);

        const heatmapPng = await downloadOf(page, "export-heatmap-png");
        expect(heatmapPng.download.suggestedFilename()).toBe("chi-heatmap.png");
        const svgBox = (await heatmap.locator("svg[data-plot]").boundingBox())!;
        const heatmapSize = pngSize(heatmapPng.bytes);
        expect(heatmapSize.width).toBe(Math.round(svgBox.width) * 2); // drawn at 2× the CSS size
        expect(await pngColourCount(page, heatmapPng.bytes)).toBeGreaterThan(10);
        const barsPng = await downloadOf(page, "export-chi-png");
        expect(pngSize(barsPng.bytes).width).toBeGreaterThan(200);
        expect(await pngColourCount(page, barsPng.bytes)).toBeGreaterThan(10);
        // kept beside the screenshots, to look at what an export gives
        fs.writeFileSync(path.join(screenshotDir, `${PREFIX}-export-heatmap.png`), heatmapPng.bytes);
        fs.writeFileSync(path.join(screenshotDir, `${PREFIX}-export-chi.png`), barsPng.bytes);

        // ---- detection: a run steered from token 5, detected from its recorded tokens
        await setUpPatch(page, { strength: 1.5, fromToken: 5, maxTokens: 16 });
        await page.getByTestId("generate").click();
        await expect(page.getByTestId("token-strip")).toHaveAttribute("data-status", "idle", { timeout: 60_000 });
        await page.getByTestId("nav-probes").click();
        await page.getByTestId("detect-source-run").click();
        await page.getByTestId("detect-run").click();
        const summary = page.getByTestId("detection-summary");
        await expect(summary).toHaveAttribute("data-steered", "true", { timeout: 60_000 });
        await expect(summary).toHaveAttribute("data-onset", "5");
        await expect(summary).toContainText(vectorName);
        const kl = JSON.parse((await page.getByTestId("detection-chart").getAttribute("data-values"))!) as number[];
        expect(kl.slice(0, 5).every((value) => value < 1e-5)).toBe(true);
        expect(Math.max(...kl.slice(5))).toBeGreaterThan(1e-4);
        await expect(page.locator("[data-testid='detection-chart'] .recharts-bar-rectangle").first()).toBeVisible();
        await page.getByTestId("detection-chart").scrollIntoViewIfNeeded();
        await screenshot(page, PREFIX, "detection");

        const detectionCsv = parseCsv((await downloadOf(page, "export-detection-csv")).bytes.toString("utf8"));
        expect(detectionCsv[0]).toEqual(["index", "id", "piece", "kl", "delta_logprob"]);
        expect(detectionCsv).toHaveLength(kl.length + 1);
        expect(Number(detectionCsv[6]![3])).toBeCloseTo(kl[5]!, 12);
        pngSize((await downloadOf(page, "export-detection-png")).bytes);

        // ---- the patch editor's trigger: the same patch, engaged by a text match for 4 tokens
        await page.getByTestId("nav-run").click();
        await page.getByTestId("patch-from").fill("");
        await page.getByTestId("max-tokens").fill("24");
        await page.getByTestId("trigger-kind-text").click();
        await page.getByTestId("trigger-match").fill("Lily");
        await page.getByTestId("trigger-text-hold").fill("4");
        await page.getByTestId("generate").click();
        await expect(page.getByTestId("token-strip")).toHaveAttribute("data-status", "idle", { timeout: 60_000 });
        const pieces = await page.getByTestId("token").allTextContents();
        const matchedAt = pieces.findIndex((_, k) => pieces.slice(0, k + 1).join("").includes("Lily"));
        expect(matchedAt, `"Lily" in ${JSON.stringify(pieces.join(""))}`).toBeGreaterThan(0);
        // (the engine re-engages once the hold ends, as the text still contains the match: only the first engagement is checked)
        await expect(page.locator("[data-testid='trigger-marker'][data-kind='engaged']").first()).toHaveAttribute("data-at", String(matchedAt + 1));
        await expect(page.locator("[data-testid='trigger-marker'][data-kind='released']").first()).toHaveAttribute("data-at", String(matchedAt + 1 + 4));
        await screenshot(page, PREFIX, "trigger");
        // a projection trigger whose threshold every token passes engages at once: the last prompt
        // token's projection is known after the prompt's decode, so the patch acts from token 1
        await page.getByTestId("trigger-kind-projection").click();
        await page.getByTestId("trigger-vector").selectOption({ label: vectorName });
        await page.getByTestId("trigger-layer").fill("2");
        await page.getByTestId("trigger-threshold").fill("-1000");
        await page.getByTestId("trigger-release-hold").click();
        await page.getByTestId("trigger-hold").fill("3");
        await page.getByTestId("generate").click();
        await expect(page.getByTestId("token-strip")).toHaveAttribute("data-status", "idle", { timeout: 60_000 });
        await expect(page.locator("[data-testid='trigger-marker'][data-kind='engaged']").first()).toHaveAttribute("data-at", "1");
        await expect(page.locator("[data-testid='trigger-marker'][data-kind='released']").first()).toHaveAttribute("data-at", "4");

        // back to the text trigger's run for detection
        await page.getByTestId("trigger-kind-text").click();
        await page.getByTestId("trigger-match").fill("Lily");
        await page.getByTestId("trigger-text-hold").fill("4");
        await page.getByTestId("generate").click();
        await expect(page.getByTestId("token-strip")).toHaveAttribute("data-status", "idle", { timeout: 60_000 });
        expect(await page.getByTestId("token").allTextContents()).toEqual(pieces);

        // detection of the triggered run: the onset is where the trigger engaged
        await page.keyboard.press("Control+Shift+P"); // the view's key, as Sessions' Ctrl+Shift+S
        await expect(page.getByTestId("detection-panel")).toBeVisible();
        await page.getByTestId("detect-run").click();
        await expect(summary).toHaveAttribute("data-onset", String(matchedAt + 1));
        await expect(summary).toHaveAttribute("data-steered", "true");

        // ---- the sweep takes the last run as its text
        await page.getByTestId("sweep-source-run").click();
        await page.getByTestId("sweep-run").click();
        await expect.poll(async () => page.getByTestId("probe-token").count(), { message: "the sweep covers the run's tokens", timeout: 60_000 }).toBe(pieces.length);

        // ---- Cancel: a long sweep of a long typed text (201 strengths, per layer: seconds) stopped
        // with Esc leaves the last run's sweep on screen, and the engine serves the next sweep
        await page.getByTestId("sweep-source-typed").click();
        await page.getByTestId("sweep-completion").fill(" He was very happy. He smiled and laughed and played with his friend.".repeat(8));
        await page.getByTestId("sweep-alpha-count").fill("201");
        await page.getByTestId("sweep-run").click();
        await expect(page.getByTestId("probe-progress")).toBeVisible();
        await page.keyboard.press("Escape");
        await expect(page.getByTestId("probe-progress")).toHaveCount(0);
        await expect(page.getByTestId("probe-token")).toHaveCount(pieces.length);
        await expect(page.locator(".toast")).toHaveCount(0);
        await page.getByTestId("sweep-completion").fill(" He was very happy. He smiled.");
        await page.getByTestId("sweep-alpha-count").fill("3");
        await page.getByTestId("sweep-run").click();
        await expect(page.getByTestId("probe-token")).toHaveCount(count);
    });
});
