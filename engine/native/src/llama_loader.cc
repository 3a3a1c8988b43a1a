#include "llama_loader.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "llama_library.h"

#if !defined(_WIN32)
#   include <dlfcn.h>
#endif

// What node-llama-cpp's addon does when getLlama() loads a prebuilt CPU binary, in the same order:
// the libraries are loaded (its llama-addon.node pulls them in by RUNPATH), llama.cpp's log goes to
// a callback (set before anything logs), ggml's backends are loaded from the binary's folder
// (ggml_backend_load_all_from_path: the CPU variant that scores best on this CPU), then
// llama_backend_init(). The same files and the same variant choice, so results are identical.
//
// No crash test happens here: a library that crashes this CPU would take the process down.
// directBackend.ts runs this in a child process first (once per set of files, the verdict is
// cached) and falls back to node-llama-cpp when the child fails.

namespace native_llama_loader {
namespace {

// GGML_LOG_LEVEL_* at or above which lines are written to stderr; CONT lines follow their line's level
std::atomic<int> g_log_threshold { GGML_LOG_LEVEL_ERROR };
std::atomic<int> g_last_level { GGML_LOG_LEVEL_NONE };

void write_log(ggml_log_level level, const char * text, void *) {
    int effective = level;
    if (level == GGML_LOG_LEVEL_CONT) {
        effective = g_last_level.load();
    } else {
        g_last_level.store(level);
    }
    if (text != nullptr && effective != GGML_LOG_LEVEL_NONE && effective >= g_log_threshold.load()) {
        std::fputs(text, stderr);
        std::fflush(stderr);
    }
}

struct library_paths {
    std::string llama;
    std::string ggml;
    std::string ggml_base;
    std::string backends_dir;
};

struct device_description {
    std::string name;
    std::string description;
    std::string type;   // "cpu", "gpu", "igpu", "accel"
};

#if !defined(_WIN32)
void * open_library(const std::string & path) {
    // RTLD_LOCAL: the symbols stay out of the global scope, as when node-llama-cpp's addon loads them
    // by RUNPATH; RTLD_NOW: a missing symbol fails here, not at a later call
    void * handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char * reason = dlerror();
        throw std::runtime_error("cannot load " + path + ": " + (reason != nullptr ? reason : "unknown error"));
    }
    return handle;
}

template <typename F>
F resolve(void * handle, const char * name, const std::string & path) {
    void * symbol = dlsym(handle, name);
    if (symbol == nullptr) {
        throw std::runtime_error(path + " lacks " + name);
    }
    return reinterpret_cast<F>(symbol);
}
#endif

const char * device_type_name(enum ggml_backend_dev_type type) {
    switch (type) {
        case GGML_BACKEND_DEVICE_TYPE_CPU:   return "cpu";
        case GGML_BACKEND_DEVICE_TYPE_GPU:   return "gpu";
        case GGML_BACKEND_DEVICE_TYPE_IGPU:  return "igpu";
        case GGML_BACKEND_DEVICE_TYPE_ACCEL: return "accel";
        case GGML_BACKEND_DEVICE_TYPE_META:  return "meta";
    }
    return "unknown";
}

std::mutex g_open_mutex;
bool       g_opened = false;

std::vector<device_description> open_and_init(const library_paths & paths) {
#if defined(_WIN32)
    (void) paths;
    throw std::runtime_error("loading llama.cpp directly is not supported on Windows; use node-llama-cpp's getLlama()");
#else
    std::lock_guard<std::mutex> lock(g_open_mutex);
    if (g_opened) {
        throw std::runtime_error("llama.cpp's libraries were already opened by this addon");
    }
    if (!llama_library_loaded_path().empty()) {
        throw std::runtime_error("a libllama is already loaded in this process (" + llama_library_loaded_path() + ")");
    }
    void * llama = open_library(paths.llama);
    void * ggml = open_library(paths.ggml);
    void * ggml_base = open_library(paths.ggml_base);

    auto log_set       = resolve<decltype(&::llama_log_set)>(llama, "llama_log_set", paths.llama);
    auto backend_init  = resolve<decltype(&::llama_backend_init)>(llama, "llama_backend_init", paths.llama);
    auto load_all      = resolve<decltype(&::ggml_backend_load_all_from_path)>(ggml, "ggml_backend_load_all_from_path", paths.ggml);
    auto dev_count     = resolve<decltype(&::ggml_backend_dev_count)>(ggml, "ggml_backend_dev_count", paths.ggml);
    auto dev_get       = resolve<decltype(&::ggml_backend_dev_get)>(ggml, "ggml_backend_dev_get", paths.ggml);
    auto dev_name      = resolve<decltype(&::ggml_backend_dev_name)>(ggml_base, "ggml_backend_dev_name", paths.ggml_base);
    auto dev_desc      = resolve<decltype(&::ggml_backend_dev_description)>(ggml_base, "ggml_backend_dev_description", paths.ggml_base);
    auto dev_type      = resolve<decltype(&::ggml_backend_dev_type)>(ggml_base, "ggml_backend_dev_type", paths.ggml_base);

    // before anything logs: llama.cpp's default logger prints every level to stderr
    log_set(write_log, nullptr);
    load_all(paths.backends_dir.c_str());
    backend_init();
    g_opened = true;

    std::vector<device_description> devices;
    const size_t count = dev_count();
    for (size_t i = 0; i < count; i++) {
        ggml_backend_dev_t device = dev_get(i);
        devices.push_back({ dev_name(device), dev_desc(device), device_type_name(dev_type(device)) });
    }
    return devices;
#endif
}

class open_worker : public Napi::AsyncWorker {
public:
    open_worker(Napi::Env env, library_paths paths)
        : Napi::AsyncWorker(env, "TillerOpenLlamaLibraries"), deferred_(Napi::Promise::Deferred::New(env)), paths_(std::move(paths)) {}

