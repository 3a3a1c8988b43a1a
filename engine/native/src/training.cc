#include "training.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gguf.h"
#include "llama_library.h"
#include "training_graph.h"

namespace {

Napi::FunctionReference * g_trainer_constructor = nullptr;

// ---- seeded initial weights -----------------------------------------------------------------------
//
// splitmix64 + Box–Muller: the same seed gives the same weights on every platform (std::normal_
// distribution is not specified bit-for-bit across standard libraries).
struct weight_rng {
    uint64_t state;
    double spare = 0;
    bool has_spare = false;

    explicit weight_rng(uint64_t seed) : state(seed) {}

    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    double uniform() { return ((next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); } // (0, 1)
    double normal() {
        if (has_spare) { has_spare = false; return spare; }
        const double r = std::sqrt(-2.0 * std::log(uniform()));
        const double theta = 6.283185307179586 * uniform();
        spare = r * std::sin(theta);
        has_spare = true;
        return r * std::cos(theta);
    }
};

// Initial values: TypeScript decides, per tensor, what each one starts as (engine/toyworld/
// trainingPolicy.ts); C++ only carries the rule out with the seeded generator above, in the order
// llama.cpp creates the tensors, so the same seed and rules give the same weights everywhere.
struct weight_rule {
    enum class kind { fill, normal } kind = kind::normal;
    double value = 0;           // fill: every element
    double std_dev = 0;         // normal: N(0, std_dev²) per element
    bool shared_row = false;    // normal: plus one N(0, 1) component shared by every row (drawn first, ne[0] of them)
};

struct init_context {
    const llama_library * lib;
    weight_rng rng;
    const std::map<std::string, weight_rule> * rules;
    std::vector<ggml_tensor *> * weights;
    std::string missing;        // the first tensor without a rule (the model is then refused)
};

void set_initial_tensor_data(ggml_tensor * tensor, void * user_data) {
    auto * init = static_cast<init_context *>(user_data);
    const std::string name = tensor->name;
    const size_t n = init->lib->ggml_nbytes(tensor) / sizeof(float);
    std::vector<float> values(n);
    const auto found = init->rules->find(name);
    if (found == init->rules->end()) {
        if (init->missing.empty()) init->missing = name;
    } else if (found->second.kind == weight_rule::kind::fill) {
        std::fill(values.begin(), values.end(), (float) found->second.value);
    } else if (found->second.shared_row) {
        const int64_t row = tensor->ne[0];
        std::vector<double> shared(row);
        for (double & v : shared) {
            v = init->rng.normal();
        }
        for (size_t i = 0; i < n; i++) {
            values[i] = (float) (found->second.std_dev * (init->rng.normal() + shared[i % row]));
        }
    } else {
        for (float & v : values) {
            v = (float) (found->second.std_dev * init->rng.normal());
        }
    }
    init->lib->ggml_backend_tensor_set(tensor, values.data(), 0, n * sizeof(float));
    init->weights->push_back(tensor);
}

// ---- the trainer's state (shared by the workers; one operation at a time) ------------------------

// AdamW's settings for one train() call, all chosen by TypeScript: one learning rate per step.
struct optimizer_settings {
    std::vector<float> learning_rates;
    float beta1 = 0.9f;
    float beta2 = 0.999f;
    float epsilon = 1e-8f;
    float weight_decay = 0.0f;
};

// Trainers alive (created and neither disposed nor collected): tests see dispose() free at once.
std::atomic<int64_t> g_live_trainers { 0 };

struct trainer_state {
    const llama_library * lib = nullptr;
    llama_model   * model = nullptr;           // owns the weights; llama.cpp saves them
    std::unique_ptr<training_graph> graph;     // trains them (training_graph.h: why not llama_opt_epoch)
    uint32_t n_ctx = 0;
    std::vector<ggml_tensor *> weights;     // every model tensor, in creation order
    optimizer_settings optimizer;           // of the train() call in progress
    int64_t step = 0;                       // steps done in this train() call
    std::atomic<bool> cancel_requested { false };
    bool busy = false;

