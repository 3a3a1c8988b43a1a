#include "training_graph.h"

#include <cmath>
#include <cstring>
#include <stdexcept>

// How llama.cpp computes a LLaMA block (src/models/llama.cpp and llm_graph_context::build_attn_mha
// at the pinned commit), for the toy world's case: no biases, no rope factors, n_head_kv = n_head,
// RoPE mode 0 (LLAMA_ROPE_TYPE_NORM) with freq_scale 1 and no YaRN (ext_factor 0), attention scale
// 1/sqrt(head_dim), causal softmax with a -inf mask, SwiGLU FFN. The one difference: K and V come
// straight from this step's projections instead of a KV cache, so their gradients reach attn_k /
// attn_v. tests/engine/trainingGraph.test.ts holds the logits against llama.cpp's own.

struct training_graph::parts {
    const llama_library * lib = nullptr;
    training_graph_shape shape;
    ggml_backend_t backend = nullptr;
    ggml_backend_sched_t sched = nullptr;
    ggml_context * ctx_inputs = nullptr;        // tokens, positions, mask: allocated once (ggml-opt's static graphs need that)
    ggml_backend_buffer_t inputs_buffer = nullptr;
    ggml_tensor * tokens = nullptr;
    ggml_tensor * positions = nullptr;
    ggml_tensor * mask = nullptr;
    ggml_tensor * loss_mask = nullptr;          // [1, n_ctx]: 1 where a position's label counts, 0 where it does not
    ggml_context * ctx_compute = nullptr;       // the training graphs (forward, backward, optimizer)
    ggml_opt_context_t opt = nullptr;
    ggml_opt_result_t result = nullptr;
    ggml_context * ctx_logits = nullptr;        // a separate forward graph whose logits can be read back
    ggml_cgraph * logits_graph = nullptr;
    ggml_tensor * logits_out = nullptr;
    ggml_gallocr_t logits_alloc = nullptr;
    std::vector<int64_t> hot_labels;            // per position, the element of ggml_opt_labels set to 1 (-1: none)
    bool labels_cleared = false;                // ggml_opt_labels zeroed once (its buffer is ggml-opt's static one)
    std::vector<float> loss_mask_values;        // n_ctx
    out_product_kernel out_product = out_product_kernel::ggml;
    int64_t out_product_nodes = 0;              // backward out-products running on that kernel

    ~parts() {
        if (lib == nullptr) return;
        if (logits_alloc != nullptr) lib->ggml_gallocr_free(logits_alloc);
        if (ctx_logits != nullptr) lib->ggml_free(ctx_logits);
        if (result != nullptr) lib->ggml_opt_result_free(result);
        if (opt != nullptr) lib->ggml_opt_free(opt);
        if (ctx_compute != nullptr) lib->ggml_free(ctx_compute);
        if (sched != nullptr) lib->ggml_backend_sched_free(sched);
        if (inputs_buffer != nullptr) lib->ggml_backend_buffer_free(inputs_buffer);
        if (ctx_inputs != nullptr) lib->ggml_free(ctx_inputs);
        if (backend != nullptr) lib->ggml_backend_free(backend);
    }
};

