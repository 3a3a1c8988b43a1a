// Node-API glue of the row analysis (row_analysis.h), shared by NativeContext.analyzeRows (rows of
// the last decode) and the addon's analyzeLogits (rows handed in from JS: tests, logits a caller
// already holds).
#pragma once

#include <napi.h>

#include <functional>

#include "row_analysis.h"

// Reads (targets, options, uniforms) from info[first_arg..first_arg + 2], analyses n_rows rows of
// n_vocab logits each (row r from row_at(r)) and returns the NativeRowAnalysis object.
Napi::Value row_analysis_run(const Napi::CallbackInfo & info, size_t first_arg, size_t n_rows, int32_t n_vocab,
                             row_scratch & scratch, const std::function<const float *(size_t)> & row_at);

// analyzeLogits(logits: Float32Array, nVocab: number, targets, options, uniforms): NativeRowAnalysis
Napi::Value row_analysis_analyze_logits(const Napi::CallbackInfo & info);