    trainer_state() { g_live_trainers++; }
    trainer_state(const trainer_state &) = delete;
    trainer_state & operator=(const trainer_state &) = delete;
    ~trainer_state() {
        g_live_trainers--;
        graph.reset();  // before the model: the graph points at its weights
        if (model != nullptr) lib->llama_model_free(model);
    }
};

// ggml-opt calls this before every optimizer step (static graphs, one window per step: no gradient
// accumulates across steps, so nothing needs clearing here).
ggml_opt_optimizer_params optimizer_params(void * user_data) {
    auto * state = static_cast<trainer_state *>(user_data);
    // the step's settings exactly as TypeScript gave them (outside train(): no step, rate 0)
    const optimizer_settings & o = state->optimizer;
    ggml_opt_optimizer_params params = state->lib->ggml_opt_get_default_optimizer_params(nullptr);
    params.adamw.alpha = o.learning_rates.empty() ? 0.0f
        : o.learning_rates[(size_t) std::min<int64_t>(state->step, (int64_t) o.learning_rates.size() - 1)];
    params.adamw.beta1 = o.beta1;
    params.adamw.beta2 = o.beta2;
    params.adamw.eps   = o.epsilon;
    params.adamw.wd    = o.weight_decay;
    return params;
}

// ---- createTrainer ------------------------------------------------------------------------------

struct trainer_options {
    std::string metadata_path;
    uint64_t seed;
    int32_t threads;
    uint32_t n_ctx;
    out_product_kernel out_product;
    std::map<std::string, weight_rule> initialisation;
};

// The graph's hyperparameters from the metadata file; the graph rebuilds the llama architecture only.
bool read_graph_shape(const llama_library & lib, const gguf_context * metadata, uint32_t n_ctx, training_graph_shape & shape, std::string & error) {
    // gguf_get_val_* assert (abort the process) on a value of another type: check the type first
    const int64_t arch_key = lib.gguf_find_key(metadata, "general.architecture");
    const std::string arch = arch_key >= 0 && lib.gguf_get_kv_type(metadata, arch_key) == GGUF_TYPE_STRING ? lib.gguf_get_val_str(metadata, arch_key) : "";
    if (arch != "llama") {
        error = "the trainer builds the llama architecture only, not \"" + arch + "\"";
        return false;
    }
    // the key's id when it holds a value of `type`, else -1 with the error set
    auto key_of = [&](const char * key, gguf_type type, const char * type_name) -> int64_t {
        const int64_t id = lib.gguf_find_key(metadata, key);
        if (id < 0 || lib.gguf_get_kv_type(metadata, id) != type) {
            error = std::string("the metadata lacks ") + key + (id < 0 ? "" : std::string(" as a ") + type_name);
            return -1;
        }
        return id;
    };
    auto u32 = [&](const char * key, int64_t & out) {
        const int64_t id = key_of(key, GGUF_TYPE_UINT32, "uint32");
        if (id >= 0) out = lib.gguf_get_val_u32(metadata, id);
        return id >= 0;
    };
    auto f32 = [&](const char * key, float & out) {
        const int64_t id = key_of(key, GGUF_TYPE_FLOAT32, "float32");
        if (id >= 0) out = lib.gguf_get_val_f32(metadata, id);
        return id >= 0;
    };
    int64_t n_head_kv = 0, n_rot = 0;
    if (!u32("llama.embedding_length", shape.n_embd) || !u32("llama.attention.head_count", shape.n_head) ||
        !u32("llama.attention.head_count_kv", n_head_kv) || !u32("llama.block_count", shape.n_layer) ||
        !u32("llama.context_length", shape.n_ctx_train) || !u32("llama.rope.dimension_count", n_rot) ||
        !f32("llama.attention.layer_norm_rms_epsilon", shape.rms_eps) || !f32("llama.rope.freq_base", shape.rope_freq_base)) {
        return false;
    }
    if (n_head_kv != shape.n_head || shape.n_head <= 0 || n_rot * shape.n_head != shape.n_embd) {
        error = "the trainer needs head_count_kv = head_count and rope over whole heads";
        return false;
    }
    if ((int64_t) n_ctx > shape.n_ctx_train) {
        error = "contextSize " + std::to_string(n_ctx) + " exceeds the model's context length " + std::to_string(shape.n_ctx_train);
        return false;
    }
    shape.n_ctx = n_ctx;
    return true;
}

class create_trainer_worker : public Napi::AsyncWorker {
public:
    create_trainer_worker(Napi::Env env, trainer_options options)
        : Napi::AsyncWorker(env, "tiller.createTrainer"), deferred_(Napi::Promise::Deferred::New(env)),
          options_(std::move(options)), state_(std::make_shared<trainer_state>()) {}

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        const llama_library & lib = llama_library_get();
        state_->lib = &lib;
        state_->n_ctx = options_.n_ctx;

