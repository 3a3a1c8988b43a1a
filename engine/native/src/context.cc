#include "context.h"
#include "row_analysis_binding.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

Napi::FunctionReference * g_native_context_constructor = nullptr;

// ---- residual-stream capture (cb_eval) ----------------------------------------------------------
//
// ggml's scheduler calls the eval callback twice per graph node it is about to compute:
//   ask == true : "do you want this node's data?" Answering yes splits the graph at that node and
//                 synchronises the backend there, so we answer yes only for `l_out-<il>` nodes of
//                 layers the caller asked for, and answer no at once when nothing is wanted.
//   ask == false: the node is computed; copy its data out (works for host and device buffers).
// `l_out-<il>` is the output of block il: shape [n_embd, n_rows] F32 (ne0 = n_embd). For the last
// block llama.cpp keeps only the rows whose logits were requested, so n_rows can be smaller there.

void capture_state::reset_captured() {
    for (size_t il = 0; il < data.size(); il++) {
        data[il].clear();
        rows[il] = 0;
    }
}

static int32_t layer_of_l_out(const ggml_tensor * t) {
    if (std::strncmp(t->name, "l_out-", 6) != 0) {
        return -1;
    }
    char * end = nullptr;
    const long il = std::strtol(t->name + 6, &end, 10);
    return (end == t->name + 6 || *end != '\0') ? -1 : (int32_t) il;
}

static bool capture_eval_callback(ggml_tensor * t, bool ask, void * user_data) {
    auto * state = static_cast<capture_state *>(user_data);
    if (!state->any_wanted) {
        return false;
    }
    const int32_t il = layer_of_l_out(t);
    const bool wanted = il >= 0 && il < state->n_layer && state->wanted[il] != 0;
    if (ask) {
        return wanted;
    }
    if (!wanted || t->type != GGML_TYPE_F32 || t->ne[0] != state->n_embd || !state->lib->ggml_is_contiguous(t)) {
        return true; // keep computing; nothing to copy
    }
    const int64_t n_rows = (int64_t) (state->lib->ggml_nbytes(t) / (sizeof(float) * state->n_embd));
    std::vector<float> & dst = state->data[il];
    const size_t offset = dst.size();
    dst.resize(offset + n_rows * state->n_embd);
    state->lib->ggml_backend_tensor_get(t, dst.data() + offset, 0, n_rows * state->n_embd * sizeof(float));
    state->rows[il] += (int32_t) n_rows;
    return true;
}

static bool abort_callback(void * data) {
    return static_cast<context_core *>(data)->abort_requested.load(std::memory_order_relaxed);
}

static const char * decode_error_message(int32_t ret) {
    switch (ret) {
        case 1:  return "the context is full: no KV-cache slot for this batch (use a larger context or a shorter prompt)";
        case 2:  return "aborted";
        case -1: return "invalid batch (token id outside the vocabulary, bad position or sequence id)";
        default: return "llama_decode failed";
    }
}

namespace {

// ---- creating a context (off the JS thread: allocating the KV cache can take a while) -----------

struct context_options {
    uint32_t n_ctx;
    uint32_t n_batch;
    uint32_t n_seq_max;
    int32_t  n_threads;
    int32_t  n_threads_batch;
    bool     precise;  // F32 K/V cache and no flash attention (see below)
    bool     background;  // decodePriority "background": llama.cpp work on a lowered-priority thread (background_thread.h)
};

class create_context_worker : public Napi::AsyncWorker {
public:
    create_context_worker(Napi::Env env, Napi::Object model_object, native_model * model, context_options options)
        : Napi::AsyncWorker(env, "tiller.createContext"),
          deferred_(Napi::Promise::Deferred::New(env)),
          model_ref_(Napi::Persistent(model_object)), model_(model), options_(options),
          core_(new context_core()) {
        model_->live_contexts++; // counted from now, so a model dispose() cannot race the worker
    }

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        if (!options_.background) {
            create();
            return;
        }
        // the context and its ggml threadpools are made on the lowered thread, so that ggml's
        // worker threads, created there, start at its priority
        try {
            core_->background = std::make_unique<background_thread>();
        } catch (const std::exception & error) {
            SetError(std::string("could not start the background decode thread: ") + error.what());
            return;
        }
        core_->background->run([this] { create(); });
    }

