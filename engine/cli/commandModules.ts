// Where each top-level command is defined. `tiller <command>` imports only that command's module
// (and what it needs), not all sixteen: loading every command's dependencies (the service, the
// server, the vector tools...) took longer than a small model's whole generation.
import type { Command } from "commander";

type Registration = (program: Command) => void;

/** In the order the full help lists them; `names` are the top-level command names a module registers. */
export const commandModules: ReadonlyArray<{ names: readonly string[]; load: () => Promise<Registration> }> = [
    { names: ["generate"], load: async () => (await import("./generateCommand.js")).registerGenerateCommand },
    { names: ["make-model"], load: async () => (await import("./makeModelCommand.js")).registerMakeModelCommand },
    { names: ["info"], load: async () => (await import("./infoCommand.js")).registerInfoCommand },
    { names: ["vector"], load: async () => (await import("./vectorCommands.js")).registerVectorCommands },
    { names: ["datasets"], load: async () => (await import("./datasetsCommand.js")).registerDatasetsCommand },
    { names: ["serve"], load: async () => (await import("./serveCommand.js")).registerServeCommand },
    { names: ["sweep"], load: async () => (await import("./sweepCommand.js")).registerSweepCommand },
    { names: ["thermo"], load: async () => (await import("./thermoCommand.js")).registerThermoCommand },
    { names: ["detect"], load: async () => (await import("./detectCommand.js")).registerDetectCommand },
    { names: ["explain"], load: async () => (await import("./explainCommand.js")).registerExplainCommand },
    { names: ["sessions"], load: async () => (await import("./sessionsCommand.js")).registerSessionsCommand },
    { names: ["models", "backends"], load: async () => (await import("./modelsCommand.js")).registerModelsCommand },
    { names: ["toyworld"], load: async () => (await import("./toyworldCommand.js")).registerToyworldCommand },
    { names: ["quantize"], load: async () => (await import("./quantizeCommand.js")).registerQuantizeCommand },
    { names: ["suspect"], load: async () => (await import("./suspectCommand.js")).registerSuspectCommand },
    { names: ["locate"], load: async () => (await import("./locateCommand.js")).registerLocateCommand }
];

/**
 * The registrations a run needs: only the named command's module when `command` is one of them,
 * every module otherwise (no command, `help`, an option such as --help, or an unknown name, whose
 * error must list nothing wrong).
 */
export async function registrationsFor(command: string | undefined): Promise<Registration[]> {
    const owner = command == null ? undefined : commandModules.find((entry) => entry.names.includes(command));
    const modules = owner != null ? [owner] : commandModules;
    return Promise.all(modules.map((entry) => entry.load()));
}