        // The metadata (architecture, shape, tokenizer, and one tensor info per weight: llama.cpp
        // creates exactly the tensors listed there) comes from a GGUF file TypeScript wrote.
        gguf_init_params gguf_params = { /*no_alloc*/ true, /*ctx*/ nullptr };
        gguf_context * metadata = lib.gguf_init_from_file(options_.metadata_path.c_str(), gguf_params);
        if (metadata == nullptr) {
            SetError("cannot read the model metadata \"" + options_.metadata_path + "\"");
            return;
        }
        init_context init { &lib, weight_rng(options_.seed), &options_.initialisation, &state_->weights, {} };

        std::string error;
        training_graph_shape shape;
        if (!read_graph_shape(lib, metadata, options_.n_ctx, shape, error)) {
            lib.gguf_free(metadata);
            SetError("createTrainer: " + error);
            return;
        }

        llama_model_params model_params = lib.llama_model_default_params();
        model_params.n_gpu_layers = 0; // trained on the CPU: the weights must live in host memory
        state_->model = lib.llama_model_init_from_user(metadata, set_initial_tensor_data, &init, model_params);
        lib.gguf_free(metadata);
        if (state_->model == nullptr) {
            SetError("llama.cpp could not create the model from \"" + options_.metadata_path + "\" (see the log above)");
            return;
        }
        if (!init.missing.empty()) {
            SetError("createTrainer: the initialisation names no rule for tensor \"" + init.missing + "\"");
            return;
        }
        shape.n_vocab = lib.llama_vocab_n_tokens(lib.llama_model_get_vocab(state_->model));
        std::map<std::string, ggml_tensor *> by_name;
        for (ggml_tensor * w : state_->weights) {
            by_name[w->name] = w;
        }
        state_->graph = training_graph_create(lib, by_name, shape, options_.threads, options_.out_product, optimizer_params, state_.get(), error);
        if (!state_->graph) {
            SetError("createTrainer: " + error);
        }
    }

    void OnOK() override;

    void OnError(const Napi::Error & error) override { deferred_.Reject(error.Value()); }

private:
    Napi::Promise::Deferred deferred_;
    trainer_options options_;
    std::shared_ptr<trainer_state> state_;
};

// ---- NativeTrainer ------------------------------------------------------------------------------

// An Error with a `code` from Tiller's closed set (engine/protocol/TillerError.ts), so callers can
// tell a disposed or busy trainer from a failure.
Napi::Error coded_error(Napi::Env env, const std::string & code, const std::string & message) {
    Napi::Error error = Napi::Error::New(env, message);
    error.Value().Set("code", Napi::String::New(env, code));
    return error;
}

class native_trainer : public Napi::ObjectWrap<native_trainer> {
public:
    static Napi::Function define(Napi::Env env) {
        return DefineClass(env, "NativeTrainer", {
            InstanceMethod<&native_trainer::info>("info"),
            InstanceMethod<&native_trainer::train>("train"),
            InstanceMethod<&native_trainer::cancel>("cancel"),
            InstanceMethod<&native_trainer::evaluate>("evaluate"),
            InstanceMethod<&native_trainer::save>("save"),
            InstanceMethod<&native_trainer::logits>("logits"),
            InstanceMethod<&native_trainer::dispose>("dispose"),
        });
    }

    explicit native_trainer(const Napi::CallbackInfo & info) : Napi::ObjectWrap<native_trainer>(info) {
        if (info.Length() != 1 || !info[0].IsExternal()) {
            throw Napi::TypeError::New(info.Env(), "NativeTrainer cannot be constructed directly; use createTrainer()");
        }
        // taken out of the External, not copied: the External lives until GC, and a copy left in
        // it would keep the model and context alive after dispose()
        state_ = std::move(*info[0].As<Napi::External<std::shared_ptr<trainer_state>>>().Data());
        if (!state_) {
            throw Napi::TypeError::New(info.Env(), "NativeTrainer cannot be constructed directly; use createTrainer()");
        }
    }