    void create() {
        const llama_library & lib = llama_library_get();
        const int32_t n_layer = lib.llama_model_n_layer(model_->model());
        capture_state & capture = core_->capture;
        capture.lib     = &lib;
        capture.n_layer = n_layer;
        capture.n_embd  = lib.llama_model_n_embd(model_->model());
        capture.wanted.assign(n_layer, 0);
        capture.data.assign(n_layer, {});
        capture.rows.assign(n_layer, 0);

        llama_context_params params = lib.llama_context_default_params();
        params.n_ctx           = options_.n_ctx;
        params.n_batch         = options_.n_batch;
        params.n_ubatch        = options_.n_batch;
        params.n_seq_max       = options_.n_seq_max;
        params.n_threads       = options_.n_threads;
        params.n_threads_batch = options_.n_threads_batch;
        params.cb_eval             = capture_eval_callback;
        params.cb_eval_user_data   = &core_->capture;
        params.abort_callback      = abort_callback;
        params.abort_callback_data = core_.get();
        params.no_perf = true;
        // one KV buffer for all sequences: sweeps and vector building share a prompt prefix
        // between sequences (llama_memory_seq_cp), which is free only in a unified cache
        params.kv_unified = true;
        if (options_.precise) {
            // analysis (sweeps, detection) differentiates log-probs over tiny strength steps; an
            // F16 cache adds rounding noise of ~1e-3 that would swamp those differences
            // (and flash attention, which rounds Q to F16 on the CPU)
            params.type_k = GGML_TYPE_F32;
            params.type_v = GGML_TYPE_F32;
            params.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
        }
        core_->ctx = lib.llama_init_from_model(model_->model(), params);
        core_->n_seq_max = options_.n_seq_max;
        if (core_->ctx == nullptr) {
            SetError("llama.cpp could not create a context of " + std::to_string(options_.n_ctx) +
                     " tokens (out of memory, or a size the model does not support)");
            return;
        }
        if (lib.ggml_threadpool_new != nullptr && lib.ggml_threadpool_free != nullptr) {
            ggml_threadpool_params tpp = lib.ggml_threadpool_params_default(options_.n_threads);
            if (options_.background) {
                tpp.prio = background_pool_priority();
            }
            core_->threadpool = lib.ggml_threadpool_new(&tpp);
            if (options_.n_threads_batch != options_.n_threads) {
                ggml_threadpool_params tpp_batch = lib.ggml_threadpool_params_default(options_.n_threads_batch);
                tpp_batch.prio = tpp.prio;
                core_->threadpool_batch = lib.ggml_threadpool_new(&tpp_batch);
            }
            if (core_->threadpool != nullptr) {
                lib.llama_attach_threadpool(core_->ctx, core_->threadpool, core_->threadpool_batch);
            }
        }
    }

    void OnOK() override {
        Napi::Env env = Env();
        Napi::Object object = g_native_context_constructor->New({
            model_ref_.Value(),
            Napi::External<context_core>::New(env, core_.release()),
        });
        deferred_.Resolve(object);
    }

    void OnError(const Napi::Error & error) override {
        model_->live_contexts--;
        deferred_.Reject(error.Value());
    }

private:
    Napi::Promise::Deferred deferred_;
    Napi::ObjectReference model_ref_;
    native_model * model_;
    context_options options_;
    std::unique_ptr<context_core> core_;
};

// ---- decoding (off the JS thread) ---------------------------------------------------------------

class decode_worker : public Napi::AsyncWorker {
public:
    decode_worker(Napi::Env env, Napi::Object context_object, context_core * core, llama_batch batch)
        : Napi::AsyncWorker(env, "tiller.decode"),
          deferred_(Napi::Promise::Deferred::New(env)),
          context_ref_(Napi::Persistent(context_object)), core_(core), batch_(batch) {}

