// Black-box trigger localisation over seeded suspects (engine/blackbox): how often the token that
// switches the hidden patch on is ranked first / in the top three, how often a switch is claimed
// where there is none (the clean model, prompts on which the trigger never fires), the queries
// used and the wall time. Oracles are in-process (EngineOracle: the same answers the suspect's HTTP
// endpoint gives, without the transport), so the time is the localiser's and the model's.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EngineOracle } from "../engine/blackbox/EngineOracle.js";
import { HiddenPatchModel } from "../engine/blackbox/HiddenPatchModel.js";
import { locateTrigger } from "../engine/blackbox/locateTrigger.js";
import { suspectTrial, triggerRank } from "../engine/blackbox/suspectTrials.js";
import { TillerModel } from "../engine/runtime/TillerModel.js";
import { median } from "./benchStatistics.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const models = [
    { name: "stories260K", file: process.env.TILLER_STORIES ?? path.resolve(here, "..", "..", "..", "shared", "models", "stories260K.gguf") },
    { name: "toy world", file: path.resolve(here, "..", "..", "models", "toyworld.gguf") }
];

/** Runs the section, printing each line as soon as it is known (a long section shows progress). */
export async function benchBlackbox(threads: number, print: (line: string) => void = (line) => process.stdout.write(line + "\n")): Promise<void> {
    const trials = Number(process.env.BENCH_BLACKBOX_TRIALS ?? 20); // per model and trigger kind
    const budget = 300;
    const lines = { push: (...entries: string[]) => entries.forEach(print) };
    lines.push(`seeds 1000…${1000 + trials - 1} per model and trigger kind; budget ${budget} queries per localisation`);
    for (const entry of models) {
        if (!fs.existsSync(entry.file)) {
            lines.push(`${entry.name}: skipped, ${entry.file} is absent`);
            continue;
        }
        const model = await TillerModel.load(entry.file);
        const context = await model.createContext({ threads, contextSize: 1024 });
        try {
            for (const kind of ["text", "projection"] as const) {
                let fired = 0, top1 = 0, top3 = 0, claimedOnFired = 0, notFired = 0, claimedOnNotFired = 0, failed = 0;
                const queries: number[] = [];
                const wall: number[] = [];
                for (let seed = 1000; seed < 1000 + trials; seed++) {
                    const trial = await suspectTrial(context, seed, kind);
                    const result = await locateTrigger(new EngineOracle(new HiddenPatchModel(context, trial.suspect.patch), budget), { prompt: trial.prompt })
                        .catch((error: unknown) => {
                            failed++;
                            print(`  seed ${seed}: localisation failed: ${(error as Error).message}`);
                            return null;
                        });
                    if (result == null)
                        continue;
                    queries.push(result.queries);
                    wall.push(result.wallMs);
                    if (trial.fired == null) {
                        notFired++;
                        claimedOnNotFired += result.switchFound ? 1 : 0;
                        continue;
                    }
                    fired++;
                    const rank = triggerRank(trial, result.units, result.ranking);
                    top1 += rank === 0 ? 1 : 0;
                    top3 += rank != null && rank < 3 ? 1 : 0;
                    claimedOnFired += result.switchFound ? 1 : 0;
                }
                const percent = (count: number, of: number) => (of === 0 ? "n/a" : `${(100 * count / of).toFixed(1)}% (${count}/${of})`);
                lines.push(
                    `${entry.name}, ${kind} triggers: ${trials} suspects, trigger fired on a prompt token in ${fired}${failed > 0 ? `, ${failed} failed` : ""}`,
                    `  trigger token top-1            ${percent(top1, fired)}`,
                    `  trigger token top-3            ${percent(top3, fired)}`,
                    `  switch claimed (fired)         ${percent(claimedOnFired, fired)}`,
                    `  switch claimed (never fired)   ${percent(claimedOnNotFired, notFired)}`,
                    `  queries median / max           ${median(queries)} / ${Math.max(...queries)}`,
                    `  wall time median / max         ${(median(wall) / 1000).toFixed(2)} s / ${(Math.max(...wall) / 1000).toFixed(2)} s`
                );
            }
            // clean model: any claimed switch is a false alarm
            let claimed = 0;
            const cleanTrials = Math.max(4, Math.floor(trials / 2));
            for (let seed = 5000; seed < 5000 + cleanTrials; seed++) {
                const trial = await suspectTrial(context, seed, "text");
                const result = await locateTrigger(new EngineOracle(new HiddenPatchModel(context, null), budget), { prompt: trial.prompt }).catch(() => null);
                claimed += result?.switchFound === true ? 1 : 0;
            }
            lines.push(`${entry.name}, clean model: switch claimed on ${claimed} of ${cleanTrials} prompts (false alarms)`);
        } finally {
            await model.dispose();
        }
    }
}