    std::shared_ptr<trainer_state> state_;

private:
    trainer_state & usable(Napi::Env env) {
        if (!state_) throw coded_error(env, "DISPOSED", "the trainer was disposed");
        if (state_->busy) throw coded_error(env, "BUSY", "the trainer is busy with another operation");
        return *state_;
    }

    Napi::Value info(const Napi::CallbackInfo & info);
    Napi::Value train(const Napi::CallbackInfo & info);
    Napi::Value cancel(const Napi::CallbackInfo & info);
    Napi::Value evaluate(const Napi::CallbackInfo & info);
    Napi::Value save(const Napi::CallbackInfo & info);
    Napi::Value logits(const Napi::CallbackInfo & info);
    Napi::Value dispose(const Napi::CallbackInfo & info);
};

void create_trainer_worker::OnOK() {
    Napi::Env env = Env();
    auto * holder = new std::shared_ptr<trainer_state>(std::move(state_));
    Napi::External<std::shared_ptr<trainer_state>> external = Napi::External<std::shared_ptr<trainer_state>>::New(env, holder,
        [](Napi::Env, std::shared_ptr<trainer_state> * p) { delete p; });
    deferred_.Resolve(g_trainer_constructor->New({ external }));
}

Napi::Value native_trainer::info(const Napi::CallbackInfo & info) {
    trainer_state & s = usable(info.Env());
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("contextSize", s.n_ctx);
    out.Set("nTensors", (double) s.weights.size());
    out.Set("nVocab", s.lib->llama_vocab_n_tokens(s.lib->llama_model_get_vocab(s.model)));
    out.Set("outProductKernel", out_product_kernel_name(s.graph->out_product()));
    out.Set("outProductNodes", (double) s.graph->out_product_nodes());
    return out;
}

// ---- train: one optimizer step per window, progress through a thread-safe function ---------------

class train_worker;

// Window i's label flags, or null (every label counts) when there is no mask.
const uint8_t * window_mask(const std::vector<uint8_t> & label_mask, int64_t n_ctx, int64_t i) {
    return label_mask.empty() ? nullptr : label_mask.data() + i * n_ctx;
}

// One progress report, or (flush) the marker after the last one: Execute waits until the JS thread
// has taken it, so every report is delivered (or has failed) before the promise settles.
struct step_progress {
    train_worker * owner;
    int64_t step;
    double loss;
    double tokens_per_second;
    std::promise<void> * flush = nullptr;
};

class train_worker : public Napi::AsyncWorker {
public:
    train_worker(Napi::Env env, std::shared_ptr<trainer_state> state, std::vector<int32_t> windows, std::vector<uint8_t> label_mask,
                 int64_t n_windows, optimizer_settings optimizer, Napi::Function on_progress)
        : Napi::AsyncWorker(env, "tiller.train"), deferred_(Napi::Promise::Deferred::New(env)),
          state_(std::move(state)), windows_(std::move(windows)), label_mask_(std::move(label_mask)), n_windows_(n_windows),
          optimizer_(std::move(optimizer)) {
        progress_ = Napi::ThreadSafeFunction::New(env, on_progress, "tiller.trainProgress", 0, 1);
        state_->busy = true;
        state_->cancel_requested = false;
    }

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        trainer_state & s = *state_;
        s.optimizer = std::move(optimizer_);
        s.step = 0;
        double loss_sum = 0;
        const auto started = std::chrono::steady_clock::now();
        for (int64_t i = 0; i < n_windows_; i++) {
            if (s.cancel_requested.load()) {
                cancelled_ = true;
                break;
            }
            const training_graph::step_loss step = s.graph->step(windows_.data() + i * (s.n_ctx + 1), window_mask(label_mask_, s.n_ctx, i), /*train*/ true);
            const double loss = step.labels > 0 ? step.sum / (double) step.labels : 0.0;
            s.step++;
            loss_sum += loss;
            steps_done_ = s.step;

            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            auto * progress = new step_progress { this, s.step, loss, seconds > 0 ? (double) (s.step * s.n_ctx) / seconds : 0 };
            if (progress_.NonBlockingCall(progress, report_progress) != napi_ok) {
                delete progress;
            }
        }
        s.optimizer = optimizer_settings {};
        mean_loss_ = steps_done_ > 0 ? loss_sum / (double) steps_done_ : NAN;
        seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

