// A log-prob oracle over a model in this process (a HiddenPatchModel: a suspect, or the clean model
// with patch null). Same answers as the suspect's HTTP endpoint, without the transport: the bench
// uses it for many trials, and the engine can localise on a model it holds.
import { TillerError } from "../protocol/TillerError.js";
import type { HiddenPatchModel } from "./HiddenPatchModel.js";
import { QueryCounter, type LogProbOracle, type OracleToken } from "./LogProbOracle.js";

/**
 * The text of each token of `tokens` (tokens[0] = BOS is skipped), such that the pieces spell
 * `text` (tokenizers that add a leading space put the difference on the first piece).
 */
export function tokenPieces(model: HiddenPatchModel["context"]["model"], tokens: Int32Array, text: string): string[] {
    const start = tokens[0] === model.shape.bos ? 1 : 0;
    const pieces: string[] = [];
    let previous = "";
    for (let end = start + 1; end <= tokens.length; end++) {
        const prefix = model.detokenize(tokens.subarray(start, end));
        pieces.push(prefix.slice(previous.length));
        previous = prefix;
    }
    const spelled = pieces.join("");
    if (pieces.length > 0 && spelled !== text && spelled.length !== text.length) {
        const shift = spelled.length - text.length;
        pieces[0] = shift > 0 ? pieces[0]!.slice(shift) : text.slice(0, -shift) + pieces[0]!;
    }
    return pieces;
}

export class EngineOracle implements LogProbOracle {
    private readonly counter: QueryCounter;

    public constructor(private readonly suspect: HiddenPatchModel, budget = 400, public readonly description = `engine: ${suspect.context.model.path}`) {
        this.counter = new QueryCounter(budget);
    }

    public get queries(): number {
        return this.counter.queries;
    }

    public get budget(): number {
        return this.counter.budget;
    }

    private tokenize(text: string): Int32Array {
        if (text.length === 0)
            throw new TillerError("INVALID_ARGUMENT", "the oracle was asked about an empty text");
        return this.suspect.context.model.tokenize(text, { addBos: true });
    }

    public async echo(text: string, signal?: AbortSignal): Promise<OracleToken[]> {
        this.counter.take();
        const tokens = this.tokenize(text);
        const pieces = tokenPieces(this.suspect.context.model, tokens, text);
        if (tokens.length < 2)
            return pieces.map((piece) => ({ text: piece, logprob: null }));
        const { positions } = await this.suspect.score(tokens, 0, signal);
        return positions.map((entry, i) => ({ text: pieces[i]!, logprob: entry.logprob }));
    }

    public async complete(prompt: string, maxTokens: number, signal?: AbortSignal): Promise<OracleToken[]> {
        this.counter.take();
        const tokens = this.tokenize(prompt);
        const { generated } = await this.suspect.complete(tokens, maxTokens, { signal });
        const all = Int32Array.from([...tokens, ...generated.map((entry) => entry.id)]);
        const model = this.suspect.context.model;
        const pieces = tokenPieces(model, all, model.detokenize(all.subarray(1)));
        return generated.map((entry, i) => ({ text: pieces[tokens.length - 1 + i]!, logprob: entry.logprob }));
    }

    public async nextTokenTop(prompt: string, k: number, signal?: AbortSignal): Promise<Map<string, number>> {
        this.counter.take();
        const tokens = this.tokenize(prompt);
        const top = await this.suspect.nextTop(tokens, k, signal);
        const model = this.suspect.context.model;
        const spelled = model.detokenize(tokens.subarray(1));
        // each alternative's text as it would continue this prompt
        return new Map(top.map((entry) => [model.detokenize(Int32Array.from([...tokens.subarray(1), entry.id])).slice(spelled.length), entry.logprob]));
    }
}