    Napi::Promise promise() { return deferred_.Promise(); }

protected:
    void Execute() override {
        try {
            devices_ = open_and_init(paths_);
        } catch (const std::exception & e) {
            SetError(e.what());
        }
    }

    void OnOK() override {
        Napi::Env env = Env();
        Napi::Array devices = Napi::Array::New(env, devices_.size());
        for (size_t i = 0; i < devices_.size(); i++) {
            Napi::Object device = Napi::Object::New(env);
            device.Set("name", devices_[i].name);
            device.Set("description", devices_[i].description);
            device.Set("type", devices_[i].type);
            devices.Set(static_cast<uint32_t>(i), device);
        }
        Napi::Object out = Napi::Object::New(env);
        out.Set("devices", devices);
        deferred_.Resolve(out);
    }

    void OnError(const Napi::Error & error) override {
        deferred_.Reject(error.Value());
    }

private:
    Napi::Promise::Deferred         deferred_;
    library_paths                   paths_;
    std::vector<device_description> devices_;
};

std::string required_string(const Napi::Object & options, const char * key) {
    Napi::Value value = options.Get(key);
    if (!value.IsString() || value.As<Napi::String>().Utf8Value().empty()) {
        throw Napi::TypeError::New(options.Env(), std::string("openLlamaLibraries: ") + key + " must be a non-empty path");
    }
    return value.As<Napi::String>().Utf8Value();
}

} // namespace

Napi::Value open_libraries(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) {
        throw Napi::TypeError::New(env, "openLlamaLibraries: expected { llama, ggml, ggmlBase, backendsDir, logLevel }");
    }
    Napi::Object options = info[0].As<Napi::Object>();
    library_paths paths {
        required_string(options, "llama"),
        required_string(options, "ggml"),
        required_string(options, "ggmlBase"),
        required_string(options, "backendsDir")
    };
    Napi::Value level = options.Get("logLevel");
    if (level.IsNumber()) {
        g_log_threshold.store(level.As<Napi::Number>().Int32Value());
    }
    auto * worker = new open_worker(env, std::move(paths));
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
}

Napi::Value loaded_path(const Napi::CallbackInfo & info) {
    const std::string path = llama_library_loaded_path();
    return path.empty() ? info.Env().Null() : Napi::String::New(info.Env(), path);
}

} // namespace native_llama_loader