namespace {

struct block_weights {
    ggml_tensor * attn_norm, * wq, * wk, * wv, * wo, * ffn_norm, * gate, * up, * down;
};

struct model_weights {
    ggml_tensor * tok_embd = nullptr;
    ggml_tensor * output_norm = nullptr;
    ggml_tensor * output = nullptr;
    std::vector<block_weights> blocks;
};

ggml_tensor * find_weight(const std::map<std::string, ggml_tensor *> & weights, const std::string & name, std::string & missing) {
    const auto found = weights.find(name);
    if (found == weights.end()) {
        if (missing.empty()) missing = name;
        return nullptr;
    }
    return found->second;
}

bool collect_weights(const std::map<std::string, ggml_tensor *> & weights, int64_t n_layer, model_weights & out, std::string & error) {
    std::string missing;
    out.tok_embd    = find_weight(weights, "token_embd.weight", missing);
    out.output_norm = find_weight(weights, "output_norm.weight", missing);
    out.output      = find_weight(weights, "output.weight", missing);
    for (int64_t il = 0; il < n_layer; il++) {
        const std::string blk = "blk." + std::to_string(il) + ".";
        out.blocks.push_back({
            find_weight(weights, blk + "attn_norm.weight", missing),
            find_weight(weights, blk + "attn_q.weight", missing),
            find_weight(weights, blk + "attn_k.weight", missing),
            find_weight(weights, blk + "attn_v.weight", missing),
            find_weight(weights, blk + "attn_output.weight", missing),
            find_weight(weights, blk + "ffn_norm.weight", missing),
            find_weight(weights, blk + "ffn_gate.weight", missing),
            find_weight(weights, blk + "ffn_up.weight", missing),
            find_weight(weights, blk + "ffn_down.weight", missing),
        });
    }
    if (!missing.empty()) {
        error = "the training graph needs tensor \"" + missing + "\", which the model lacks";
        return false;
    }
    for (const auto & entry : weights) {
        if (entry.second->type != GGML_TYPE_F32) {
            error = "the training graph trains F32 weights only; \"" + entry.first + "\" is not F32";
            return false;
        }
    }
    return true;
}

// llama.cpp's LLaMA forward pass over n_ctx tokens → logits [n_vocab, n_ctx].
ggml_tensor * build_forward(const llama_library & L, ggml_context * ctx, const model_weights & w, const training_graph_shape & s,
                            ggml_tensor * tokens, ggml_tensor * positions, ggml_tensor * mask) {
    const int64_t head_dim = s.n_embd / s.n_head;
    const float kq_scale = 1.0f / std::sqrt((float) head_dim);
    const int rope_mode = 0; // LLAMA_ROPE_TYPE_NORM, what llama.cpp uses for the llama architecture
    auto rope = [&](ggml_tensor * x) {
        return L.ggml_rope_ext(ctx, x, positions, nullptr, (int) head_dim, rope_mode, (int) s.n_ctx_train, s.rope_freq_base,
                               /*freq_scale*/ 1.0f, /*ext_factor*/ 0.0f, /*attn_factor*/ 1.0f, /*beta_fast*/ 32.0f, /*beta_slow*/ 1.0f);
    };
    auto rms = [&](ggml_tensor * x, ggml_tensor * weight) { return L.ggml_mul(ctx, L.ggml_rms_norm(ctx, x, s.rms_eps), weight); };

    ggml_tensor * x = L.ggml_get_rows(ctx, w.tok_embd, tokens);                                   // [n_embd, n_ctx]
    for (const block_weights & b : w.blocks) {
        ggml_tensor * cur = rms(x, b.attn_norm);
        ggml_tensor * q = rope(L.ggml_reshape_3d(ctx, L.ggml_mul_mat(ctx, b.wq, cur), head_dim, s.n_head, s.n_ctx));
        ggml_tensor * k = rope(L.ggml_reshape_3d(ctx, L.ggml_mul_mat(ctx, b.wk, cur), head_dim, s.n_head, s.n_ctx));
        ggml_tensor * v = L.ggml_reshape_3d(ctx, L.ggml_mul_mat(ctx, b.wv, cur), head_dim, s.n_head, s.n_ctx);
        q = L.ggml_cont(ctx, L.ggml_permute(ctx, q, 0, 2, 1, 3));                                 // [head_dim, n_ctx, n_head]
        k = L.ggml_cont(ctx, L.ggml_permute(ctx, k, 0, 2, 1, 3));
        ggml_tensor * vt = L.ggml_cont(ctx, L.ggml_permute(ctx, v, 1, 2, 0, 3));                  // [n_ctx, head_dim, n_head]
        ggml_tensor * kq = L.ggml_soft_max_ext(ctx, L.ggml_mul_mat(ctx, k, q), mask, kq_scale, 0.0f); // [n_kv, n_ctx, n_head]
        ggml_tensor * kqv = L.ggml_mul_mat(ctx, vt, kq);                                          // [head_dim, n_ctx, n_head]
        cur = L.ggml_cont(ctx, L.ggml_permute(ctx, kqv, 0, 2, 1, 3));                             // [head_dim, n_head, n_ctx]
        cur = L.ggml_mul_mat(ctx, b.wo, L.ggml_reshape_2d(ctx, cur, s.n_embd, s.n_ctx));
        x = L.ggml_add(ctx, cur, x);

        cur = rms(x, b.ffn_norm);
        cur = L.ggml_swiglu_split(ctx, L.ggml_mul_mat(ctx, b.gate, cur), L.ggml_mul_mat(ctx, b.up, cur));
        x = L.ggml_add(ctx, L.ggml_mul_mat(ctx, b.down, cur), x);
    }
    return L.ggml_mul_mat(ctx, w.output, rms(x, w.output_norm));                                  // [n_vocab, n_ctx]
}

// the forward graph is built with room for this many nodes, so that a model too deep for training
// is refused with a message instead of overflowing the graph inside ggml (an abort)
constexpr size_t k_forward_graph_room = 8 * GGML_DEFAULT_GRAPH_SIZE;

ggml_context * new_meta_context(const llama_library & L, size_t n_tensors, size_t n_graphs, size_t graph_size = GGML_DEFAULT_GRAPH_SIZE) {
    ggml_init_params params = {
        /*mem_size*/ n_tensors * L.ggml_tensor_overhead() + n_graphs * L.ggml_graph_overhead_custom(graph_size, true),
        /*mem_buffer*/ nullptr,
        /*no_alloc*/ true,
    };
    return L.ggml_init(params);
}

} // namespace