        std::promise<void> delivered;
        std::future<void> done = delivered.get_future();
        auto * marker = new step_progress { this, 0, 0, 0, &delivered };
        if (progress_.NonBlockingCall(marker, report_progress) == napi_ok) {
            done.wait();
        } else {
            delete marker;
        }
    }

    void OnOK() override {
        Napi::Env env = Env();
        finish();
        if (!callback_error_.IsEmpty()) {
            // the progress callback threw: training stopped there, and the caller gets that error
            deferred_.Reject(callback_error_.Value());
            return;
        }
        Napi::Object out = Napi::Object::New(env);
        out.Set("steps", (double) steps_done_);
        out.Set("meanLoss", mean_loss_);
        out.Set("seconds", seconds_);
        out.Set("cancelled", cancelled_);
        deferred_.Resolve(out);
    }

    void OnError(const Napi::Error & error) override {
        finish();
        deferred_.Reject(error.Value());
    }

private:
    // JS thread. A callback that throws must neither become an uncaught exception nor leave the
    // training running: the error is kept, training is cancelled, and train() rejects with it.
    static void report_progress(Napi::Env env, Napi::Function callback, step_progress * raw) {
        std::unique_ptr<step_progress> progress(raw);
        if (progress->flush != nullptr) {
            progress->flush->set_value();
            return;
        }
        train_worker * owner = progress->owner;
        if (env == nullptr || callback == nullptr || !owner->callback_error_.IsEmpty()) {
            return;
        }
        Napi::Object p = Napi::Object::New(env);
        p.Set("step", (double) progress->step);
        p.Set("loss", progress->loss);
        p.Set("tokensPerSecond", progress->tokens_per_second);
        try {
            callback.Call({ p });
        } catch (const Napi::Error & error) {
            const Napi::Value thrown = error.Value();
            owner->callback_error_ = Napi::Persistent(thrown);
            owner->state_->cancel_requested = true;
        }
    }

    void finish() {
        state_->busy = false;
        progress_.Release();
    }

    Napi::Promise::Deferred deferred_;
    std::shared_ptr<trainer_state> state_;
    std::vector<int32_t> windows_;
    std::vector<uint8_t> label_mask_;
    int64_t n_windows_;
    optimizer_settings optimizer_;
    Napi::ThreadSafeFunction progress_;
    Napi::Reference<Napi::Value> callback_error_;
    int64_t steps_done_ = 0;
    double mean_loss_ = 0;
    double seconds_ = 0;
    bool cancelled_ = false;
};

// Refuses (RangeError, naming the first) a token id outside the model's vocabulary.
void check_token_ids(Napi::Env env, const trainer_state & s, const int32_t * ids, size_t count) {
    const int32_t n_vocab = s.lib->llama_vocab_n_tokens(s.lib->llama_model_get_vocab(s.model));
    for (size_t i = 0; i < count; i++) {
        if (ids[i] < 0 || ids[i] >= n_vocab) {
            throw Napi::RangeError::New(env, "token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) + " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
        }
    }
}

// Windows come as one Int32Array of n × (contextSize + 1) token ids; every id must be in the vocabulary.
std::vector<int32_t> read_windows(Napi::Env env, const trainer_state & s, Napi::Value value, int64_t & n_windows) {
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw Napi::TypeError::New(env, "windows must be an Int32Array");
    }
    Napi::Int32Array array = value.As<Napi::Int32Array>();
    const size_t width = s.n_ctx + 1;
    if (array.ElementLength() == 0 || array.ElementLength() % width != 0) {
        throw Napi::RangeError::New(env, "windows must hold a whole number (≥ 1) of windows of contextSize + 1 = " + std::to_string(width) + " tokens");
    }
    check_token_ids(env, s, array.Data(), array.ElementLength());
    n_windows = (int64_t) (array.ElementLength() / width);
    return std::vector<int32_t>(array.Data(), array.Data() + array.ElementLength());
}