    ~decode_worker() override {
        llama_library_get().llama_batch_free(batch_);
    }

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        if (core_->background) {
            core_->background->run([this] { decode(); });
        } else {
            decode();
        }
    }

    void decode() {
        core_->capture.reset_captured();
        if (core_->abort_requested.load()) {
            // abort() came after this decode was queued but before it started: honour it
            ret_ = 2;
            SetError(std::string(decode_error_message(ret_)) + " (aborted before it started)");
            return;
        }
        ret_ = llama_library_get().llama_decode(core_->ctx, batch_);
        if (ret_ != 0) {
            SetError(std::string(decode_error_message(ret_)) + " (llama_decode returned " + std::to_string(ret_) + ")");
        }
    }

    void OnOK() override {
        core_->busy = false;
        deferred_.Resolve(Env().Undefined());
    }

    void OnError(const Napi::Error & error) override {
        core_->busy = false;
        error.Value().Set("decodeStatus", Napi::Number::New(Env(), ret_));
        deferred_.Reject(error.Value());
    }

private:
    Napi::Promise::Deferred deferred_;
    Napi::ObjectReference context_ref_;  // keeps the context (and its core) alive while decoding
    context_core * core_;
    llama_batch batch_;
    int32_t ret_ = 0;
};

} // namespace

Napi::Function native_context::define(Napi::Env env) {
    return DefineClass(env, "NativeContext", {
        InstanceMethod<&native_context::decode>("decode"),
        InstanceMethod<&native_context::abort>("abort"),
        InstanceMethod<&native_context::logits>("logits"),
        InstanceMethod<&native_context::analyze_rows>("analyzeRows"),
        InstanceMethod<&native_context::set_control_vector>("setControlVector"),
        InstanceMethod<&native_context::set_capture_layers>("setCaptureLayers"),
        InstanceMethod<&native_context::take_captures>("takeCaptures"),
        InstanceMethod<&native_context::memory_clear>("memoryClear"),
        InstanceMethod<&native_context::memory_seq_rm>("memorySeqRm"),
        InstanceMethod<&native_context::memory_seq_cp>("memorySeqCp"),
        InstanceMethod<&native_context::memory_seq_pos_max>("memorySeqPosMax"),
        InstanceMethod<&native_context::info>("info"),
        InstanceMethod<&native_context::dispose>("dispose"),
    });
}

static uint32_t positive_option(Napi::Object options, const char * name) {
    Napi::Value value = options.Get(name);
    if (!value.IsNumber() || value.As<Napi::Number>().DoubleValue() < 1) {
        throw Napi::TypeError::New(options.Env(), std::string("createContext: option ") + name + " must be a positive number");
    }
    return value.As<Napi::Number>().Uint32Value();
}

// decodePriority: "normal" (default) or "background"
static bool background_option(Napi::Object options) {
    Napi::Value value = options.Get("decodePriority");
    if (value.IsUndefined()) {
        return false;
    }
    const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : std::string();
    if (name != "normal" && name != "background") {
        throw Napi::TypeError::New(options.Env(), "createContext: option decodePriority must be \"normal\" or \"background\"");
    }
    return name == "background";
}

// createContext(model: NativeModel, options: {contextSize, batchSize, sequences, threads, threadsBatch, precise?, decodePriority?}): Promise<NativeContext>
Napi::Value native_context::create(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsObject()) {
        throw Napi::TypeError::New(env, "createContext(model, options)");
    }
    Napi::Object model_object = info[0].As<Napi::Object>();
    // Unwrap trusts the object's native pointer: another wrapped class (a NativeContext) would be
    // read as a model
    if (!model_object.InstanceOf(g_native_model_constructor->Value())) {
        throw Napi::TypeError::New(env, "createContext: the first argument must be a NativeModel from loadModel()");
    }
    native_model * model = native_model::Unwrap(model_object);
    model->ensure_alive(env);
    Napi::Object options = info[1].As<Napi::Object>();
    const context_options parsed = {
        positive_option(options, "contextSize"),
        positive_option(options, "batchSize"),
        positive_option(options, "sequences"),
        (int32_t) positive_option(options, "threads"),
        (int32_t) positive_option(options, "threadsBatch"),
        options.Get("precise").ToBoolean().Value(),
        background_option(options),
    };
    auto * worker = new create_context_worker(env, model_object, model, parsed);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}

