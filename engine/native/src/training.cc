#include "training.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gguf.h"
#include "llama_library.h"

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

// Initial value scale: norms start at 1, matrices at N(0, 0.02²) (GPT-2's choice), the projections
// that write into the residual stream scaled down by sqrt(2·n_layer) so the stream does not grow
// with depth at initialisation.
struct trainer_state;

struct init_context {
    const llama_library * lib;
    weight_rng rng;
    int32_t n_layer;
    std::vector<ggml_tensor *> * weights;
};

bool ends_with(const std::string & s, const std::string & suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void set_initial_tensor_data(ggml_tensor * tensor, void * user_data) {
    auto * init = static_cast<init_context *>(user_data);
    const std::string name = tensor->name;
    const size_t n = init->lib->ggml_nbytes(tensor) / sizeof(float);
    std::vector<float> values(n);
    if (name.find("_norm") != std::string::npos) {
        std::fill(values.begin(), values.end(), 1.0f);
    } else if (name == "token_embd.weight") {
        // llama.cpp's training never updates the token embeddings, so they stay as drawn here. Every
        // row gets one shared component besides its own random one: through the (equally frozen) K
        // projection of the first block it becomes a key that every position has, which a trained
        // query can match at a chosen relative offset (RoPE), so positional attention ("the token
        // before me") is learnable from the first block on instead of only from the second.
        const int64_t n_embd = tensor->ne[0];
        std::vector<double> shared(n_embd);
        for (double & v : shared) {
            v = init->rng.normal();
        }
        for (size_t i = 0; i < n; i++) {
            values[i] = (float) (0.02 * (init->rng.normal() + shared[i % n_embd]));
        }
    } else {
        double std_dev = 0.02;
        if (ends_with(name, "attn_output.weight") || ends_with(name, "ffn_down.weight")) {
            std_dev /= std::sqrt(2.0 * init->n_layer);
        }
        for (float & v : values) {
            v = (float) (std_dev * init->rng.normal());
        }
    }
    init->lib->ggml_backend_tensor_set(tensor, values.data(), 0, n * sizeof(float));
    init->weights->push_back(tensor);
}

// ---- the trainer's state (shared by the workers; one operation at a time) ------------------------

struct schedule {
    float learning_rate     = 1e-3f;
    float learning_rate_end = 1e-4f;
    float weight_decay      = 0.0f;
    int64_t step_offset     = 0;  // steps done before this call (for the learning-rate schedule)
    int64_t total_steps     = 1;  // steps of the whole run
};

struct trainer_state {
    const llama_library * lib = nullptr;
    llama_model   * model = nullptr;
    llama_context * ctx   = nullptr;
    uint32_t n_ctx = 0;
    std::vector<ggml_tensor *> weights;     // every model tensor, in creation order
    ggml_opt_context_t opt_ctx = nullptr;   // known after the first optimizer step
    schedule sched;
    int64_t step = 0;                       // steps done in this run
    std::atomic<bool> cancel_requested { false };
    bool busy = false;

    ~trainer_state() {
        if (ctx != nullptr) lib->llama_free(ctx);
        if (model != nullptr) lib->llama_model_free(model);
    }
};

// The optimizer-params callback runs before every optimizer step, while that step's graph is built.
// Trap: on this llama.cpp the gradient accumulators of the llama path are never cleared when every
// step is one micro-batch (opt_period 1), so AdamW would see the running sum of all gradients and
// the model collapses. Zeroing each weight's accumulator here, before the graph computes, makes
// every step see only its own gradient.
ggml_opt_optimizer_params optimizer_params(void * user_data) {
    auto * state = static_cast<trainer_state *>(user_data);
    if (state->opt_ctx != nullptr) {
        for (ggml_tensor * w : state->weights) {
            ggml_tensor * acc = state->lib->ggml_opt_grad_acc(state->opt_ctx, w);
            if (acc != nullptr && acc->buffer != nullptr) {
                state->lib->ggml_backend_tensor_memset(acc, 0, 0, state->lib->ggml_nbytes(acc));
            }
        }
    }
    // cosine decay from learning_rate to learning_rate_end over the whole run
    const schedule & s = state->sched;
    const double progress = std::min(1.0, (double) (s.step_offset + state->step) / (double) std::max<int64_t>(1, s.total_steps));
    const double lr = s.learning_rate_end + 0.5 * (s.learning_rate - s.learning_rate_end) * (1.0 + std::cos(3.141592653589793 * progress));

    ggml_opt_optimizer_params params = state->lib->ggml_opt_get_default_optimizer_params(nullptr);
    params.adamw.alpha = (float) lr;
    params.adamw.beta1 = 0.9f;
    params.adamw.beta2 = 0.99f;
    params.adamw.wd    = s.weight_decay;
    return params;
}

// llama_opt_epoch's per-micro-batch callback: the only place the optimizer context is handed out.
thread_local trainer_state * t_epoch_state = nullptr;

void remember_opt_ctx(bool, ggml_opt_context_t opt_ctx, ggml_opt_dataset_t, ggml_opt_result_t, int64_t, int64_t, int64_t) {
    if (t_epoch_state != nullptr) {
        t_epoch_state->opt_ctx = opt_ctx;
    }
}

// One window of n_ctx + 1 tokens → one datapoint: inputs tokens[0, n_ctx), labels tokens[1, n_ctx].
struct one_window_dataset {
    const llama_library * lib;
    ggml_opt_dataset_t dataset;
    std::vector<int32_t> labels;

    one_window_dataset(const llama_library * lib, uint32_t n_ctx) : lib(lib), labels(n_ctx) {
        dataset = lib->ggml_opt_dataset_init(GGML_TYPE_I32, GGML_TYPE_I32, n_ctx, n_ctx, 1, 1);
    }
    ~one_window_dataset() { lib->ggml_opt_dataset_free(dataset); }

    void set(const int32_t * window, uint32_t n_ctx) {
        lib->ggml_backend_tensor_set(lib->ggml_opt_dataset_data(dataset), window, 0, n_ctx * sizeof(int32_t));
        lib->ggml_backend_tensor_set(lib->ggml_opt_dataset_labels(dataset), window + 1, 0, n_ctx * sizeof(int32_t));
    }
};

double result_loss(const llama_library * lib, ggml_opt_result_t result) {
    double loss = 0, uncertainty = 0;
    lib->ggml_opt_result_loss(result, &loss, &uncertainty);
    return loss;
}

// ---- createTrainer ------------------------------------------------------------------------------

struct trainer_options {
    std::string metadata_path;
    uint64_t seed;
    int32_t threads;
    uint32_t n_ctx;
};

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
        const int64_t block_count_key = lib.gguf_find_key(metadata, "llama.block_count");
        init_context init { &lib, weight_rng(options_.seed), block_count_key >= 0 ? (int32_t) lib.gguf_get_val_u32(metadata, block_count_key) : 1, &state_->weights };

        llama_model_params model_params = lib.llama_model_default_params();
        model_params.n_gpu_layers = 0; // trained on the CPU: the weights must live in host memory
        state_->model = lib.llama_model_init_from_user(metadata, set_initial_tensor_data, &init, model_params);
        lib.gguf_free(metadata);
        if (state_->model == nullptr) {
            SetError("llama.cpp could not create the model from \"" + options_.metadata_path + "\" (see the log above)");
            return;
        }

        llama_context_params ctx_params = lib.llama_context_default_params();
        ctx_params.n_ctx           = options_.n_ctx;
        ctx_params.n_batch         = options_.n_ctx;
        ctx_params.n_ubatch        = options_.n_ctx;
        ctx_params.n_seq_max       = 1;
        ctx_params.n_threads       = options_.threads;
        ctx_params.n_threads_batch = options_.threads;
        ctx_params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED; // FLASH_ATTN_EXT has no backward pass
        ctx_params.type_k          = GGML_TYPE_F32;
        ctx_params.type_v          = GGML_TYPE_F32;
        ctx_params.no_perf         = true;
        state_->ctx = lib.llama_init_from_model(state_->model, ctx_params);
        if (state_->ctx == nullptr) {
            SetError("llama.cpp could not create a training context");
            return;
        }

        // Trap: the context's thread count reaches the training graphs only after one ordinary
        // decode; without it training ran on llama.cpp's default thread count (40× slower here).
        llama_batch batch = lib.llama_batch_init(1, 0, 1);
        batch.n_tokens = 1;
        batch.token[0] = 0;
        batch.pos[0] = 0;
        batch.n_seq_id[0] = 1;
        batch.seq_id[0][0] = 0;
        batch.logits[0] = true;
        const int32_t decoded = lib.llama_decode(state_->ctx, batch);
        lib.llama_batch_free(batch);
        if (decoded != 0) {
            SetError("the warm-up decode failed (llama_decode returned " + std::to_string(decoded) + ")");
            return;
        }
        lib.llama_memory_clear(lib.llama_get_memory(state_->ctx), true);

        llama_opt_params opt_params = {};
        opt_params.n_ctx_train     = 0;
        opt_params.param_filter    = lib.llama_opt_param_filter_all;
        opt_params.param_filter_ud = nullptr;
        opt_params.get_opt_pars    = optimizer_params;
        opt_params.get_opt_pars_ud = state_.get();
        opt_params.optimizer_type  = GGML_OPT_OPTIMIZER_TYPE_ADAMW;
        lib.llama_opt_init(state_->ctx, state_->model, opt_params);
    }

    void OnOK() override;

    void OnError(const Napi::Error & error) override { deferred_.Reject(error.Value()); }

