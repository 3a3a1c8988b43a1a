#!/usr/bin/env node
// `npm test`: typecheck (engine, electron, renderer, tests) + lint + every vitest suite + the Playwright end-to-end suite, then one
// closing line `N passed, N failed, N skipped` (the line CI reads). Exits non-zero when any step
// fails. `--no-e2e` leaves the browser suite out (it needs /usr/bin/chromium; .ci/run installs it).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const steps = [
    ["typecheck", [npx, "tsc", "-p", "tsconfig.json"]],
    ["typecheck electron", [npx, "tsc", "-p", "tsconfig.electron.json", "--noEmit"]],
    ["typecheck renderer", [npx, "tsc", "-p", "tsconfig.renderer.json"]],
    ["typecheck tests", [npx, "tsc", "-p", "tsconfig.tests.json"]],
    ["lint", [npx, "eslint", "."]]
];
let failedSteps = 0;
for (const [name, [command, ...args]] of steps) {
    process.stdout.write(`\n== ${name} ==\n`);
    const result = spawnSync(command, args, { stdio: "inherit" });
    if (result.status !== 0) {
        process.stdout.write(`${name} failed\n`);
        failedSteps++;
    }
}

process.stdout.write("\n== tests ==\n");
const reportPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "tiller-tests-")), "report.json");
const withE2e = !process.argv.includes("--no-e2e");
const vitestArgs = process.argv.slice(2).filter((arg) => arg !== "--no-e2e");
const vitest = spawnSync(npx, ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${reportPath}`, ...vitestArgs],
    { stdio: "inherit" });

let passed = 0, failed = 1, skipped = 0; // no report means the run itself broke
if (fs.existsSync(reportPath)) {
    const report = JSON.parse(fs.readFileSync(reportPath, "utf8"));
    passed = report.numPassedTests ?? 0;
    failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
    skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    if (report.numFailedTestSuites > 0 && failed === 0)
        failed = report.numFailedTestSuites; // a suite that failed to load has no tests of its own
}
if (vitest.status !== 0 && failed === 0)
    failed = 1;

let e2eStatus = 0;
if (withE2e) {
    process.stdout.write("\n== end-to-end (Playwright) ==\n");
    const e2eReport = path.join(path.dirname(reportPath), "e2e.json");
    const e2e = spawnSync(npx, ["playwright", "test", "--reporter=list,json"], {
        stdio: "inherit", env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_FILE: e2eReport }
    });
    e2eStatus = e2e.status ?? 1;
    if (fs.existsSync(e2eReport)) {
        const stats = JSON.parse(fs.readFileSync(e2eReport, "utf8")).stats ?? {};
        passed += (stats.expected ?? 0) + (stats.flaky ?? 0);
        failed += stats.unexpected ?? 0;
        skipped += stats.skipped ?? 0;
    }
    if (e2eStatus !== 0 && (!fs.existsSync(e2eReport)))
        failed++;
}
failed += failedSteps;
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 || vitest.status !== 0 || e2eStatus !== 0 ? 1 : 0);
