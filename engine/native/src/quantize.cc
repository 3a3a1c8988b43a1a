#include "quantize.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "llama_library.h"

namespace {

// ---- progress and errors from llama.cpp's log -------------------------------------------------
//
// llama_model_quantize has no progress callback and reports failures only as a log line
// ("llama_model_quantize: failed to quantize: <reason>") and a non-zero return. While a
// quantization runs, Tiller's callback sits in front of the one node-llama-cpp installed: every
// line is forwarded unchanged, the per-tensor line "[  3/ 29] blk.0.attn_q.weight - ..." becomes
// a progress report and the failure line becomes the error message. The log hook is process-wide,
// so one quantization runs at a time (g_busy).

struct tensor_progress {
    int done;
    int total;
    std::string tensor;
};

struct quantize_log_state {
    ggml_log_callback         previous = nullptr;
    void                    * previous_user_data = nullptr;
    Napi::ThreadSafeFunction  progress;
    std::string               failure;   // the reason after "failed to quantize: "
    std::string               errors;    // every error-level line, for failures without that line
};

std::atomic<bool> g_busy { false };

void report_progress(Napi::Env env, Napi::Function callback, tensor_progress * progress) {
    // owned here so a callback that throws (a C++ exception under NODE_ADDON_API_CPP_EXCEPTIONS_ALL)
    // cannot leak it; quantizeModel.ts catches its caller's exceptions before they reach this point
    std::unique_ptr<tensor_progress> owned(progress);
    if (env != nullptr && callback != nullptr) {
        Napi::Object p = Napi::Object::New(env);
        p.Set("done", progress->done);
        p.Set("total", progress->total);
        p.Set("tensor", progress->tensor);
        callback.Call({ p });
    }
}

std::string trim(std::string text) {
    const size_t start = text.find_first_not_of(" \t\r\n");
    const size_t end = text.find_last_not_of(" \t\r\n");
    return start == std::string::npos ? std::string() : text.substr(start, end - start + 1);
}

void on_log(ggml_log_level level, const char * text, void * user_data) {
    auto * state = static_cast<quantize_log_state *>(user_data);
    const std::string marker = "failed to quantize: ";
    // the failure line becomes the error's message: not printed a second time
    const bool is_failure = text != nullptr && level == GGML_LOG_LEVEL_ERROR && std::strstr(text, marker.c_str()) != nullptr;
    if (state->previous != nullptr && !is_failure) {
        state->previous(level, text, state->previous_user_data);
    }
    if (text == nullptr) {
        return;
    }
    // "[%4d/%4d] %-36s - [...], type = ..." (llama-quant.cpp)
    int done = 0;
    int total = 0;
    char name[256] = { 0 };
    if (text[0] == '[' && std::sscanf(text, "[%d/%d] %255s", &done, &total, name) == 3 && total > 0) {
        auto * progress = new tensor_progress { done, total, name };
        if (state->progress.NonBlockingCall(progress, report_progress) != napi_ok) {
            delete progress;
        }
        return;
    }
    if (level == GGML_LOG_LEVEL_ERROR) {
        const std::string line = text;
        const size_t at = line.find(marker);
        if (at != std::string::npos) {
            state->failure = trim(line.substr(at + marker.size()));
        } else {
            state->errors += line;
        }
    }
}

class quantize_worker : public Napi::AsyncWorker {
public:
    quantize_worker(Napi::Env env, std::string input, std::string output, int32_t ftype, int32_t threads, Napi::Function on_progress)
        : Napi::AsyncWorker(env, "tiller.quantize"), deferred_(Napi::Promise::Deferred::New(env)),
          input_(std::move(input)), output_(std::move(output)), ftype_(ftype), threads_(threads) {
        state_.progress = Napi::ThreadSafeFunction::New(env, on_progress, "tiller.quantizeProgress", 0, 1);
    }

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        const llama_library & lib = llama_library_get();
        llama_model_quantize_params params = lib.llama_model_quantize_default_params();
        params.nthread = threads_;
        params.ftype   = static_cast<llama_ftype>(ftype_);
        // requantizing an already quantized file compounds the error; the caller refuses it first

        lib.llama_log_get(&state_.previous, &state_.previous_user_data);
        lib.llama_log_set(on_log, &state_);
        const auto started = std::chrono::steady_clock::now();
        const uint32_t status = lib.llama_model_quantize(input_.c_str(), output_.c_str(), &params);
        seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        lib.llama_log_set(state_.previous, state_.previous_user_data);

        if (status != 0) {
            std::string reason = !state_.failure.empty() ? state_.failure : trim(state_.errors);
            SetError("llama.cpp could not quantize \"" + input_ + "\": " + (reason.empty() ? "no reason given (status " + std::to_string(status) + ")" : reason));
        }
    }

    void OnOK() override {
        finish();
        Napi::Object out = Napi::Object::New(Env());
        out.Set("seconds", seconds_);
        deferred_.Resolve(out);
    }

    void OnError(const Napi::Error & error) override {
        finish();
        deferred_.Reject(error.Value());
    }

private:
    void finish() {
        state_.progress.Release();
        g_busy = false;
    }

    Napi::Promise::Deferred deferred_;
    std::string input_;
    std::string output_;
    int32_t ftype_;
    int32_t threads_;
    quantize_log_state state_;
    double seconds_ = 0;
};

} // namespace

Napi::Value native_quantize::quantize_model(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsString() || !info[1].IsString() || !info[2].IsObject() || !info[3].IsFunction()) {
        throw Napi::TypeError::New(env, "quantizeModel(input: string, output: string, { ftype, threads }, onProgress)");
    }
    Napi::Object options = info[2].As<Napi::Object>();
    if (!options.Get("ftype").IsNumber() || !options.Get("threads").IsNumber()) {
        throw Napi::TypeError::New(env, "quantizeModel options need numeric ftype and threads");
    }
    llama_library_get(); // throws a clear error when the addon was never bound
    bool expected = false;
    if (!g_busy.compare_exchange_strong(expected, true)) {
        throw Napi::Error::New(env, "another quantization is running in this process");
    }
    auto * worker = new quantize_worker(env, info[0].As<Napi::String>(), info[1].As<Napi::String>(),
                                        options.Get("ftype").As<Napi::Number>().Int32Value(),
                                        options.Get("threads").As<Napi::Number>().Int32Value(),
                                        info[3].As<Napi::Function>());
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}