private:
    Napi::Promise::Deferred deferred_;
    trainer_options options_;
    std::shared_ptr<trainer_state> state_;
};

// ---- NativeTrainer ------------------------------------------------------------------------------

class native_trainer : public Napi::ObjectWrap<native_trainer> {
public:
    static Napi::Function define(Napi::Env env) {
        return DefineClass(env, "NativeTrainer", {
            InstanceMethod<&native_trainer::info>("info"),
            InstanceMethod<&native_trainer::train>("train"),
            InstanceMethod<&native_trainer::cancel>("cancel"),
            InstanceMethod<&native_trainer::evaluate>("evaluate"),
            InstanceMethod<&native_trainer::save>("save"),
            InstanceMethod<&native_trainer::dispose>("dispose"),
        });
    }

    explicit native_trainer(const Napi::CallbackInfo & info) : Napi::ObjectWrap<native_trainer>(info) {
        if (info.Length() != 1 || !info[0].IsExternal()) {
            throw Napi::TypeError::New(info.Env(), "NativeTrainer cannot be constructed directly; use createTrainer()");
        }
        state_ = *info[0].As<Napi::External<std::shared_ptr<trainer_state>>>().Data();
    }

    std::shared_ptr<trainer_state> state_;

private:
    trainer_state & usable(Napi::Env env) {
        if (!state_) throw Napi::Error::New(env, "the trainer was disposed");
        if (state_->busy) throw Napi::Error::New(env, "the trainer is busy with another operation");
        return *state_;
    }

