// Child process for the crash-safety test: records a long, slow run into a session and prints
// "token N" as each token is recorded, until the test kills it with SIGKILL.
import { generate } from "../../dist/engine/runtime/generate.js";
import { TillerModel } from "../../dist/engine/runtime/TillerModel.js";
import { SessionWriter } from "../../dist/engine/sessions/SessionWriter.js";

const [modelPath, sessionsRoot] = process.argv.slice(2);
const model = await TillerModel.load(modelPath);
const context = await model.createContext({ threads: 1, contextSize: 2048 });
const writer = SessionWriter.create(sessionsRoot, { id: "crash", name: "crash test", appVersion: "test", model: null, settings: {} });
const sampling = { temperature: 1, topK: 0, topP: 1, minP: 0, seed: 1 };
const run = generate(context, "Once upon a time", { maxTokens: 2000, sampling });
const recorder = writer.startRun({ prompt: "Once upon a time", maxTokens: 2000, sampling, topAlternatives: 5, patches: [], probes: [], contextSize: 2048, threads: 1 });
for await (const token of run) {
    recorder.token(token, run.patchChanges);
    process.stdout.write(`token ${token.index}\n`);
    await new Promise((resolve) => setTimeout(resolve, 5));
}
