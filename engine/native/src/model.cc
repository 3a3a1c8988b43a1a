#include "model.h"

#include <string>
#include <vector>

Napi::FunctionReference * g_native_model_constructor = nullptr;

namespace {

// Loads the weights off the JS thread. The JS object is created back on the JS thread in OnOK.
class load_model_worker : public Napi::AsyncWorker {
public:
    load_model_worker(Napi::Env env, std::string path, int32_t n_gpu_layers, bool use_mmap)
        : Napi::AsyncWorker(env, "tiller.loadModel"),
          deferred_(Napi::Promise::Deferred::New(env)),
          path_(std::move(path)), n_gpu_layers_(n_gpu_layers), use_mmap_(use_mmap) {}

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        const llama_library & lib = llama_library_get();
        llama_model_params params = lib.llama_model_default_params();
        params.n_gpu_layers = n_gpu_layers_;
        params.load_mode    = use_mmap_ ? params.load_mode : LLAMA_LOAD_MODE_NONE;
        model_ = lib.llama_model_load_from_file(path_.c_str(), params);
        if (model_ == nullptr) {
            SetError("llama.cpp could not load the model \"" + path_ + "\" (see the log above for the reason)");
        }
    }

    void OnOK() override {
        Napi::Env env = Env();
        Napi::Object model = g_native_model_constructor->New({ Napi::External<llama_model>::New(env, model_) });
        deferred_.Resolve(model);
    }

    void OnError(const Napi::Error & error) override {
        deferred_.Reject(error.Value());
    }

private:
    Napi::Promise::Deferred deferred_;
    std::string path_;
    int32_t     n_gpu_layers_;
    bool        use_mmap_;
    llama_model * model_ = nullptr;
};

} // namespace

Napi::Function native_model::define(Napi::Env env) {
    return DefineClass(env, "NativeModel", {
        InstanceMethod<&native_model::info>("info"),
        InstanceMethod<&native_model::tokenize>("tokenize"),
        InstanceMethod<&native_model::token_piece>("tokenPiece"),
        InstanceMethod<&native_model::is_eog>("isEog"),
        InstanceMethod<&native_model::meta>("meta"),
        InstanceMethod<&native_model::dispose>("dispose"),
    });
}

// loadModel(path: string, gpuLayers: number, useMmap: boolean): Promise<NativeModel>
Napi::Value native_model::load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsBoolean()) {
        throw Napi::TypeError::New(env, "loadModel(path: string, gpuLayers: number, useMmap: boolean)");
    }
    llama_library_get(); // throws a clear error when the addon was never bound
    auto * worker = new load_model_worker(env, info[0].As<Napi::String>(), info[1].As<Napi::Number>().Int32Value(),
                                          info[2].As<Napi::Boolean>());
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}

native_model::native_model(const Napi::CallbackInfo & info) : Napi::ObjectWrap<native_model>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
        throw Napi::TypeError::New(info.Env(), "NativeModel cannot be constructed directly; use loadModel()");
    }
    model_ = info[0].As<Napi::External<llama_model>>().Data();
    vocab_ = llama_library_get().llama_model_get_vocab(model_);
}

native_model::~native_model() {
    // Reached only through GC; contexts hold a reference to their model, so none is alive here.
    free_model();
}

void native_model::free_model() {
    if (model_ != nullptr) {
        llama_library_get().llama_model_free(model_);
        model_ = nullptr;
        vocab_ = nullptr;
    }
}

void native_model::ensure_alive(Napi::Env env) const {
    if (model_ == nullptr) {
        throw Napi::Error::New(env, "the model was disposed");
    }
}

Napi::Value native_model::info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ensure_alive(env);
    const llama_library & lib = llama_library_get();

    char desc[256] = {0};
    lib.llama_model_desc(model_, desc, sizeof(desc));
    char arch[128] = {0};
    const bool has_arch = lib.llama_model_meta_val_str(model_, "general.architecture", arch, sizeof(arch)) >= 0;
    const char * chat_template = lib.llama_model_chat_template(model_, nullptr);

    Napi::Object out = Napi::Object::New(env);
    out.Set("nLayer",      lib.llama_model_n_layer(model_));
    out.Set("nEmbd",       lib.llama_model_n_embd(model_));
    out.Set("nHead",       lib.llama_model_n_head(model_));
    out.Set("nHeadKv",     lib.llama_model_n_head_kv(model_));
    out.Set("nCtxTrain",   lib.llama_model_n_ctx_train(model_));
    out.Set("nVocab",      lib.llama_vocab_n_tokens(vocab_));
    out.Set("nParams",     static_cast<double>(lib.llama_model_n_params(model_)));
    out.Set("sizeBytes",   static_cast<double>(lib.llama_model_size(model_)));
    out.Set("description", std::string(desc));
    out.Set("architecture", has_arch ? Napi::Value(Napi::String::New(env, arch)) : env.Null());
    out.Set("chatTemplate", chat_template != nullptr ? Napi::Value(Napi::String::New(env, chat_template)) : env.Null());
    out.Set("bos",         lib.llama_vocab_bos(vocab_));
    out.Set("eos",         lib.llama_vocab_eos(vocab_));
    out.Set("addBos",      lib.llama_vocab_get_add_bos(vocab_));
    return out;
}

// tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array
Napi::Value native_model::tokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ensure_alive(env);
    if (info.Length() < 3 || !info[0].IsString()) {
        throw Napi::TypeError::New(env, "tokenize(text: string, addSpecial: boolean, parseSpecial: boolean)");
    }
    const std::string text = info[0].As<Napi::String>();
    const bool add_special   = info[1].ToBoolean();
    const bool parse_special = info[2].ToBoolean();
    const llama_library & lib = llama_library_get();

    // first call with the upper bound; a negative result is the exact count needed
    std::vector<llama_token> tokens(text.size() + 2);
    int32_t n = lib.llama_tokenize(vocab_, text.data(), (int32_t) text.size(), tokens.data(), (int32_t) tokens.size(),
                                   add_special, parse_special);
    if (n < 0 && n != INT32_MIN) {
        tokens.resize(-n);
        n = lib.llama_tokenize(vocab_, text.data(), (int32_t) text.size(), tokens.data(), (int32_t) tokens.size(),
                               add_special, parse_special);
    }
    if (n < 0) {
        throw Napi::Error::New(env, "llama_tokenize failed for a text of " + std::to_string(text.size()) + " bytes");
    }
    Napi::Int32Array out = Napi::Int32Array::New(env, n);
    std::copy(tokens.begin(), tokens.begin() + n, out.Data());
    return out;
}

// tokenPiece(token: number, special: boolean): Uint8Array — raw bytes; a piece can be part of a
// UTF-8 sequence, so text decoding is left to the caller (which streams across tokens).
Napi::Value native_model::token_piece(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ensure_alive(env);
    const llama_token token = info[0].As<Napi::Number>().Int32Value();
    const bool special = info.Length() > 1 && info[1].ToBoolean();
    const llama_library & lib = llama_library_get();
    if (token < 0 || token >= lib.llama_vocab_n_tokens(vocab_)) {
        throw Napi::RangeError::New(env, "token id " + std::to_string(token) + " is outside the vocabulary");
    }
    char buf[256];
    int32_t n = lib.llama_token_to_piece(vocab_, token, buf, sizeof(buf), 0, special);
    std::vector<char> big;
    const char * data = buf;
    if (n < 0) {
        big.resize(-n);
        n = lib.llama_token_to_piece(vocab_, token, big.data(), (int32_t) big.size(), 0, special);
        data = big.data();
    }
    if (n < 0) {
        throw Napi::Error::New(env, "llama_token_to_piece failed for token " + std::to_string(token));
    }
    return Napi::Buffer<char>::Copy(env, data, n);
}

Napi::Value native_model::is_eog(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ensure_alive(env);
    return Napi::Boolean::New(env, llama_library_get().llama_vocab_is_eog(vocab_, info[0].As<Napi::Number>().Int32Value()));
}

// meta(key: string): string | null — a GGUF metadata value as llama.cpp formats it
Napi::Value native_model::meta(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    ensure_alive(env);
    if (info.Length() < 1 || !info[0].IsString()) {
        throw Napi::TypeError::New(env, "meta(key: string)");
    }
    const std::string key = info[0].As<Napi::String>();
    const llama_library & lib = llama_library_get();
    std::vector<char> buf(4096);
    int32_t n = lib.llama_model_meta_val_str(model_, key.c_str(), buf.data(), buf.size());
    if (n < 0) {
        return env.Null();
    }
    if ((size_t) n >= buf.size()) {
        // the value is longer than the first guess (n is its full length, snprintf-style): read it whole
        buf.resize((size_t) n + 1);
        n = lib.llama_model_meta_val_str(model_, key.c_str(), buf.data(), buf.size());
        if (n < 0) {
            return env.Null();
        }
    }
    return Napi::String::New(env, buf.data(), std::min<size_t>((size_t) n, buf.size() - 1));
}

Napi::Value native_model::dispose(const Napi::CallbackInfo & info) {
    if (live_contexts > 0) {
        throw Napi::Error::New(info.Env(), "dispose the model's contexts before the model");
    }
    free_model();
    return info.Env().Undefined();
}
