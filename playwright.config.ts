// End-to-end tests: the real renderer against the real engine.
//   chromium  Debian's /usr/bin/chromium opens the page that `tiller serve` prints (tests/e2e/tiller.spec.ts)
//   electron  the same scenarios in the Electron app, where an Electron binary is installed (electron.spec.ts)
// Screenshots of every view land in test-artifacts/screenshots/ (git-ignored).
// Before the tests, globalSetup builds what they run (engine/CLI/Electron main and the renderer);
// set TILLER_E2E_SKIP_BUILD=1 to use the current dist/ as it is.
import { defineConfig } from "@playwright/test";

export const chromiumArgs = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"
];

export default defineConfig({
    testDir: "tests/e2e",
    testMatch: "*.spec.ts",
    outputDir: "test-artifacts/playwright",
    globalSetup: "./tests/e2e/globalSetup.ts",
    timeout: 180_000,
    expect: { timeout: 30_000 },
    fullyParallel: false,
    workers: 1,
    retries: 0,
    reporter: [["list"]],
    use: {
        viewport: { width: 1440, height: 900 },
        actionTimeout: 30_000,
        screenshot: "only-on-failure",
        trace: "retain-on-failure"
    },
    projects: [
        {
            name: "chromium",
            testIgnore: "electron.spec.ts",
            use: {
                browserName: "chromium",
                headless: true,
                launchOptions: { executablePath: "/usr/bin/chromium", args: chromiumArgs }
            }
        },
        {
            name: "electron",
            testMatch: "electron.spec.ts"
        }
    ]
});