native_context::native_context(const Napi::CallbackInfo & info) : Napi::ObjectWrap<native_context>(info) {
    if (info.Length() != 2 || !info[0].IsObject() || !info[1].IsExternal()) {
        throw Napi::TypeError::New(info.Env(), "NativeContext cannot be constructed directly; use createContext()");
    }
    model_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    model_ = native_model::Unwrap(info[0].As<Napi::Object>());
    core_.reset(info[1].As<Napi::External<context_core>>().Data());
    n_vocab_ = llama_library_get().llama_vocab_n_tokens(model_->vocab());
}

native_context::~native_context() {
    free_context();
}

void native_context::free_context() {
    if (core_ && core_->ctx != nullptr) {
        const llama_library & lib = llama_library_get();
        lib.llama_detach_threadpool(core_->ctx);
        lib.llama_free(core_->ctx);
        core_->ctx = nullptr;
        for (ggml_threadpool_t * pool : { &core_->threadpool, &core_->threadpool_batch }) {
            if (*pool != nullptr) {
                lib.ggml_threadpool_free(*pool);
                *pool = nullptr;
            }
        }
        core_->background.reset(); // its thread ends now, not when the JS object is collected
        model_->live_contexts--;
    }
}

llama_context * native_context::idle_ctx(Napi::Env env) const {
    if (!core_ || core_->ctx == nullptr) {
        throw Napi::Error::New(env, "the context was disposed");
    }
    if (core_->busy) {
        throw Napi::Error::New(env, "the context is busy decoding; wait for the previous decode to finish");
    }
    return core_->ctx;
}

// decode(tokens: Int32Array, positions: Int32Array, seqIds: Int32Array, wantLogits: Uint8Array): Promise<void>
// One row per token; every row belongs to exactly one sequence.
Napi::Value native_context::decode(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    idle_ctx(env);
    // the element type matters: reading a Float64Array's bytes as int32 walks past its end
    const auto is_typed = [&](size_t i, napi_typedarray_type type) {
        return info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == type;
    };
    if (info.Length() < 4 || !is_typed(0, napi_int32_array) || !is_typed(1, napi_int32_array) || !is_typed(2, napi_int32_array) ||
        !is_typed(3, napi_uint8_array)) {
        throw Napi::TypeError::New(env, "decode(tokens: Int32Array, positions: Int32Array, seqIds: Int32Array, wantLogits: Uint8Array)");
    }
    Napi::Int32Array tokens    = info[0].As<Napi::Int32Array>();
    Napi::Int32Array positions = info[1].As<Napi::Int32Array>();
    Napi::Int32Array seq_ids   = info[2].As<Napi::Int32Array>();
    Napi::Uint8Array want      = info[3].As<Napi::Uint8Array>();
    const size_t n = tokens.ElementLength();
    if (n == 0 || positions.ElementLength() != n || seq_ids.ElementLength() != n || want.ElementLength() != n) {
        throw Napi::RangeError::New(env, "decode: tokens, positions, seqIds and wantLogits must be non-empty and of equal length");
    }
    // llama.cpp asserts (and so ends the process) on these; refuse them here instead
    const uint32_t n_batch = llama_library_get().llama_n_batch(core_->ctx);
    if (n > n_batch) {
        throw Napi::RangeError::New(env, "decode: " + std::to_string(n) + " tokens exceed the context's batch size (" + std::to_string(n_batch) + ")");
    }
    for (size_t i = 0; i < n; i++) {
        if (seq_ids[i] < 0 || (uint32_t) seq_ids[i] >= core_->n_seq_max) {
            throw Napi::RangeError::New(env, "decode: sequence id " + std::to_string(seq_ids[i]) + " is outside 0-" +
                                        std::to_string(core_->n_seq_max - 1));
        }
        if (positions[i] < 0) {
            throw Napi::RangeError::New(env, "decode: position " + std::to_string(positions[i]) + " is negative");
        }
        if (tokens[i] < 0 || tokens[i] >= n_vocab_) {
            throw Napi::RangeError::New(env, "decode: token id " + std::to_string(tokens[i]) + " is outside the vocabulary (" +
                                        std::to_string(n_vocab_) + " tokens)");
        }
    }

    const llama_library & lib = llama_library_get();
    llama_batch batch = lib.llama_batch_init((int32_t) n, 0, 1);
    batch.n_tokens = (int32_t) n;
    for (size_t i = 0; i < n; i++) {
        batch.token[i]     = tokens[i];
        batch.pos[i]       = positions[i];
        batch.n_seq_id[i]  = 1;
        batch.seq_id[i][0] = seq_ids[i];
        batch.logits[i]    = want[i] != 0;
    }

    core_->busy = true;
    core_->abort_requested = false;
    auto * worker = new decode_worker(env, Value(), core_.get(), batch);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}