// The optional label mask: one Uint8Array of n_windows × contextSize flags (window w's label i counts
// when flag w·contextSize + i is not 0); undefined means every label counts (an empty vector).
std::vector<uint8_t> read_label_mask(Napi::Env env, const trainer_state & s, Napi::Value value, int64_t n_windows, const char * where) {
    if (value.IsUndefined()) {
        return {};
    }
    if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw Napi::TypeError::New(env, std::string(where) + ": labelMask must be a Uint8Array (or undefined)");
    }
    Napi::Uint8Array array = value.As<Napi::Uint8Array>();
    if (array.ElementLength() != (size_t) (n_windows * s.n_ctx)) {
        throw Napi::RangeError::New(env, std::string(where) + ": labelMask must hold contextSize = " + std::to_string(s.n_ctx) +
                                         " flags per window (" + std::to_string(n_windows * s.n_ctx) + "), not " + std::to_string(array.ElementLength()));
    }
    return std::vector<uint8_t>(array.Data(), array.Data() + array.ElementLength());
}

// A finite number field of an options object; a missing or non-numeric field is refused by name.
double required_number(Napi::Env env, Napi::Object o, const char * where, const char * key) {
    Napi::Value v = o.Get(key);
    if (!v.IsNumber() || !std::isfinite(v.As<Napi::Number>().DoubleValue())) {
        throw Napi::TypeError::New(env, std::string(where) + ": " + key + " must be a finite number");
    }
    return v.As<Napi::Number>().DoubleValue();
}

double number_field(Napi::Object o, const char * key, double fallback) {
    Napi::Value v = o.Get(key);
    return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

// train(windows: Int32Array, optimizer: { learningRates: Float32Array, beta1, beta2, epsilon,
// weightDecay }, onProgress, labelMask?: Uint8Array): Promise<{ steps, meanLoss, seconds, cancelled }>
// learningRates holds one rate per window (step): the schedule is the caller's. labelMask (contextSize
// flags per window) limits the loss to the labels flagged; without it every label counts.
Napi::Value native_trainer::train(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    trainer_state & s = usable(env);
    if (info.Length() < 3 || !info[1].IsObject() || !info[2].IsFunction()) {
        throw Napi::TypeError::New(env, "train(windows: Int32Array, optimizer: object, onProgress: function, labelMask?: Uint8Array)");
    }
    int64_t n_windows = 0;
    std::vector<int32_t> windows = read_windows(env, s, info[0], n_windows);
    std::vector<uint8_t> label_mask = read_label_mask(env, s, info[3], n_windows, "train");
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Value rates = o.Get("learningRates");
    if (!rates.IsTypedArray() || rates.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array ||
        rates.As<Napi::TypedArray>().ElementLength() != (size_t) n_windows) {
        throw Napi::TypeError::New(env, "train: optimizer.learningRates must be a Float32Array with one rate per window (" + std::to_string(n_windows) + ")");
    }
    optimizer_settings optimizer;
    Napi::Float32Array rate_array = rates.As<Napi::Float32Array>();
    optimizer.learning_rates.assign(rate_array.Data(), rate_array.Data() + rate_array.ElementLength());
    for (size_t i = 0; i < optimizer.learning_rates.size(); i++) {
        // ggml_opt asserts alpha > 0 (the process aborts on 0)
        if (!(optimizer.learning_rates[i] > 0) || !std::isfinite(optimizer.learning_rates[i])) {
            throw Napi::RangeError::New(env, "train: learning rate " + std::to_string(i) + " must be a finite number > 0");
        }
    }
    optimizer.beta1        = (float) required_number(env, o, "train", "beta1");
    optimizer.beta2        = (float) required_number(env, o, "train", "beta2");
    optimizer.epsilon      = (float) required_number(env, o, "train", "epsilon");
    optimizer.weight_decay = (float) required_number(env, o, "train", "weightDecay");
    if (!(optimizer.beta1 >= 0 && optimizer.beta1 < 1) || !(optimizer.beta2 >= 0 && optimizer.beta2 < 1) ||
        !(optimizer.epsilon > 0) || !(optimizer.weight_decay >= 0 && optimizer.weight_decay <= 1)) {
        throw Napi::RangeError::New(env, "train: beta1 and beta2 must be in [0, 1), epsilon > 0, weightDecay in [0, 1]");
    }
    auto * worker = new train_worker(env, state_, std::move(windows), std::move(label_mask), n_windows, std::move(optimizer), info[2].As<Napi::Function>());
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}

Napi::Value native_trainer::cancel(const Napi::CallbackInfo & info) {
    if (state_) state_->cancel_requested = true;
    return info.Env().Undefined();
}

// ---- evaluate: mean cross-entropy over windows, no optimizer step ---------------------------------

class evaluate_worker : public Napi::AsyncWorker {
public:
    evaluate_worker(Napi::Env env, std::shared_ptr<trainer_state> state, std::vector<int32_t> windows, std::vector<uint8_t> label_mask, int64_t n_windows)
        : Napi::AsyncWorker(env, "tiller.evaluate"), deferred_(Napi::Promise::Deferred::New(env)),
          state_(std::move(state)), windows_(std::move(windows)), label_mask_(std::move(label_mask)), n_windows_(n_windows) {
        state_->busy = true;
    }

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        trainer_state & s = *state_;
        // the mean over every label that counts (with no mask: the mean of the windows' means)
        double sum = 0;
        int64_t labels = 0;
        for (int64_t i = 0; i < n_windows_; i++) {
            const training_graph::step_loss step = s.graph->step(windows_.data() + i * (s.n_ctx + 1), window_mask(label_mask_, s.n_ctx, i), /*train*/ false);
            sum += step.sum;
            labels += step.labels;
        }
        loss_ = labels > 0 ? sum / (double) labels : NAN;
    }

    void OnOK() override {
        state_->busy = false;
        deferred_.Resolve(Napi::Number::New(Env(), loss_));
    }

    void OnError(const Napi::Error & error) override {
        state_->busy = false;
        deferred_.Reject(error.Value());
    }

private:
    Napi::Promise::Deferred deferred_;
    std::shared_ptr<trainer_state> state_;
    std::vector<int32_t> windows_;
    std::vector<uint8_t> label_mask_;
    int64_t n_windows_;
    double loss_ = 0;
};