    Napi::Value info(const Napi::CallbackInfo & info);
    Napi::Value train(const Napi::CallbackInfo & info);
    Napi::Value cancel(const Napi::CallbackInfo & info);
    Napi::Value evaluate(const Napi::CallbackInfo & info);
    Napi::Value save(const Napi::CallbackInfo & info);
    Napi::Value dispose(const Napi::CallbackInfo & info);
};

void create_trainer_worker::OnOK() {
    Napi::Env env = Env();
    auto * holder = new std::shared_ptr<trainer_state>(state_);
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
    return out;
}

// ---- train: one optimizer step per window, progress through a thread-safe function ---------------

struct step_progress {
    int64_t step;
    double loss;
    double tokens_per_second;
};

class train_worker : public Napi::AsyncWorker {
public:
    train_worker(Napi::Env env, std::shared_ptr<trainer_state> state, std::vector<int32_t> windows, int64_t n_windows,
                 schedule sched, Napi::Function on_progress)
        : Napi::AsyncWorker(env, "tiller.train"), deferred_(Napi::Promise::Deferred::New(env)),
          state_(std::move(state)), windows_(std::move(windows)), n_windows_(n_windows), sched_(sched) {
        progress_ = Napi::ThreadSafeFunction::New(env, on_progress, "tiller.trainProgress", 0, 1);
        state_->busy = true;
        state_->cancel_requested = false;
    }

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        trainer_state & s = *state_;
        const llama_library & lib = *s.lib;
        s.sched = sched_;
        s.step = 0;
        one_window_dataset data(&lib, s.n_ctx);
        ggml_opt_result_t result = lib.ggml_opt_result_init();
        t_epoch_state = &s;
        double loss_sum = 0;
        const auto started = std::chrono::steady_clock::now();
        for (int64_t i = 0; i < n_windows_; i++) {
            if (s.cancel_requested.load()) {
                cancelled_ = true;
                break;
            }
            data.set(windows_.data() + i * (s.n_ctx + 1), s.n_ctx);
            lib.ggml_opt_result_reset(result);
            lib.llama_opt_epoch(s.ctx, data.dataset, result, nullptr, /*idata_split*/ 1, remember_opt_ctx, nullptr);
            const double loss = result_loss(&lib, result);
            s.step++;
            loss_sum += loss;
            steps_done_ = s.step;

            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            auto * progress = new step_progress { sched_.step_offset + s.step, loss, seconds > 0 ? (double) (s.step * s.n_ctx) / seconds : 0 };
            if (progress_.NonBlockingCall(progress, report_progress) != napi_ok) {
                delete progress;
            }
        }
        t_epoch_state = nullptr;
        lib.ggml_opt_result_free(result);
        mean_loss_ = steps_done_ > 0 ? loss_sum / (double) steps_done_ : NAN;
        seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }

    void OnOK() override {
        finish();
        Napi::Env env = Env();
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
    static void report_progress(Napi::Env env, Napi::Function callback, step_progress * progress) {
        if (env != nullptr && callback != nullptr) {
            Napi::Object p = Napi::Object::New(env);
            p.Set("step", (double) progress->step);
            p.Set("loss", progress->loss);
            p.Set("tokensPerSecond", progress->tokens_per_second);
            callback.Call({ p });
        }
        delete progress;
    }

    void finish() {
        state_->busy = false;
        progress_.Release();
    }

    Napi::Promise::Deferred deferred_;
    std::shared_ptr<trainer_state> state_;
    std::vector<int32_t> windows_;
    int64_t n_windows_;
    schedule sched_;
    Napi::ThreadSafeFunction progress_;
    int64_t steps_done_ = 0;
    double mean_loss_ = 0;
    double seconds_ = 0;
    bool cancelled_ = false;
};

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
    const int32_t n_vocab = s.lib->llama_vocab_n_tokens(s.lib->llama_model_get_vocab(s.model));
    for (size_t i = 0; i < array.ElementLength(); i++) {
        if (array[i] < 0 || array[i] >= n_vocab) {
            throw Napi::RangeError::New(env, "token id " + std::to_string(array[i]) + " at index " + std::to_string(i) + " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
        }
    }
    n_windows = (int64_t) (array.ElementLength() / width);
    return std::vector<int32_t>(array.Data(), array.Data() + array.ElementLength());
}