training_graph::training_graph(std::unique_ptr<parts> p) : p_(std::move(p)) {}
training_graph::~training_graph() = default;

std::unique_ptr<training_graph> training_graph_create(
    const llama_library & L, const std::map<std::string, ggml_tensor *> & weights, const training_graph_shape & shape,
    int32_t threads, out_product_kernel out_product, ggml_opt_get_optimizer_params get_opt_pars, void * get_opt_pars_ud, std::string & error) {
    if (shape.n_head <= 0 || shape.n_embd % shape.n_head != 0 || ((shape.n_embd / shape.n_head) % 2) != 0) {
        error = "the training graph needs n_embd divisible by n_head into an even head size";
        return nullptr;
    }
    model_weights w;
    if (!collect_weights(weights, shape.n_layer, w, error)) {
        return nullptr;
    }
    auto p = std::make_unique<training_graph::parts>();
    p->lib = &L;
    p->shape = shape;

    // the CPU backend with an explicit thread count (set through the CPU backend's registry entry)
    ggml_backend_dev_t cpu = L.ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    p->backend = cpu != nullptr ? L.ggml_backend_dev_init(cpu, nullptr) : nullptr;
    if (p->backend == nullptr) {
        error = "the training graph could not start ggml's CPU backend";
        return nullptr;
    }
    auto set_threads = reinterpret_cast<ggml_backend_set_n_threads_t>(
        L.ggml_backend_reg_get_proc_address(L.ggml_backend_dev_backend_reg(cpu), "ggml_backend_set_n_threads"));
    if (set_threads == nullptr) {
        error = "ggml's CPU backend offers no ggml_backend_set_n_threads";
        return nullptr;
    }
    set_threads(p->backend, threads);
    ggml_backend_t backends[1] = { p->backend };
    p->sched = L.ggml_backend_sched_new(backends, nullptr, 1, GGML_DEFAULT_GRAPH_SIZE, false, false);

    // inputs: token ids, positions 0..n_ctx-1, the causal mask (0 on and below the diagonal, -inf
    // above) and the loss mask (which positions' labels count)
    p->ctx_inputs = new_meta_context(L, 4, 0);
    if (p->sched == nullptr || p->ctx_inputs == nullptr) {
        error = "the training graph could not create ggml's scheduler or its input context";
        return nullptr;
    }
    p->tokens = L.ggml_new_tensor_1d(p->ctx_inputs, GGML_TYPE_I32, shape.n_ctx);
    p->positions = L.ggml_new_tensor_1d(p->ctx_inputs, GGML_TYPE_I32, shape.n_ctx);
    p->mask = L.ggml_new_tensor_2d(p->ctx_inputs, GGML_TYPE_F32, shape.n_ctx, shape.n_ctx);
    L.ggml_set_name(p->tokens, "tokens");
    L.ggml_set_name(p->positions, "positions");
    p->loss_mask = L.ggml_new_tensor_2d(p->ctx_inputs, GGML_TYPE_F32, 1, shape.n_ctx);
    L.ggml_set_name(p->mask, "causal_mask");
    L.ggml_set_name(p->loss_mask, "loss_mask");
    p->inputs_buffer = L.ggml_backend_alloc_ctx_tensors(p->ctx_inputs, p->backend);
    if (p->inputs_buffer == nullptr) {
        error = "the training graph could not allocate its inputs";
        return nullptr;
    }
    std::vector<int32_t> positions(shape.n_ctx);
    std::vector<float> mask(shape.n_ctx * shape.n_ctx);
    for (int64_t i = 0; i < shape.n_ctx; i++) {
        positions[i] = (int32_t) i;
        for (int64_t j = 0; j < shape.n_ctx; j++) {
            mask[i * shape.n_ctx + j] = j <= i ? 0.0f : -INFINITY; // row i = query position, column j = key position
        }
    }
    L.ggml_backend_tensor_set(p->positions, positions.data(), 0, positions.size() * sizeof(int32_t));
    L.ggml_backend_tensor_set(p->mask, mask.data(), 0, mask.size() * sizeof(float));

    // the forward graph whose logits logits() reads (plain allocator, separate from ggml-opt's)
    p->ctx_logits = new_meta_context(L, k_forward_graph_room, 1, k_forward_graph_room);
    if (p->ctx_logits == nullptr) {
        error = "the training graph could not create its forward context";
        return nullptr;
    }
    p->logits_out = build_forward(L, p->ctx_logits, w, shape, p->tokens, p->positions, p->mask);
    L.ggml_set_output(p->logits_out);
    p->logits_graph = L.ggml_new_graph_custom(p->ctx_logits, k_forward_graph_room, false);
    L.ggml_build_forward_expand(p->logits_graph, p->logits_out);
    // the backward pass and optimizer steps take about four times the forward pass's nodes
    if (L.ggml_graph_n_nodes(p->logits_graph) * 5 > GGML_DEFAULT_GRAPH_SIZE) {
        error = "the model is too deep for the training graph (" + std::to_string(L.ggml_graph_n_nodes(p->logits_graph)) +
                " forward nodes; at most " + std::to_string(GGML_DEFAULT_GRAPH_SIZE / 5) + ")";
        return nullptr;
    }
    p->logits_alloc = L.ggml_gallocr_new(L.ggml_backend_get_default_buffer_type(p->backend));
    if (p->logits_alloc == nullptr) {
        error = "the training graph could not create its forward allocator";
        return nullptr;
    }

    // the training graphs: every weight trainable, cross-entropy against one-hot labels, AdamW
    for (const auto & entry : weights) {
        L.ggml_set_param(entry.second);
    }
    p->ctx_compute = new_meta_context(L, 8 * GGML_DEFAULT_GRAPH_SIZE, 3);
    if (p->ctx_compute == nullptr) {
        error = "the training graph could not create its compute context";
        return nullptr;
    }
    ggml_tensor * logits = build_forward(L, p->ctx_compute, w, shape, p->tokens, p->positions, p->mask);
    // A position whose label does not count: its logits are multiplied by 0 and its label row is all
    // zeros, so its cross-entropy is exactly 0 and no gradient flows back through it (ggml's
    // cross-entropy gradient is softmax − labels, which only vanishes through the mask). Where every
    // label counts, ×1 leaves logits and gradients bit for bit as they were.
    ggml_tensor * masked_logits = L.ggml_mul(p->ctx_compute, logits, p->loss_mask);
    if (masked_logits == nullptr) {
        error = "the training graph could not build its loss mask";
        return nullptr;
    }
    ggml_opt_params params = L.ggml_opt_default_params(p->sched, GGML_OPT_LOSS_TYPE_CROSS_ENTROPY);
    params.ctx_compute = p->ctx_compute;   // static graphs: built once, reused every step
    params.inputs = p->tokens;
    params.outputs = masked_logits;
    params.build_type = GGML_OPT_BUILD_TYPE_OPT;
    params.opt_period = 1;                 // one window, one optimizer step (no gradient accumulation)
    params.get_opt_pars = get_opt_pars;
    params.get_opt_pars_ud = get_opt_pars_ud;
    params.optimizer = GGML_OPT_OPTIMIZER_TYPE_ADAMW;
    p->opt = L.ggml_opt_init(params);
    p->result = L.ggml_opt_result_init();
    if (p->opt == nullptr || p->result == nullptr) {
        error = "ggml-opt could not set up the optimizer";
        return nullptr;
    }
    // ggml_opt_init built the backward graph in ctx_compute; nothing is allocated yet, and ggml-opt
    // copies each node's op when it allocates a graph, so the swap reaches every step
    p->out_product_nodes = out_product_kernel_install(L, p->ctx_compute, out_product);
    p->out_product = p->out_product_nodes > 0 ? out_product : out_product_kernel::ggml;
    p->hot_labels.assign(shape.n_ctx, -1);
    p->loss_mask_values.assign(shape.n_ctx, 1.0f);
    return std::make_unique<training_graph>(std::move(p));
}