// evaluate(windows: Int32Array, labelMask?: Uint8Array): Promise<number>, the mean cross-entropy over the labels that count
Napi::Value native_trainer::evaluate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    trainer_state & s = usable(env);
    if (info.Length() < 1) {
        throw Napi::TypeError::New(env, "evaluate(windows: Int32Array, labelMask?: Uint8Array)");
    }
    int64_t n_windows = 0;
    std::vector<int32_t> windows = read_windows(env, s, info[0], n_windows);
    std::vector<uint8_t> label_mask = read_label_mask(env, s, info[1], n_windows, "evaluate");
    auto * worker = new evaluate_worker(env, state_, std::move(windows), std::move(label_mask), n_windows);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}

// save(path): writes the model (weights, hyperparameters, tokenizer) with llama_model_save_to_file
Napi::Value native_trainer::save(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    trainer_state & s = usable(env);
    if (info.Length() < 1 || !info[0].IsString()) {
        throw Napi::TypeError::New(env, "save(path: string)");
    }
    const std::string path = info[0].As<Napi::String>();
    s.lib->llama_model_save_to_file(s.model, path.c_str());
    return env.Undefined();
}

// logits(tokens: Int32Array of contextSize ids): Float32Array of contextSize × nVocab, the training
// graph's forward pass (row i: the logits after token i). On the JS thread: one window of the toy
// world takes milliseconds; it exists to hold the graph against llama.cpp's own forward pass.
Napi::Value native_trainer::logits(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    trainer_state & s = usable(env);
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[0].As<Napi::TypedArray>().ElementLength() != s.n_ctx) {
        throw Napi::TypeError::New(env, "logits(tokens: Int32Array of contextSize = " + std::to_string(s.n_ctx) + " token ids)");
    }
    Napi::Int32Array tokens = info[0].As<Napi::Int32Array>();
    check_token_ids(env, s, tokens.Data(), tokens.ElementLength());
    std::vector<float> values;
    try {
        values = s.graph->logits(tokens.Data());
    } catch (const std::exception & e) {
        throw Napi::Error::New(env, e.what());
    }
    Napi::Float32Array out = Napi::Float32Array::New(env, values.size());
    std::copy(values.begin(), values.end(), out.Data());
    return out;
}

