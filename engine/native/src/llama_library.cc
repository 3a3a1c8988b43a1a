#include "llama_library.h"

#include <cstring>
#include <mutex>
#include <stdexcept>
#include <vector>

#if defined(_WIN32)
#   define WIN32_LEAN_AND_MEAN
#   include <windows.h>
#   include <psapi.h>
#elif defined(__APPLE__)
#   include <dlfcn.h>
#   include <mach-o/dyld.h>
#else
#   include <dlfcn.h>
#   include <link.h>
#endif

namespace {

// ---- finding the libraries node-llama-cpp loaded ------------------------------------------------
//
// node-llama-cpp's builds name the library libllama.<variant>.<version>.so (linux),
// libllama.dylib (mac) or llama.dll (windows); libllama-common is a different library and must not
// match. ggml-base is libggml-base.so / libggml-base.dylib / ggml-base.dll.

std::string base_name(const std::string & path) {
    const size_t slash = path.find_last_of("/\\");
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool is_libllama(const std::string & path) {
    const std::string name = base_name(path);
    return name.rfind("libllama.", 0) == 0 || name == "llama.dll";
}

bool is_libggml_base(const std::string & path) {
    const std::string name = base_name(path);
    return name.rfind("libggml-base.", 0) == 0 || name == "ggml-base.dll";
}

// libggml.<variant>.<version>.so / libggml.dylib / ggml.dll: the backend registry
bool is_libggml(const std::string & path) {
    const std::string name = base_name(path);
    return name.rfind("libggml.", 0) == 0 || name == "ggml.dll";
}

std::vector<std::string> loaded_library_paths() {
    std::vector<std::string> paths;
#if defined(_WIN32)
    HMODULE modules[1024];
    DWORD needed = 0;
    if (EnumProcessModules(GetCurrentProcess(), modules, sizeof(modules), &needed)) {
        for (DWORD i = 0; i < needed / sizeof(HMODULE) && i < 1024; i++) {
            char name[MAX_PATH];
            if (GetModuleFileNameA(modules[i], name, MAX_PATH) > 0) {
                paths.emplace_back(name);
            }
        }
    }
#elif defined(__APPLE__)
    const uint32_t count = _dyld_image_count();
    for (uint32_t i = 0; i < count; i++) {
        const char * name = _dyld_get_image_name(i);
        if (name != nullptr) {
            paths.emplace_back(name);
        }
    }
#else
    dl_iterate_phdr([](struct dl_phdr_info * info, size_t, void * data) -> int {
        if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') {
            static_cast<std::vector<std::string> *>(data)->emplace_back(info->dlpi_name);
        }
        return 0;
    }, &paths);
#endif
    return paths;
}

void * open_loaded(const std::string & path) {
#if defined(_WIN32)
    return reinterpret_cast<void *>(GetModuleHandleA(path.c_str()));
#else
    // RTLD_NOLOAD: only hand back a library that is already in the process; never load another.
    return dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
#endif
}

void * find_symbol(void * handle, const char * name) {
#if defined(_WIN32)
    return reinterpret_cast<void *>(GetProcAddress(static_cast<HMODULE>(handle), name));
#else
    return dlsym(handle, name);
#endif
}

std::mutex      g_bind_mutex;
bool            g_bound = false;
llama_library   g_library;

} // namespace

const llama_library & llama_library_bind() {
    std::lock_guard<std::mutex> lock(g_bind_mutex);
    if (g_bound) {
        return g_library;
    }

    llama_library lib;
    for (const std::string & path : loaded_library_paths()) {
        if (lib.llama_path.empty() && is_libllama(path)) {
            lib.llama_path = path;
        } else if (lib.ggml_base_path.empty() && is_libggml_base(path)) {
            lib.ggml_base_path = path;
        } else if (lib.ggml_path.empty() && is_libggml(path)) {
            lib.ggml_path = path;
        }
    }
    if (lib.llama_path.empty() || lib.ggml_base_path.empty() || lib.ggml_path.empty()) {
        throw std::runtime_error(
            "llama.cpp is not loaded in this process yet: call node-llama-cpp's getLlama() before binding Tiller's native addon");
    }

    void * llama = open_loaded(lib.llama_path);
    void * ggml  = open_loaded(lib.ggml_base_path);
    void * registry = open_loaded(lib.ggml_path);
    if (llama == nullptr || ggml == nullptr || registry == nullptr) {
        throw std::runtime_error("could not open the loaded llama.cpp libraries (" + lib.llama_path + ", " + lib.ggml_base_path + ")");
    }

    std::string missing;
#define TILLER_RESOLVE(handle, name)                                                  \
    lib.name = reinterpret_cast<decltype(lib.name)>(find_symbol(handle, #name));     \
    if (lib.name == nullptr) { missing += (missing.empty() ? "" : ", "); missing += #name; }
#define TILLER_RESOLVE_LLAMA(name) TILLER_RESOLVE(llama, name)
#define TILLER_RESOLVE_GGML(name)  TILLER_RESOLVE(ggml, name)
#define TILLER_RESOLVE_REGISTRY(name) TILLER_RESOLVE(registry, name)
    TILLER_LLAMA_FUNCTIONS(TILLER_RESOLVE_LLAMA)
    TILLER_GGML_FUNCTIONS(TILLER_RESOLVE_GGML)
    TILLER_GGML_REGISTRY_FUNCTIONS(TILLER_RESOLVE_REGISTRY)
#undef TILLER_RESOLVE_REGISTRY
#undef TILLER_RESOLVE_GGML
#undef TILLER_RESOLVE_LLAMA
#undef TILLER_RESOLVE

    if (!missing.empty()) {
        throw std::runtime_error("the loaded llama.cpp (" + lib.llama_path + ") lacks functions Tiller needs: " + missing);
    }

    ggml_backend_dev_t cpu = lib.ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (cpu != nullptr) {
        ggml_backend_reg_t reg = lib.ggml_backend_dev_backend_reg(cpu);
        lib.ggml_threadpool_new  = reinterpret_cast<decltype(lib.ggml_threadpool_new)>(lib.ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new"));
        lib.ggml_threadpool_free = reinterpret_cast<decltype(lib.ggml_threadpool_free)>(lib.ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free"));
    }

    g_library = lib;
    g_bound = true;
    return g_library;
}

std::string llama_library_loaded_path() {
    for (const std::string & path : loaded_library_paths()) {
        if (is_libllama(path)) {
            return path;
        }
    }
    return "";
}

const llama_library & llama_library_get() {
    std::lock_guard<std::mutex> lock(g_bind_mutex);
    if (!g_bound) {
        throw std::runtime_error("Tiller's native addon is not bound to llama.cpp yet");
    }
    return g_library;
}