// abort(): asks a running decode to stop at the next graph node (honoured by the CPU backend).
Napi::Value native_context::abort(const Napi::CallbackInfo & info) {
    if (core_) {
        core_->abort_requested = true;
    }
    return info.Env().Undefined();
}

// logits(batchIndex: number): Float32Array — a copy of the row's logits (batch index of a row that
// requested logits in the last decode).
Napi::Value native_context::logits(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_context * ctx = idle_ctx(env);
    const int32_t i = info[0].As<Napi::Number>().Int32Value();
    float * row = llama_library_get().llama_get_logits_ith(ctx, i);
    if (row == nullptr) {
        throw Napi::RangeError::New(env, "no logits for batch row " + std::to_string(i) + " (was it requested in the last decode?)");
    }
    Napi::Float32Array out = Napi::Float32Array::New(env, n_vocab_);
    std::memcpy(out.Data(), row, n_vocab_ * sizeof(float));
    return out;
}

// analyzeRows(rows: Int32Array, targets: Int32Array | null, options, uniforms: Float64Array | null)
// One native pass per logits row of the last decode (row_analysis_binding.h); only the results
// cross into JS, never the logits.
Napi::Value native_context::analyze_rows(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_context * ctx = idle_ctx(env);
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw Napi::TypeError::New(env, "analyzeRows(rows: Int32Array, targets: Int32Array | null, options, uniforms: Float64Array | null)");
    }
    Napi::Int32Array rows = info[0].As<Napi::Int32Array>();
    const llama_library & lib = llama_library_get();
    return row_analysis_run(info, 1, rows.ElementLength(), n_vocab_, row_scratch_, [&](size_t r) -> const float * {
        const float * row = lib.llama_get_logits_ith(ctx, rows[r]);
        if (row == nullptr) {
            throw Napi::RangeError::New(env, "no logits for batch row " + std::to_string(rows[r]) + " (was it requested in the last decode?)");
        }
        return row;
    });
}