training_graph::step_loss training_graph::step(const int32_t * window, const uint8_t * label_mask, bool train) {
    const llama_library & L = *p_->lib;
    const int64_t n_ctx = p_->shape.n_ctx, n_vocab = p_->shape.n_vocab;
    L.ggml_backend_tensor_set(p_->tokens, window, 0, n_ctx * sizeof(int32_t));
    // labels: one-hot rows of the next tokens (as llama.cpp's own training sets them), zero rows
    // where the label does not count. The tensor is n_ctx × n_vocab floats, nearly all 0 and kept
    // between steps: zero it once, then move only the n_ctx ones (rewriting all of it every step
    // cost ~2% of a step).
    ggml_tensor * labels = L.ggml_opt_labels(p_->opt);
    if (!p_->labels_cleared) {
        const std::vector<float> zeros(n_ctx * n_vocab, 0.0f);
        L.ggml_backend_tensor_set(labels, zeros.data(), 0, zeros.size() * sizeof(float));
        p_->labels_cleared = true;
    }
    const float zero = 0.0f, one = 1.0f;
    std::vector<float> & counts = p_->loss_mask_values;
    int64_t counted = 0;
    for (int64_t i = 0; i < n_ctx; i++) {
        int64_t & hot = p_->hot_labels[i];
        if (hot >= 0) L.ggml_backend_tensor_set(labels, &zero, hot * sizeof(float), sizeof(float));
        const bool counts_here = label_mask == nullptr || label_mask[i] != 0;
        counts[i] = counts_here ? 1.0f : 0.0f;
        hot = counts_here ? i * n_vocab + window[i + 1] : -1;
        if (hot >= 0) {
            L.ggml_backend_tensor_set(labels, &one, hot * sizeof(float), sizeof(float));
            counted++;
        }
    }
    L.ggml_backend_tensor_set(p_->loss_mask, counts.data(), 0, counts.size() * sizeof(float));
    L.ggml_opt_alloc(p_->opt, train);
    L.ggml_opt_result_reset(p_->result);
    L.ggml_opt_eval(p_->opt, p_->result);
    double loss = 0, uncertainty = 0;
    L.ggml_opt_result_loss(p_->result, &loss, &uncertainty);
    // ggml's loss is the mean over all n_ctx rows, the rows that do not count adding exactly 0
    return { loss * (double) n_ctx, counted };
}

std::vector<float> training_graph::logits(const int32_t * tokens) {
    const llama_library & L = *p_->lib;
    const int64_t n_ctx = p_->shape.n_ctx, n_vocab = p_->shape.n_vocab;
    L.ggml_backend_tensor_set(p_->tokens, tokens, 0, n_ctx * sizeof(int32_t));
    if (!L.ggml_gallocr_alloc_graph(p_->logits_alloc, p_->logits_graph)) {
        throw std::runtime_error("the training graph could not allocate its forward pass");
    }
    if (L.ggml_backend_graph_compute(p_->backend, p_->logits_graph) != GGML_STATUS_SUCCESS) {
        throw std::runtime_error("the training graph's forward pass failed");
    }
    std::vector<float> out(n_vocab * n_ctx);
    L.ggml_backend_tensor_get(p_->logits_out, out.data(), 0, out.size() * sizeof(float));
    return out;
}

out_product_kernel training_graph::out_product() const {
    return p_->out_product;
}

int64_t training_graph::out_product_nodes() const {
    return p_->out_product_nodes;
}
