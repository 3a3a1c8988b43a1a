#!/usr/bin/env node
// `npm test`: typecheck + lint + every vitest suite, then one closing line `N passed, N failed,
// N skipped` (the line CI reads). Exits non-zero when any step fails.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const steps = [
    ["typecheck", [npx, "tsc", "-p", "tsconfig.json"]],
    ["typecheck electron", [npx, "tsc", "-p", "tsconfig.electron.json", "--noEmit"]],
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
const vitest = spawnSync(npx, ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${reportPath}`, ...process.argv.slice(2)],
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
failed += failedSteps;
if (vitest.status !== 0 && failed === 0)
    failed = 1;
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 || vitest.status !== 0 ? 1 : 0);
