// `tiller suspect` and `tiller locate` end to end: the compiled CLI (run `npm run build:ts` first)
// serves a seeded suspect on loopback, and locate finds its trigger word over HTTP knowing only
// the endpoint, the key and the prompt; the revealed answer is read only to check.
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SuspectAnswer } from "../../engine/blackbox/drawSuspect.js";
import type { LocateResult } from "../../engine/blackbox/locateTrigger.js";
import { trialStories } from "../../engine/blackbox/suspectTrials.js";
import { expectOneLineError, repoRoot, runTiller } from "../support/runTiller.js";
import { missing, sharedFiles } from "../support/sharedFiles.js";
import { startSuspect } from "../support/suspectProcess.js";

const compiled = fs.existsSync(path.join(repoRoot, "dist", "engine", "cli", "locateCommand.js"));

describe.skipIf(!compiled || missing(sharedFiles.stories260K))("tiller suspect + tiller locate", () => {
    const children: ChildProcess[] = [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-blackbox-cli-"));
    afterAll(() => {
        for (const child of children)
            child.kill("SIGTERM");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("locates the revealed trigger word of a text-triggered suspect", async () => {
        const reveal = path.join(dir, "answer.json");
        const suspect = await startSuspect(["--seed", "4", "--kind", "text", "-m", sharedFiles.stories260K, "--threads", "1", "--reveal", reveal]);
        children.push(suspect.child);
        const answer = JSON.parse(fs.readFileSync(reveal, "utf8")) as SuspectAnswer;
        expect(answer.trigger.kind).toBe("text");
        const story = trialStories.find((entry) => !entry.toLowerCase().includes(answer.triggerWord.trim()))!;
        const cut = story.indexOf(" ", story.length / 2);
        const prompt = story.slice(0, cut) + answer.triggerWord + story.slice(cut);
        const result = await runTiller(["locate", "--endpoint", suspect.endpoint, "--api-key", suspect.key, "-p", prompt, "--budget", "150", "--json"]);
        expect(result.status, result.stderr).toBe(0);
        const located = JSON.parse(result.stdout) as LocateResult;
        expect(located.queries).toBeLessThanOrEqual(150);
        expect(located.switchFound).toBe(true);
        const top3 = located.ranking.slice(0, 3).map((index) => located.units[index]!.text);
        expect(top3.some((text) => text.trim().length > 0 && answer.triggerWord.includes(text.trim())), JSON.stringify(top3)).toBe(true);

        const table = await runTiller(["locate", "--endpoint", suspect.endpoint, "--api-key", suspect.key, "-p", prompt, "--budget", "150"]);
        expect(table.status, table.stderr).toBe(0);
        expect(table.stdout).toMatch(/A switch was found: \d+ of 150 queries/);
        expect(table.stdout).toContain(JSON.stringify(located.units[located.ranking[0]!]!.text));
    }, 240_000);

    it("refuses bad input with one clear line", async () => {
        expectOneLineError(await runTiller(["locate", "--endpoint", "http://127.0.0.1:9/v1", "-p", "Tom had a car.", "--timeout", "5"]), /\[ORACLE_UNAVAILABLE\] could not reach/);
        expectOneLineError(await runTiller(["locate", "--endpoint", "ftp://x", "-p", "Tom"]), /\[INVALID_ARGUMENT\].*http/);
        expectOneLineError(await runTiller(["locate", "--endpoint", "http://127.0.0.1:9/v1"]), /--prompt/);
        expectOneLineError(await runTiller(["suspect", "--seed", "1", "--kind", "sideways", "-m", sharedFiles.stories260K]), /--kind must be text or projection/);
        expectOneLineError(await runTiller(["suspect", "--seed", "1", "--host", "0.0.0.0", "-m", sharedFiles.stories260K]), /loopback/);
    }, 180_000);
});