// setControlVector(data: Float32Array | null, ilStart: number, ilEnd: number): void
// data holds (n_layer - 1) * n_embd floats: chunk il-1 is added to the output of block il. It must
// always be the full buffer: llama.cpp keeps stale chunks of a shorter one applied.
Napi::Value native_context::set_control_vector(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_context * ctx = idle_ctx(env);
    const llama_library & lib = llama_library_get();
    const int32_t n_layer = core_->capture.n_layer;
    const int32_t n_embd  = core_->capture.n_embd;
    int32_t ret;
    if (info.Length() < 1 || info[0].IsNull() || info[0].IsUndefined()) {
        ret = lib.llama_set_adapter_cvec(ctx, nullptr, 0, n_embd, -1, -1);
    } else {
        if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
            throw Napi::TypeError::New(env, "setControlVector: data must be a Float32Array or null");
        }
        Napi::Float32Array data = info[0].As<Napi::Float32Array>();
        const int32_t il_start = info[1].As<Napi::Number>().Int32Value();
        const int32_t il_end   = info[2].As<Napi::Number>().Int32Value();
        if (data.ElementLength() != (size_t) (n_layer - 1) * n_embd) {
            throw Napi::RangeError::New(env, "setControlVector: expected " + std::to_string((n_layer - 1) * n_embd) +
                                        " floats ((n_layer - 1) * n_embd), got " + std::to_string(data.ElementLength()));
        }
        if (il_start < 1 || il_end >= n_layer || il_start > il_end) {
            throw Napi::RangeError::New(env, "setControlVector: layer range " + std::to_string(il_start) + "-" +
                                        std::to_string(il_end) + " is outside 1-" + std::to_string(n_layer - 1));
        }
        ret = lib.llama_set_adapter_cvec(ctx, data.Data(), data.ElementLength(), n_embd, il_start, il_end);
    }
    if (ret != 0) {
        throw Napi::Error::New(env, "llama_set_adapter_cvec failed (" + std::to_string(ret) + ")");
    }
    return env.Undefined();
}

// setCaptureLayers(layers: Int32Array): void — blocks whose output (l_out) the next decodes copy.
Napi::Value native_context::set_capture_layers(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    idle_ctx(env);
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw Napi::TypeError::New(env, "setCaptureLayers(layers: Int32Array)");
    }
    Napi::Int32Array layers = info[0].As<Napi::Int32Array>();
    capture_state & capture = core_->capture;
    std::fill(capture.wanted.begin(), capture.wanted.end(), 0);
    for (size_t i = 0; i < layers.ElementLength(); i++) {
        const int32_t il = layers[i];
        if (il < 0 || il >= capture.n_layer) {
            throw Napi::RangeError::New(env, "setCaptureLayers: layer " + std::to_string(il) + " is outside 0-" +
                                        std::to_string(capture.n_layer - 1));
        }
        capture.wanted[il] = 1;
    }
    capture.any_wanted = layers.ElementLength() > 0;
    capture.reset_captured();
    return env.Undefined();
}

// takeCaptures(): Array<{layer: number, rows: number, data: Float32Array}> — what the last decode
// captured (rows × n_embd, row-major); the buffers are handed over and cleared.
Napi::Value native_context::take_captures(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    idle_ctx(env);
    capture_state & capture = core_->capture;
    Napi::Array out = Napi::Array::New(env);
    uint32_t k = 0;
    for (int32_t il = 0; il < capture.n_layer; il++) {
        if (capture.rows[il] == 0) {
            continue;
        }
        std::vector<float> & src = capture.data[il];
        Napi::Float32Array data = Napi::Float32Array::New(env, src.size());
        std::memcpy(data.Data(), src.data(), src.size() * sizeof(float));
        Napi::Object item = Napi::Object::New(env);
        item.Set("layer", il);
        item.Set("rows", capture.rows[il]);
        item.Set("data", data);
        out.Set(k++, item);
    }
    capture.reset_captured();
    return out;
}

Napi::Value native_context::memory_clear(const Napi::CallbackInfo & info) {
    llama_context * ctx = idle_ctx(info.Env());
    const llama_library & lib = llama_library_get();
    lib.llama_memory_clear(lib.llama_get_memory(ctx), true);
    return info.Env().Undefined();
}

