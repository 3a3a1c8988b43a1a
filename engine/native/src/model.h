// NativeModel: a llama_model loaded through the shared libllama. Owns the weights (mmap'd).
#pragma once

#include <napi.h>

#include "llama_library.h"

class native_model : public Napi::ObjectWrap<native_model> {
public:
    static Napi::Function define(Napi::Env env);
    static Napi::Value load(const Napi::CallbackInfo & info);

    explicit native_model(const Napi::CallbackInfo & info);
    ~native_model() override;

    llama_model * model() const { return model_; }
    const llama_vocab * vocab() const { return vocab_; }
    void ensure_alive(Napi::Env env) const;

    // contexts created from this model; the model cannot be freed while any is alive
    int live_contexts = 0;

private:
    Napi::Value info(const Napi::CallbackInfo & info);
    Napi::Value tokenize(const Napi::CallbackInfo & info);
    Napi::Value token_piece(const Napi::CallbackInfo & info);
    Napi::Value is_eog(const Napi::CallbackInfo & info);
    Napi::Value meta(const Napi::CallbackInfo & info);
    Napi::Value dispose(const Napi::CallbackInfo & info);

    void free_model();

    llama_model       * model_ = nullptr;
    const llama_vocab * vocab_ = nullptr;
};

// the constructor, kept for creating instances from async workers
extern Napi::FunctionReference * g_native_model_constructor;
