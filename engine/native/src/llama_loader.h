// Loading llama.cpp's prebuilt libraries without node-llama-cpp's JavaScript (the CLI's fast start;
// engine/runtime/directBackend.ts decides when it is used and falls back to node-llama-cpp).
#pragma once

#include <napi.h>

namespace native_llama_loader {

// openLlamaLibraries({ llama, ggml, ggmlBase, backendsDir, logLevel }) → Promise<{ devices }>
Napi::Value open_libraries(const Napi::CallbackInfo & info);

// llamaLoadedPath() → string | null: the libllama already in this process, if any
Napi::Value loaded_path(const Napi::CallbackInfo & info);

} // namespace native_llama_loader