double number_field(Napi::Object o, const char * key, double fallback) {
    Napi::Value v = o.Get(key);
    return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

// train(windows: Int32Array, schedule, onProgress): Promise<{ steps, meanLoss, seconds, cancelled }>
Napi::Value native_trainer::train(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    trainer_state & s = usable(env);
    if (info.Length() < 3 || !info[1].IsObject() || !info[2].IsFunction()) {
        throw Napi::TypeError::New(env, "train(windows: Int32Array, schedule: object, onProgress: function)");
    }
    int64_t n_windows = 0;
    std::vector<int32_t> windows = read_windows(env, s, info[0], n_windows);
    Napi::Object o = info[1].As<Napi::Object>();
    schedule sched;
    sched.learning_rate     = (float) number_field(o, "learningRate", sched.learning_rate);
    sched.learning_rate_end = (float) number_field(o, "learningRateEnd", sched.learning_rate_end);
    sched.weight_decay      = (float) number_field(o, "weightDecay", sched.weight_decay);
    sched.step_offset       = (int64_t) number_field(o, "stepOffset", 0);
    sched.total_steps       = (int64_t) number_field(o, "totalSteps", (double) n_windows);
    if (!(sched.learning_rate > 0) || !(sched.learning_rate_end > 0) || sched.weight_decay < 0 || sched.weight_decay > 1 || sched.total_steps < 1) {
        throw Napi::RangeError::New(env, "schedule: learningRate and learningRateEnd must be > 0, weightDecay in [0, 1], totalSteps ≥ 1");
    }
    auto * worker = new train_worker(env, state_, std::move(windows), n_windows, sched, info[2].As<Napi::Function>());
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
    evaluate_worker(Napi::Env env, std::shared_ptr<trainer_state> state, std::vector<int32_t> windows, int64_t n_windows)
        : Napi::AsyncWorker(env, "tiller.evaluate"), deferred_(Napi::Promise::Deferred::New(env)),
          state_(std::move(state)), windows_(std::move(windows)), n_windows_(n_windows) {
        state_->busy = true;
    }

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        trainer_state & s = *state_;
        const llama_library & lib = *s.lib;
        one_window_dataset data(&lib, s.n_ctx);
        ggml_opt_result_t result = lib.ggml_opt_result_init();
        double sum = 0;
        for (int64_t i = 0; i < n_windows_; i++) {
            data.set(windows_.data() + i * (s.n_ctx + 1), s.n_ctx);
            lib.ggml_opt_result_reset(result);
            // idata_split 0: the whole dataset is validation data (a forward pass only)
            lib.llama_opt_epoch(s.ctx, data.dataset, nullptr, result, /*idata_split*/ 0, nullptr, nullptr);
            sum += result_loss(&lib, result);
        }
        lib.ggml_opt_result_free(result);
        loss_ = sum / (double) n_windows_;
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
    int64_t n_windows_;
    double loss_ = 0;
};

// evaluate(windows: Int32Array): Promise<number>
Napi::Value native_trainer::evaluate(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    trainer_state & s = usable(env);
    if (info.Length() < 1) {
        throw Napi::TypeError::New(env, "evaluate(windows: Int32Array)");
    }
    int64_t n_windows = 0;
    std::vector<int32_t> windows = read_windows(env, s, info[0], n_windows);
    auto * worker = new evaluate_worker(env, state_, std::move(windows), n_windows);
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

Napi::Value native_trainer::dispose(const Napi::CallbackInfo & info) {
    if (state_ && state_->busy) {
        throw Napi::Error::New(info.Env(), "cannot dispose the trainer while it trains or evaluates");
    }
    state_.reset();
    return info.Env().Undefined();
}

} // namespace

namespace native_training {

void define(Napi::Env env) {
    g_trainer_constructor = new Napi::FunctionReference(Napi::Persistent(native_trainer::define(env)));
}

Napi::Value create(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
        throw Napi::TypeError::New(env, "createTrainer(metadataPath: string, options: { seed, threads, contextSize })");
    }
    Napi::Object o = info[1].As<Napi::Object>();
    trainer_options options;
    options.metadata_path = info[0].As<Napi::String>();
    options.seed    = (uint64_t) number_field(o, "seed", 0);
    options.threads = (int32_t) number_field(o, "threads", 1);
    options.n_ctx   = (uint32_t) number_field(o, "contextSize", 256);
    if (options.threads < 1 || options.n_ctx < 8) {
        throw Napi::RangeError::New(env, "createTrainer: threads must be ≥ 1 and contextSize ≥ 8");
    }
    llama_library_get();
    auto * worker = new create_trainer_worker(env, options);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}

} // namespace native_training
