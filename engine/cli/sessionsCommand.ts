// `tiller sessions list|show|export|replay`: probe sessions on disk.
import path from "node:path";
import type { Command } from "commander";
import { TillerError } from "../protocol/TillerError.js";
import { TillerModel } from "../runtime/TillerModel.js";
import { defaultDataDir } from "../service/EngineService.js";
import { exportSession } from "../sessions/exportSession.js";
import { replayRun } from "../sessions/replaySession.js";
import { listSessions, openSession, type OpenedSession } from "../sessions/SessionReader.js";
import { wholeNumberParser } from "./parseArguments.js";

const sessionsRoot = (dir?: string) => dir ?? path.join(defaultDataDir(), "sessions");

function findSession(idOrPath: string, dir?: string): OpenedSession {
    if (idOrPath.includes(path.sep) || idOrPath.startsWith("."))
        return openSession(path.resolve(idOrPath));
    const match = listSessions(sessionsRoot(dir)).filter((session) => session.id === idOrPath || session.id.startsWith(idOrPath));
    if (match.length !== 1)
        throw new TillerError("FILE_NOT_FOUND", match.length === 0 ? `no session "${idOrPath}" in ${sessionsRoot(dir)}` : `"${idOrPath}" matches ${match.length} sessions; give more of the id`);
    return openSession(match[0]!.folder);
}

export function registerSessionsCommand(program: Command): void {
    const sessions = program.command("sessions").description("probe sessions: list, show, export, replay");
    const dirOption = ["--dir <DIR>", "sessions folder (default: ~/.tiller/sessions, or $TILLER_DATA_DIR/sessions)"] as const;

    sessions.command("list").description("sessions, newest first").option(...dirOption).option("--search <TEXT>", "match name, id or model")
        .option("--json", "print JSON", false)
        .action((options: { dir?: string; search?: string; json?: boolean }) => {
            const listed = listSessions(sessionsRoot(options.dir), options.search);
            process.stdout.write(options.json ? JSON.stringify(listed) + "\n"
                : listed.map((session) => `${session.id}  ${session.name}  ${session.model ?? "-"}  ${session.runs} run(s)`).join("\n") + (listed.length > 0 ? "\n" : "no sessions\n"));
        });

    sessions.command("show <SESSION>").description("a session's runs and their text (no model needed)").option(...dirOption).option("--json", "print JSON", false)
        .action((id: string, options: { dir?: string; json?: boolean }) => {
            const session = findSession(id, options.dir);
            if (options.json) {
                process.stdout.write(JSON.stringify(session) + "\n");
                return;
            }
            const lines = [`${session.info.name} (${session.info.id}), model ${session.info.model?.fileName ?? "-"}, created ${session.info.createdAt}`];
            for (const [n, run] of session.runs.entries()) {
                lines.push(`run ${n}: ${JSON.stringify(run.start.prompt)} → ${run.tokens.length} tokens, ${run.end?.stopReason ?? "interrupted"}`,
                    `  ${run.end?.text ?? run.tokens.map((token) => token.piece).join("")}`);
            }
            for (const problem of session.problems)
                lines.push(`(line ${problem.line}: ${problem.message})`);
            process.stdout.write(lines.join("\n") + "\n");
        });

    sessions.command("export <SESSION> <TARGET>").description("write CSV, .npy and JSON with a README into TARGET").option(...dirOption)
        .action((id: string, target: string, options: { dir?: string }) => {
            process.stdout.write(`exported to ${exportSession(findSession(id, options.dir), path.resolve(target))}\n`);
        });

    sessions.command("replay <SESSION>").description("re-run the session's runs and check the tokens are identical").option(...dirOption)
        .option("-m, --model <FILE>", "the model file (default: the path recorded in the session)")
        .option("--run <N>", "only run N", wholeNumberParser(0))
        .option("-t, --threads <N>", "CPU threads", wholeNumberParser(1))
        .action(async (id: string, options: { dir?: string; model?: string; run?: number; threads?: number }) => {
            const session = findSession(id, options.dir);
            const modelPath = options.model ?? session.info.model?.path;
            if (modelPath == null)
                throw new TillerError("INVALID_ARGUMENT", "the session names no model; give one with -m");
            const model = await TillerModel.load(modelPath);
            let diverged = false;
            try {
                const runs = options.run != null ? [session.runs[options.run]] : session.runs;
                for (const [n, run] of runs.entries()) {
                    if (run == null)
                        throw new TillerError("INVALID_ARGUMENT", `the session has no run ${options.run}`);
                    const context = await model.createContext({ threads: options.threads ?? session.runs[n]?.start.threads, contextSize: run.start.contextSize });
                    const report = await replayRun(context, session, run);
                    await context.dispose();
                    diverged ||= !report.identical;
                    process.stdout.write(report.identical ? `run ${options.run ?? n}: identical (${report.replayedTokens} tokens)\n`
                        : `run ${options.run ?? n}: DIVERGED at token ${report.firstDivergence!.index} (recorded ${report.firstDivergence!.recorded}, replayed ${report.firstDivergence!.replayed})\n`);
                }
            } finally {
                await model.dispose();
            }
            if (diverged)
                throw new TillerError("INTERNAL", "the replay did not reproduce the recorded tokens");
        });
}
