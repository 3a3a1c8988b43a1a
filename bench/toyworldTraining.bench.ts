// Toy world training speed: a short seeded run of the real pipeline (corpus, tokenizer, model
// creation, AdamW steps through llama.cpp's training API) on 1 thread, the way the default model is
// built. Short on purpose (BENCH_TOYWORLD_STEPS, default 150 steps ≈ 12 s) so the bench stays quick;
// the full build's wall time is reported by `npm run toyworld` itself.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildToyworld, TOYWORLD_DEFAULTS } from "../engine/toyworld/buildToyworld.js";
import { TOYWORLD_SHAPE } from "../engine/toyworld/modelShape.js";

export async function benchToyworldTraining(): Promise<string[]> {
    const steps = Number(process.env.BENCH_TOYWORLD_STEPS ?? 150);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tiller-bench-toyworld-"));
    try {
        const started = performance.now();
        const result = await buildToyworld({ seed: 1, steps, threads: 1, dialogues: 3000, output: path.join(dir, "toyworld.gguf") });
        const wall = (performance.now() - started) / 1000;
        return [
            `toy world training (1 thread, ${steps} steps × ${TOYWORLD_SHAPE.contextSize} tokens, ${result.nParams.toLocaleString("en-US")} parameters):`,
            `  ${Math.round(result.tokensPerSecond)} tokens/s, ${result.trainingSeconds.toFixed(1)} s training, ${wall.toFixed(1)} s with corpus, tokenizer, evaluation and saving; ` +
            `validation loss ${result.initialValidationLoss.toFixed(2)} → ${result.validationLoss.toFixed(2)}`,
            // the full build is too long for a bench run; its training time follows from the measured rate
            `  the full build (${TOYWORLD_DEFAULTS.steps.toLocaleString("en-US")} steps) at this rate: ≈ ${Math.round(result.trainingSeconds * TOYWORLD_DEFAULTS.steps / steps)} s of training`
        ];
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
