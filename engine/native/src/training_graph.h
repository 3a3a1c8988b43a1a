// The toy world trainer's own ggml graph: llama.cpp's LLaMA forward pass rebuilt op for op, but with
// attention computed from this step's K and V (no KV cache), so every weight gets a gradient.
//
// Why not llama_opt_epoch: it trains through llama.cpp's inference graph, which writes K/V into the
// KV cache and reads attention from the cache's views. Those views have no graph edge back to the
// K/V projections, so attn_k / attn_v never train (measured: std 0.0200 after 11,000 steps, as
// drawn), and llama.cpp does not mark the token embeddings trainable either.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "llama_library.h"
#include "ggml-opt.h"
#include "out_product_kernel.h"

// The LLaMA hyperparameters the graph needs, as the model's GGUF metadata states them.
struct training_graph_shape {
    int64_t n_embd = 0;
    int64_t n_head = 0;
    int64_t n_layer = 0;
    int64_t n_vocab = 0;
    int64_t n_ctx = 0;        // tokens per window
    int64_t n_ctx_train = 0;  // llama.context_length (rope's n_ctx_orig)
    float rms_eps = 1e-5f;
    float rope_freq_base = 10000.0f;
};

class training_graph;

// Builds the graph over the model's weights (name → tensor, F32, in host memory). Every weight is
// marked trainable. Returns null and sets `error` when a weight is missing or the backend fails.
// get_opt_pars is called before every optimizer step (ggml-opt's callback). The backward pass's
// out-products run on `out_product` (out_product_kernel.h: the same bits as ggml's, faster).
std::unique_ptr<training_graph> training_graph_create(
    const llama_library & lib, const std::map<std::string, ggml_tensor *> & weights, const training_graph_shape & shape,
    int32_t threads, out_product_kernel out_product, ggml_opt_get_optimizer_params get_opt_pars, void * get_opt_pars_ud, std::string & error);

class training_graph {
public:
    ~training_graph();
    training_graph(const training_graph &) = delete;
    training_graph & operator=(const training_graph &) = delete;

    // Cross-entropy summed over the labels that count, and how many counted.
    struct step_loss {
        double sum;
        int64_t labels;
    };

    // One window of n_ctx + 1 tokens: inputs window[0, n_ctx), labels window[1, n_ctx]; label_mask
    // (n_ctx bytes, or null for all) says which labels count: the others add no loss and no
    // gradient. With `train`, one AdamW step; without, a forward pass only.
    step_loss step(const int32_t * window, const uint8_t * label_mask, bool train);

    // The logits (n_ctx × n_vocab, row per position) of a forward pass over n_ctx tokens.
    std::vector<float> logits(const int32_t * tokens);

    // The out-product kernel the backward pass runs, and on how many of its nodes.
    out_product_kernel out_product() const;
    int64_t out_product_nodes() const;

    struct parts;
    explicit training_graph(std::unique_ptr<parts> p);

private:
    std::unique_ptr<parts> p_;
};
