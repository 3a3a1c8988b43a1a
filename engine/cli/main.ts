// `tiller <command>`: the engine in-process, from a shell. Program wiring and the one place where
// errors become output: bad input exits with status 1 and a single line on stderr,
// `tiller: error: [CODE] message`, never a stack trace.
import { Command, CommanderError } from "commander";
import { TillerError } from "../protocol/TillerError.js";
import { registrationsFor } from "./commandModules.js";

/** Writes the one error line; newlines inside the message are folded so it stays one line. */
export function writeErrorLine(message: string): void {
    process.stderr.write(`tiller: ${message.trim().replace(/\s*\n\s*/g, " ")}\n`);
}

/** The program with the commands `command` needs registered (all of them when it is not a command's name). */
export async function createProgram(command?: string): Promise<Command> {
    const program = new Command("tiller")
        .description("Activation steering of GGUF models through llama.cpp")
        // commander's own messages already start with "error: "
        .configureOutput({ outputError: (text) => writeErrorLine(text) })
        .exitOverride()
        .showSuggestionAfterError(false)
        .allowExcessArguments(false);
    // settings above are inherited by the commands below (they must come first)
    for (const register of await registrationsFor(command))
        register(program);
    return program;
}

/** Runs the CLI on `argv` (as process.argv: node, script, args...) and returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
    const program = await createProgram(argv[2]);
    try {
        await program.parseAsync([...argv]);
        return 0;
    } catch (error) {
        if (error instanceof CommanderError)
            return error.exitCode; // already printed (or help/version: exit code 0)
        if (error instanceof TillerError)
            writeErrorLine(`error: [${error.code}] ${error.message}`);
        else if (error instanceof Error)
            writeErrorLine(`error: ${error.message}`);
        else
            writeErrorLine(`error: ${String(error)}`);
        if (process.env.TILLER_DEBUG)
            console.error(error);
        return 1;
    }
}
