// Start-up of a CLI call that loads a model: llama.cpp's backend (node-llama-cpp's getLlama, which
// on Linux tests its binary in a child process before loading it) is started before the CLI's own
// modules are imported, so that the child process and the imports run at the same time instead of
// one after the other. The backend started is exactly the one the command would ask for itself
// (backendChoiceForCommand), so starting it early changes nothing but the time.
import { getTillerBackend, type BackendOptions } from "../runtime/TillerBackend.js";

/** Commands that load a model through the process's default backend. */
const commandsLoadingAModel = new Set(["generate"]);

/**
 * The backend options a command would use: `--gpu-layers 0` asks for no GPU, so no GPU backend is
 * probed or loaded (unless $TILLER_GPU names one); otherwise the default ($TILLER_GPU or auto).
 */
export function backendChoiceForCommand(args: readonly string[]): BackendOptions {
    const gpuLayersIndex = args.indexOf("--gpu-layers");
    const gpuLayers = gpuLayersIndex >= 0 ? args[gpuLayersIndex + 1] : args.find((arg) => arg.startsWith("--gpu-layers="))?.slice("--gpu-layers=".length);
    const envChoice = process.env.TILLER_GPU;
    return gpuLayers != null && gpuLayers.trim() !== "" && Number(gpuLayers) === 0 && (envChoice == null || envChoice === "") ? { gpu: false } : {};
}

/** `argv` as process.argv; starts the backend when the command will need it, ignoring failures (the command reports them). */
export function prestartBackend(argv: readonly string[]): void {
    const command = argv[2];
    if (command == null || !commandsLoadingAModel.has(command) || argv.includes("--help") || argv.includes("-h"))
        return;
    getTillerBackend(backendChoiceForCommand(argv.slice(3))).catch(() => undefined);
}