// A sequence id argument: llama.cpp asserts (the process aborts) or indexes out of bounds on one
// outside the context, so it is refused here. allow_all: -1 means every sequence (memorySeqRm).
static llama_seq_id checked_seq_id(Napi::Env env, const Napi::CallbackInfo & info, size_t index, uint32_t n_seq_max, bool allow_all, const char * where) {
    if (info.Length() <= index || !info[index].IsNumber()) {
        throw Napi::TypeError::New(env, std::string(where) + ": argument " + std::to_string(index + 1) + " must be a sequence id (number)");
    }
    const double id = info[index].As<Napi::Number>().DoubleValue();
    if (!(id == std::floor(id)) || !((id >= 0 && id < n_seq_max) || (allow_all && id == -1))) {
        throw Napi::RangeError::New(env, std::string(where) + ": sequence id " + std::to_string(id) + " is outside 0-" + std::to_string(n_seq_max - 1) +
                                    (allow_all ? " (or -1 for all)" : ""));
    }
    return (llama_seq_id) id;
}

static llama_pos position_arg(Napi::Env env, const Napi::CallbackInfo & info, size_t index, const char * where) {
    if (info.Length() <= index || !info[index].IsNumber()) {
        throw Napi::TypeError::New(env, std::string(where) + ": argument " + std::to_string(index + 1) + " must be a position (number)");
    }
    return info[index].As<Napi::Number>().Int32Value();
}

// memorySeqRm(seq, p0, p1): boolean — drop positions [p0, p1) of a sequence (p1 < 0: to the end)
Napi::Value native_context::memory_seq_rm(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_context * ctx = idle_ctx(env);
    const llama_library & lib = llama_library_get();
    const llama_seq_id seq = checked_seq_id(env, info, 0, core_->n_seq_max, true, "memorySeqRm");
    const bool ok = lib.llama_memory_seq_rm(lib.llama_get_memory(ctx), seq, position_arg(env, info, 1, "memorySeqRm"), position_arg(env, info, 2, "memorySeqRm"));
    return Napi::Boolean::New(env, ok);
}

// memorySeqCp(src, dst, p0, p1): void — share positions [p0, p1) of src with dst (no copy of data)
Napi::Value native_context::memory_seq_cp(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_context * ctx = idle_ctx(env);
    const llama_library & lib = llama_library_get();
    const llama_seq_id src = checked_seq_id(env, info, 0, core_->n_seq_max, false, "memorySeqCp");
    const llama_seq_id dst = checked_seq_id(env, info, 1, core_->n_seq_max, false, "memorySeqCp");
    lib.llama_memory_seq_cp(lib.llama_get_memory(ctx), src, dst, position_arg(env, info, 2, "memorySeqCp"), position_arg(env, info, 3, "memorySeqCp"));
    return env.Undefined();
}

Napi::Value native_context::memory_seq_pos_max(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_context * ctx = idle_ctx(env);
    const llama_library & lib = llama_library_get();
    const llama_seq_id seq = checked_seq_id(env, info, 0, core_->n_seq_max, false, "memorySeqPosMax");
    return Napi::Number::New(env, lib.llama_memory_seq_pos_max(lib.llama_get_memory(ctx), seq));
}

Napi::Value native_context::info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    llama_context * ctx = idle_ctx(env);
    const llama_library & lib = llama_library_get();
    Napi::Object out = Napi::Object::New(env);
    out.Set("contextSize", lib.llama_n_ctx(ctx));
    out.Set("batchSize", lib.llama_n_batch(ctx));
    const background_thread * background = core_->background.get();
    out.Set("decodePriority", background != nullptr ? "background" : "normal");
    out.Set("decodeThreadId", background != nullptr && background->thread_id() != 0 ? Napi::Value(Napi::Number::New(env, (double) background->thread_id())) : env.Null());
    out.Set("decodePriorityError", background != nullptr && !background->priority_error().empty() ? Napi::Value(Napi::String::New(env, background->priority_error())) : env.Null());
    return out;
}

Napi::Value native_context::dispose(const Napi::CallbackInfo & info) {
    if (core_ && core_->busy) {
        throw Napi::Error::New(info.Env(), "cannot dispose a context while it is decoding; abort and await the decode first");
    }
    free_context();
    model_ref_.Reset();
    return info.Env().Undefined();
}
