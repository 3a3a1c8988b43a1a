// NativeContext: a llama_context (KV cache + compute buffers) over a NativeModel, plus the state of
// Tiller's residual-stream capture.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <vector>

#include "background_thread.h"
#include "llama_library.h"
#include "model.h"
#include "row_analysis.h"

// State shared with the eval callback (cb_eval). llama.cpp calls the callback on the decoding
// thread, so JS never reads or changes it while a decode is running (context_core::busy guards it).
struct capture_state {
    const llama_library * lib = nullptr;
    int32_t n_layer = 0;
    int32_t n_embd  = 0;

    std::vector<uint8_t> wanted;   // [n_layer]  wanted[il] != 0 → copy `l_out-il`
    bool any_wanted = false;

    // what one decode captured, appended across its micro-batches:
    // rows[il] rows of n_embd floats each, in batch order (only output rows for the last block)
    std::vector<std::vector<float>> data;   // [n_layer][rows * n_embd]
    std::vector<int32_t>            rows;   // [n_layer]

    void reset_captured();
};

// Everything llama.cpp's callbacks point at. Heap-allocated before the llama_context exists so the
// callback pointers are stable, then owned by the JS object.
struct context_core {
    // the lowered-priority thread that runs this context's llama.cpp work (decodePriority
    // "background"); null: decodes run on libuv's pool at the process's priority
    std::unique_ptr<background_thread> background;
    llama_context * ctx = nullptr;
    // persistent CPU threadpools (null when the CPU backend offers none): without them ggml makes
    // and joins a fresh pool for every graph computation, and a capture splits the graph into one
    // computation per captured layer
    ggml_threadpool_t threadpool = nullptr;
    ggml_threadpool_t threadpool_batch = nullptr;
    std::atomic<bool> busy{false};             // a decode worker is running
    std::atomic<bool> abort_requested{false};  // polled by llama.cpp between graph nodes (CPU)
    uint32_t n_seq_max = 1;                     // sequence ids a decode may use: 0 .. n_seq_max-1
    capture_state capture;
};

class native_context : public Napi::ObjectWrap<native_context> {
public:
    static Napi::Function define(Napi::Env env);
    static Napi::Value create(const Napi::CallbackInfo & info);

    explicit native_context(const Napi::CallbackInfo & info);
    ~native_context() override;

    context_core * core() const { return core_.get(); }

private:
    Napi::Value decode(const Napi::CallbackInfo & info);
    Napi::Value abort(const Napi::CallbackInfo & info);
    Napi::Value logits(const Napi::CallbackInfo & info);
    Napi::Value analyze_rows(const Napi::CallbackInfo & info);
    Napi::Value set_control_vector(const Napi::CallbackInfo & info);
    Napi::Value set_capture_layers(const Napi::CallbackInfo & info);
    Napi::Value take_captures(const Napi::CallbackInfo & info);
    Napi::Value memory_clear(const Napi::CallbackInfo & info);
    Napi::Value memory_seq_rm(const Napi::CallbackInfo & info);
    Napi::Value memory_seq_cp(const Napi::CallbackInfo & info);
    Napi::Value memory_seq_pos_max(const Napi::CallbackInfo & info);
    Napi::Value info(const Napi::CallbackInfo & info);
    Napi::Value dispose(const Napi::CallbackInfo & info);

    // throws unless the context is alive and no decode is running
    llama_context * idle_ctx(Napi::Env env) const;
    void free_context();

    std::unique_ptr<context_core> core_;
    native_model * model_ = nullptr;
    Napi::ObjectReference model_ref_;   // keeps the model alive as long as this context
    int32_t n_vocab_ = 0;
    row_scratch row_scratch_;   // analyzeRows' buffers, reused across calls
};

extern Napi::FunctionReference * g_native_context_constructor;