// dispose(): frees the model and the training context now (not at garbage collection); a second
// dispose does nothing, any other call afterwards throws an Error with code DISPOSED.
Napi::Value native_trainer::dispose(const Napi::CallbackInfo & info) {
    if (state_ && state_->busy) {
        throw coded_error(info.Env(), "BUSY", "cannot dispose the trainer while it trains or evaluates");
    }
    state_.reset();
    return info.Env().Undefined();
}

// createTrainer's initialisation: [{ name, fill } | { name, normalStd, sharedRow? }], one per tensor.
std::map<std::string, weight_rule> read_initialisation(Napi::Env env, Napi::Value value) {
    const char * usage = "createTrainer: options.initialisation must be an array of { name, fill } or { name, normalStd, sharedRow? }, one per tensor";
    if (!value.IsArray()) {
        throw Napi::TypeError::New(env, usage);
    }
    Napi::Array rules = value.As<Napi::Array>();
    std::map<std::string, weight_rule> out;
    for (uint32_t i = 0; i < rules.Length(); i++) {
        Napi::Value item = rules.Get(i);
        if (!item.IsObject() || !item.As<Napi::Object>().Get("name").IsString()) {
            throw Napi::TypeError::New(env, usage);
        }
        Napi::Object o = item.As<Napi::Object>();
        weight_rule rule;
        if (o.Get("fill").IsNumber()) {
            rule.kind = weight_rule::kind::fill;
            rule.value = required_number(env, o, "createTrainer: initialisation", "fill");
        } else {
            rule.kind = weight_rule::kind::normal;
            rule.std_dev = required_number(env, o, "createTrainer: initialisation", "normalStd");
            rule.shared_row = o.Get("sharedRow").ToBoolean().Value();
            if (!(rule.std_dev >= 0)) {
                throw Napi::RangeError::New(env, "createTrainer: initialisation normalStd must be ≥ 0");
            }
        }
        out[o.Get("name").As<Napi::String>().Utf8Value()] = rule;
    }
    return out;
}

// createTrainer's outProduct: "tiller" (default: Tiller's fastest kernel for this CPU, or ggml's
// where it has none), "ggml" (ggml's own), or one of Tiller's by name ("avx512", "avx2"; refused
// where the CPU cannot run it). Every choice trains to the same bytes (out_product_kernel.h).
out_product_kernel read_out_product_kernel(Napi::Env env, Napi::Value value) {
    const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : value.IsUndefined() ? "tiller" : "";
    if (name == "tiller") return out_product_kernel_best();
    for (out_product_kernel kernel : { out_product_kernel::ggml, out_product_kernel::avx512, out_product_kernel::avx2 }) {
        if (name != out_product_kernel_name(kernel)) continue;
        if (!out_product_kernel_runs_here(kernel)) {
            throw Napi::RangeError::New(env, "createTrainer: this CPU (or build) cannot run the \"" + name + "\" out-product kernel");
        }
        return kernel;
    }
    throw Napi::TypeError::New(env, "createTrainer: outProduct must be \"tiller\", \"ggml\", \"avx512\" or \"avx2\"");
}

} // namespace

namespace native_training {

void define(Napi::Env env) {
    g_trainer_constructor = new Napi::FunctionReference(Napi::Persistent(native_trainer::define(env)));
}

int64_t live_trainers() {
    return g_live_trainers.load();
}

Napi::Value create(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
        throw Napi::TypeError::New(env, "createTrainer(metadataPath: string, options: { seed, threads, contextSize, initialisation })");
    }
    Napi::Object o = info[1].As<Napi::Object>();
    trainer_options options;
    options.metadata_path = info[0].As<Napi::String>();
    options.seed    = (uint64_t) number_field(o, "seed", 0);
    const double threads = number_field(o, "threads", 1);
    const double n_ctx = number_field(o, "contextSize", 256);
    if (!(threads >= 1 && threads <= 1024) || !(n_ctx >= 8 && n_ctx <= 65536)) {
        throw Napi::RangeError::New(env, "createTrainer: threads must be in 1..1024 and contextSize in 8..65536");
    }
    options.threads = (int32_t) threads;
    options.n_ctx   = (uint32_t) n_ctx;
    options.initialisation = read_initialisation(env, o.Get("initialisation"));
    options.out_product = read_out_product_kernel(env, o.Get("outProduct"));
    llama_library_get();
    auto * worker = new create_trainer_worker(env, options);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}

} // namespace native_training
