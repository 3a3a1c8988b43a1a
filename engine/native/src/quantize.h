// Quantization through libllama's own llama_model_quantize (the code behind llama.cpp's
// `llama-quantize` tool), so a quantized file is exactly what llama.cpp itself would write.
// Policy (type names, checks, the temporary file and its rename) lives in TypeScript
// (engine/runtime/quantizeModel.ts).
#pragma once

#include <napi.h>

namespace native_quantize {

// quantizeModel(input, output, { ftype, threads }, onProgress): Promise<{ seconds }>
// onProgress({ done, total, tensor }) is called once per tensor, from llama.cpp's own log line.
Napi::Value quantize_model(const Napi::CallbackInfo & info);

} // namespace native_quantize
