#include "row_analysis_binding.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

Napi::Value row_analysis_run(const Napi::CallbackInfo & info, size_t first_arg, size_t n_rows, int32_t n_vocab,
                             row_scratch & scratch, const std::function<const float *(size_t)> & row_at) {
    Napi::Env env = info.Env();
    // ---- arguments: targets (Int32Array | null), options, uniforms (Float64Array | null) ----------
    const int32_t * targets = nullptr;
    if (info.Length() > first_arg && info[first_arg].IsTypedArray()) {
        Napi::TypedArray t = info[first_arg].As<Napi::TypedArray>();
        if (t.TypedArrayType() != napi_int32_array || t.ElementLength() != n_rows) {
            throw Napi::RangeError::New(env, "analyzeRows: targets must be an Int32Array with one entry per row");
        }
        targets = info[first_arg].As<Napi::Int32Array>().Data();
    }
    if (info.Length() <= first_arg + 1 || !info[first_arg + 1].IsObject()) {
        throw Napi::TypeError::New(env, "analyzeRows: options must be an object");
    }
    const double * uniforms = nullptr;
    if (info.Length() > first_arg + 2 && info[first_arg + 2].IsTypedArray()) {
        Napi::TypedArray u = info[first_arg + 2].As<Napi::TypedArray>();
        if (u.TypedArrayType() != napi_float64_array || u.ElementLength() != n_rows) {
            throw Napi::RangeError::New(env, "analyzeRows: uniforms must be a Float64Array with one entry per row");
        }
        uniforms = info[first_arg + 2].As<Napi::Float64Array>().Data();
    }
    Napi::Object options = info[first_arg + 1].As<Napi::Object>();
    row_options opts;
    opts.top_n       = options.Get("topN").ToNumber().Int32Value();
    opts.temperature = options.Get("temperature").ToNumber().DoubleValue();
    opts.statistics  = options.Get("statistics").ToBoolean().Value();
    opts.exact       = options.Get("exact").ToBoolean().Value();
    // each option is read once: a generation calls this for every token, and every named read
    // costs a property-name lookup
    const Napi::Value kernel_option = options.Get("kernel");
    if (kernel_option.IsString()) {
        const std::string kernel = kernel_option.As<Napi::String>().Utf8Value();
        if (kernel == "scalar") {
            opts.kernel = ROW_KERNEL_SCALAR;
        } else if (kernel == "avx2") {
            opts.kernel = ROW_KERNEL_AVX2;
        } else if (kernel != "auto") {
            throw Napi::RangeError::New(env, "analyzeRows: kernel must be \"auto\", \"avx2\" or \"scalar\"");
        }
    }
    if (opts.top_n < 0 || !row_temperature_valid(opts.temperature)) {
        throw Napi::RangeError::New(env, "analyzeRows: topN must be ≥ 0 and temperature 0 or within [1e-30, 1e6]");
    }
    std::vector<double> grid;
    const Napi::Value grid_option = options.Get("temperatureGrid");
    if (!grid_option.IsUndefined()) {
        if (!grid_option.IsTypedArray() || grid_option.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
            throw Napi::TypeError::New(env, "analyzeRows: temperatureGrid must be a Float64Array");
        }
        const Napi::Float64Array values = grid_option.As<Napi::Float64Array>();
        grid.assign(values.Data(), values.Data() + values.ElementLength());
        for (const double t : grid) {
            if (!row_temperature_valid(t)) {
                throw Napi::RangeError::New(env, "analyzeRows: every grid temperature must be 0 or within [1e-30, 1e6]");
            }
        }
        if (!opts.statistics && !grid.empty()) {
            throw Napi::RangeError::New(env, "analyzeRows: a temperature grid needs statistics");
        }
        opts.grid = grid.data();
        opts.n_grid = (int32_t) grid.size();
    }
    row_sampler_params sampler;
    const Napi::Value sampler_option = options.Get("sampler");
    if (sampler_option.IsObject()) {
        Napi::Object s = sampler_option.As<Napi::Object>();
        sampler.temperature = s.Get("temperature").ToNumber().DoubleValue();
        sampler.top_k       = s.Get("topK").ToNumber().Int32Value();
        sampler.top_p       = s.Get("topP").ToNumber().DoubleValue();
        sampler.min_p       = s.Get("minP").ToNumber().DoubleValue();
        if (!(sampler.temperature >= 0) || sampler.top_k < 0 || !(sampler.top_p > 0 && sampler.top_p <= 1) || !(sampler.min_p >= 0 && sampler.min_p < 1)) {
            throw Napi::RangeError::New(env, "analyzeRows: sampler options out of range");
        }
        if (sampler.temperature > 0 && uniforms == nullptr) {
            throw Napi::TypeError::New(env, "analyzeRows: a sampler with temperature > 0 needs one uniform draw per row");
        }
        opts.sampler = &sampler;
    }

    // ---- one pass per row ----------------------------------------------------------------------
    // All results share one ArrayBuffer (the doubles first, so every view is aligned): one backing
    // store per call instead of seven, which the garbage collector must also track and free.
    const size_t top_n = (size_t) opts.top_n;
    const size_t n_fields = n_rows * ROW_FIELD_COUNT, n_top = n_rows * top_n, n_grid = n_rows * grid.size() * GRID_FIELD_COUNT;
    const size_t doubles = n_fields + n_top + n_grid, ints = 3 * n_rows + n_top;
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, doubles * sizeof(double) + ints * sizeof(int32_t));
    size_t at = 0;
    const auto f64 = [&](size_t count) { Napi::Float64Array view = Napi::Float64Array::New(env, count, buffer, at); at += count * sizeof(double); return view; };
    const auto i32 = [&](size_t count) { Napi::Int32Array view = Napi::Int32Array::New(env, count, buffer, at); at += count * sizeof(int32_t); return view; };
    Napi::Float64Array fields      = f64(n_fields);
    Napi::Float64Array top_lp      = f64(n_top);
    Napi::Float64Array grid_fields = f64(n_grid);
    Napi::Int32Array   greedy      = i32(n_rows);
    Napi::Int32Array   sampled     = i32(n_rows);
    Napi::Int32Array   top_ids     = i32(n_top);
    Napi::Int32Array   top_cnt     = i32(n_rows);
    row_result result;
    std::string error;
    for (size_t r = 0; r < n_rows; r++) {
        const float * row = row_at(r);
        const int32_t target = targets != nullptr ? targets[r] : -1;
        if (target >= n_vocab) {
            throw Napi::RangeError::New(env, "token id " + std::to_string(target) + " is outside the vocabulary of " + std::to_string(n_vocab) + " tokens");
        }
        if (!row_analyse(row, n_vocab, opts, target, uniforms != nullptr ? uniforms[r] : 0.0, scratch, result, error)) {
            Napi::Error e = Napi::Error::New(env, error);
            e.Value().Set("invalidLogits", Napi::Boolean::New(env, true));
            throw e;
        }
        greedy[r]  = result.greedy;
        sampled[r] = result.sampled;
        std::memcpy(fields.Data() + r * ROW_FIELD_COUNT, result.fields, sizeof(result.fields));
        top_cnt[r] = result.top_count;
        if (!grid.empty()) {
            std::memcpy(grid_fields.Data() + r * grid.size() * GRID_FIELD_COUNT, result.grid_fields.data(), grid.size() * GRID_FIELD_COUNT * sizeof(double));
        }
        for (int32_t j = 0; j < opts.top_n; j++) {
            top_ids[r * opts.top_n + j] = j < result.top_count ? result.top_ids[j] : -1;
            top_lp[r * opts.top_n + j]  = j < result.top_count ? result.top_logprobs[j] : -INFINITY;
        }
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("greedy", greedy);
    out.Set("sampled", sampled);
    out.Set("fields", fields);
    out.Set("topIds", top_ids);
    out.Set("topLogprobs", top_lp);
    out.Set("topCounts", top_cnt);
    out.Set("gridFields", grid_fields);
    return out;
}

Napi::Value row_analysis_analyze_logits(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array || !info[1].IsNumber()) {
        throw Napi::TypeError::New(env, "analyzeLogits(logits: Float32Array, nVocab: number, targets, options, uniforms)");
    }
    Napi::Float32Array logits = info[0].As<Napi::Float32Array>();
    const int64_t n_vocab = info[1].As<Napi::Number>().Int64Value();
    if (n_vocab < 1 || n_vocab > INT32_MAX || logits.ElementLength() % n_vocab != 0) {
        throw Napi::RangeError::New(env, "analyzeLogits: the logits must be rows × nVocab floats");
    }
    static row_scratch scratch;  // JS thread only
    const float * data = logits.Data();
    return row_analysis_run(info, 2, logits.ElementLength() / n_vocab, (int32_t) n_vocab, scratch,
                            [&](size_t r) { return data + r * n_vocab; });
}
