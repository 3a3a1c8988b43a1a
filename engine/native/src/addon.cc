// Tiller's native addon: the few llama.cpp primitives node-llama-cpp does not expose
// (control vectors, residual-stream capture, raw batch decoding), over the libllama that
// node-llama-cpp already loaded. Policy (schedules, triggers, sweeps) lives in TypeScript.
#include <napi.h>

#include "tiller_build_info.h"
#include "llama_library.h"
#include "model.h"
#include "context.h"
#include "training.h"
#include "quantize.h"
#include "row_analysis_binding.h"
#include "llama_loader.h"

// buildInfo(): { nodeLlamaCppVersion, llamaCppCommit } — what the headers were taken from; the
// TypeScript side refuses to bind when the installed node-llama-cpp differs (structs pass by value).
static Napi::Value build_info(const Napi::CallbackInfo & info) {
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("nodeLlamaCppVersion", TILLER_NODE_LLAMA_CPP_VERSION);
    out.Set("llamaCppCommit", TILLER_LLAMA_CPP_COMMIT);
    return out;
}

// bind(): { llamaPath, ggmlBasePath } — resolves llama.cpp's functions from the loaded libraries.
static Napi::Value bind(const Napi::CallbackInfo & info) {
    try {
        const llama_library & lib = llama_library_bind();
        Napi::Object out = Napi::Object::New(info.Env());
        out.Set("llamaPath", lib.llama_path);
        out.Set("ggmlBasePath", lib.ggml_base_path);
        out.Set("systemInfo", lib.llama_print_system_info());
        return out;
    } catch (const std::exception & e) {
        throw Napi::Error::New(info.Env(), e.what());
    }
}

// liveObjects(): { trainers } — native objects alive now, so tests can see that dispose() frees at once
static Napi::Value live_objects(const Napi::CallbackInfo & info) {
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("trainers", (double) native_training::live_trainers());
    return out;
}

static Napi::Object init(Napi::Env env, Napi::Object exports) {
    Napi::Function model_class = native_model::define(env);
    g_native_model_constructor = new Napi::FunctionReference(Napi::Persistent(model_class));
    Napi::Function context_class = native_context::define(env);
    g_native_context_constructor = new Napi::FunctionReference(Napi::Persistent(context_class));

    exports.Set("buildInfo", Napi::Function::New(env, build_info, "buildInfo"));
    exports.Set("bind", Napi::Function::New(env, bind, "bind"));
    exports.Set("loadModel", Napi::Function::New(env, native_model::load, "loadModel"));
    exports.Set("analyzeLogits", Napi::Function::New(env, row_analysis_analyze_logits, "analyzeLogits"));
    exports.Set("createContext", Napi::Function::New(env, native_context::create, "createContext"));
    native_training::define(env); exports.Set("createTrainer", Napi::Function::New(env, native_training::create, "createTrainer"));
    exports.Set("liveObjects", Napi::Function::New(env, live_objects, "liveObjects"));
    exports.Set("quantizeModel", Napi::Function::New(env, native_quantize::quantize_model, "quantizeModel"));
    exports.Set("openLlamaLibraries", Napi::Function::New(env, native_llama_loader::open_libraries, "openLlamaLibraries"));
    exports.Set("llamaLoadedPath", Napi::Function::New(env, native_llama_loader::loaded_path, "llamaLoadedPath"));
    return exports;
}

NODE_API_MODULE(tiller_native, init)
