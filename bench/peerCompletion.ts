// The peer every generation section compares against: node-llama-cpp's own LlamaCompletion on the
// same model file, with the same threads, context and batch sizes, greedy and without a repeat
// penalty, timed the same way as the engine (steadyRate of per-token timestamps).
import { LlamaCompletion, type Llama } from "node-llama-cpp";

/** Steady-state decode rate: (tokens − 1) over the time from the first token to the last. */
export function steadyRate(stamps: readonly number[]): number {
    if (stamps.length < 2)
        throw new Error(`only ${stamps.length} tokens were generated; the bench needs at least 2`);
    return (stamps.length - 1) / ((stamps.at(-1)! - stamps[0]!) / 1000);
}

export interface PeerCompletion {
    /** one greedy completion of `tokens` tokens from a cleared sequence: its steady rate and how many tokens came */
    run(): Promise<{ rate: number; count: number }>;
    dispose(): Promise<void>;
}

export async function createPeerCompletion(llama: Llama, options: {
    modelPath: string; gpuLayers?: number; threads: number; contextSize: number; batchSize?: number; prompt: string; tokens: number;
}): Promise<PeerCompletion> {
    const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: options.gpuLayers ?? 0 });
    const context = await model.createContext({ threads: options.threads, contextSize: options.contextSize, batchSize: options.batchSize ?? options.contextSize });
    const sequence = context.getSequence();
    const completion = new LlamaCompletion({ contextSequence: sequence });
    return {
        async run() {
            const stamps: number[] = [];
            await sequence.clearHistory();
            await completion.generateCompletion(options.prompt, {
                maxTokens: options.tokens, temperature: 0, repeatPenalty: false,
                onToken: (chunk) => {
                    for (let i = 0; i < chunk.length; i++)
                        stamps.push(performance.now());
                }
            });
            return { rate: steadyRate(stamps), count: stamps.length };
        },
        async dispose() {
            await context.dispose();
            await model.dispose();
        }
    };
}
