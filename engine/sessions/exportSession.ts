// Export: a folder that numpy, pandas and a spreadsheet read directly, with a README of columns.
import fs from "node:fs";
import path from "node:path";
import { encodeNpy } from "../io/npy.js";
import { readoutColumns } from "../protocol/thermoReadouts.js";
import { readoutCsvFields, readoutMatrix } from "./readoutMatrix.js";
import type { OpenedSession } from "./SessionReader.js";

const readme = `# Tiller session export

- session.json: the session (model file name, size and sha256; settings; app version).
- events.jsonl: every record as it was written (one JSON object per line).
- runs.csv: one row per run: run (index), run_id, prompt, stop_reason, tokens, tokens_per_second, text.
- run-N/tokens.csv: one row per generated token of run N:
  - index: 0-based position among generated tokens
  - token_id, piece: the token and its text
  - logprob: log p(token) under the distribution it was drawn from (natural log, temperature 1)
  - entropy: entropy of that distribution (nats)
  - active_patches: ids of the patches acting on that token, separated by "|"
  - the thermodynamic read-outs of the predicting distribution (README "Per-token read-outs"),
    at T = 1 (suffix _t1) and at the sampler's temperature (_ts; 0 = greedy, the T → 0 limit):
    temperature, free_energy and mean_energy (relative to the top logit), entropy_nats,
    entropy_bits, effective_choices (e^S), heat_capacity (Var(E)/T²), surprisal (−log p_T of the
    token), zeta ((s − S)/√C); logit_gap (top-1 − top-2 logit). Empty where undefined (ζ with C = 0)
    or not recorded (sessions from before the read-outs).
  - proj:<probe>@L<layer>: the projection ⟨h_layer, v̂⟩ of the token's residual stream on the probe
    vector's unit direction (layers in llama.cpp numbering: block N's output)
- run-N/readouts.npy: float64 [tokens, read-outs] (the read-out columns above, NaN where empty);
  run-N/readout_columns.json names them.
- run-N/patch_changes.csv: at_token (first token affected), active_patches.
- run-N/projections.npy: float32 [tokens, read-outs] (same values as the proj: columns), and
  run-N/cosines.npy the cosines; run-N/columns.json names the read-out columns.
  Load with numpy.load("run-0/projections.npy").
- vectors/: the steering vectors used, llama.cpp control-vector GGUF (direction.N acts on block N).
`;

const csvField = (value: string | number) => (typeof value === "number" ? String(value) : `"${value.replace(/"/g, '""')}"`);

export function exportSession(session: OpenedSession, target: string): string {
    fs.mkdirSync(target, { recursive: true });
    fs.writeFileSync(path.join(target, "README.md"), readme);
    fs.copyFileSync(path.join(session.folder, "session.json"), path.join(target, "session.json"));
    const events = path.join(session.folder, "events.jsonl");
    if (fs.existsSync(events))
        fs.copyFileSync(events, path.join(target, "events.jsonl"));
    fs.cpSync(path.join(session.folder, "vectors"), path.join(target, "vectors"), { recursive: true });
    const runRows = ["run,run_id,prompt,stop_reason,tokens,tokens_per_second,text"];
    for (const [n, run] of session.runs.entries()) {
        const folder = path.join(target, `run-${n}`);
        fs.mkdirSync(folder, { recursive: true });
        const columns = run.tokens[0]?.projections.map((projection) => `${projection.probe}@L${projection.layer}`) ?? [];
        const rows = [["index", "token_id", "piece", "logprob", "entropy", "active_patches", ...columns.map((column) => `proj:${column}`),
            ...readoutColumns.map((column) => column.name)].join(",")];
        for (const token of run.tokens)
            rows.push([token.index, token.id, csvField(token.piece), token.logprob, token.entropy, csvField(token.activePatches.join("|")),
                ...token.projections.map((projection) => projection.dot), ...readoutCsvFields(token.readouts)].join(","));
        const readouts = readoutMatrix(run.tokens);
        if (readouts != null) {
            fs.writeFileSync(path.join(folder, "readouts.npy"), encodeNpy(readouts, [run.tokens.length, readoutColumns.length]));
            fs.writeFileSync(path.join(folder, "readout_columns.json"), JSON.stringify(readoutColumns.map((column) => column.name)) + "\n");
        }
        fs.writeFileSync(path.join(folder, "tokens.csv"), rows.join("\n") + "\n");
        fs.writeFileSync(path.join(folder, "patch_changes.csv"),
            ["at_token,active_patches", ...run.changes.map((change) => `${change.atToken},${csvField(change.activePatches.join("|"))}`)].join("\n") + "\n");
        if (columns.length > 0) {
            const dots = new Float32Array(run.tokens.length * columns.length);
            const cosines = new Float32Array(run.tokens.length * columns.length);
            for (const [row, token] of run.tokens.entries()) {
                for (const [column, projection] of token.projections.entries()) {
                    dots[row * columns.length + column] = projection.dot;
                    cosines[row * columns.length + column] = projection.cosine;
                }
            }
            fs.writeFileSync(path.join(folder, "projections.npy"), encodeNpy(dots, [run.tokens.length, columns.length]));
            fs.writeFileSync(path.join(folder, "cosines.npy"), encodeNpy(cosines, [run.tokens.length, columns.length]));
            fs.writeFileSync(path.join(folder, "columns.json"), JSON.stringify(columns) + "\n");
        }
        runRows.push([n, csvField(run.start.runId), csvField(run.start.prompt), csvField(run.end?.stopReason ?? "interrupted"), run.tokens.length,
            run.end?.tokensPerSecond ?? 0, csvField(run.end?.text ?? run.tokens.map((token) => token.piece).join(""))].join(","));
    }
    fs.writeFileSync(path.join(target, "runs.csv"), runRows.join("\n") + "\n");
    return target;
}
