// What the bundled llama.cpp (the commit node-llama-cpp 3.21.1 ships) does with control vectors per
// architecture, read from its source: the graphs in src/models/*.cpp below never call build_cvec
// (the control-vector hook) and name no block output `l_out`. Every other architecture's graph
// applies control vectors — including minicpm, granite-moe, phimoe, mistral4, hunyuan-dense and
// lfm2moe, whose files look bare because they reuse granite's, phi3's, deepseek2's,
// hunyuan-vl's and lfm2's graph (`using graph = …` in src/models/models.h).
//
// This is what `tiller info` can say from a file's header alone; a loaded model is measured
// instead (probeSteeringSupport.ts), which also covers architectures newer than this table.

const ignoresControlVectors = new Set([
    "plamo2",                                     // hybrid Mamba/attention LM with a graph of its own
    "bert", "modern-bert", "nomic-bert", "nomic-bert-moe", "neo-bert",
    "jina-bert-v2", "jina-bert-v3", "eurobert", "t5encoder", // encoders (embeddings, no generation)
    "wavtokenizer-dec", "qwen3tts",                // audio
    "gemma4-assistant", "eagle3", "dflash"         // speculative-decoding drafts
]);

export interface KnownSteeringSupport {
    /** false: llama.cpp's graph skips control vectors; null: applies them per the source (confirmed when loaded) */
    steering: false | null;
    note: string;
}

export function knownSteeringSupport(architecture: string): KnownSteeringSupport {
    if (ignoresControlVectors.has(architecture))
        return { steering: false, note: `not supported: llama.cpp's graph for "${architecture}" ignores control vectors and hides block outputs` };
    return { steering: null, note: "expected (llama.cpp applies control vectors for this architecture); measured when the model loads" };
}
