// Per-row analysis of a logits row: the work around every decode (validation, argmax, the
// softmax normaliser, entropy and the thermodynamic read-outs, the top alternatives, a sampled
// token) done natively, so that it does not grow with the vocabulary in JavaScript: on AVX-512 CPUs
// in one fused pass over the row (running maxima, streaming exponential sums at both read-out
// temperatures), elsewhere in a vectorised scan and one exponential pass. Pure C++ (no Node-API):
// the binding is in row_analysis_binding.cc.
//
// Conventions (DESIGN.md §4): logits z_i, energies relative to the top logit m,
//   ε_i = m − z_i ≥ 0,  p_i(T) ∝ exp(−ε_i / T),  Z_T = Σ exp(−ε_i / T),
//   F_T = −T ln Z_T,  U_T = ⟨ε⟩_T,  S_T = (U_T − F_T) / T,  C_T = Var_T(ε) / T².
// Masked logits (−∞) have p = 0 and never contribute. T = 0 means the greedy limit: p is uniform
// over the g tied maxima (F = U = C = 0, S = ln g).
//
// The sampler is a line-by-line port of engine/runtime/sampling/TokenSampler.ts (the reference
// implementation and test oracle): same top-k heap, same order of the survivors, same filters in
// double precision, so the same uniform draw picks the same token.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

// Layout of one row's statistics (row_result::fields); mirrored by NATIVE_ROW_FIELDS in AddonTypes.ts.
enum row_field : int32_t {
    ROW_LOG_SUM_EXP      = 0,   // m + ln Z_1 (absolute: log-probabilities are z_i − this)
    ROW_ENTROPY          = 1,   // S_1 (nats)
    ROW_MEAN_ENERGY      = 2,   // U_1 = ⟨ε⟩_1
    ROW_HEAT_CAPACITY    = 3,   // C_1 = Var_1(ε)
    ROW_FREE_ENERGY_T    = 4,   // F_T (relative to the top logit)
    ROW_MEAN_ENERGY_T    = 5,   // U_T
    ROW_ENTROPY_T        = 6,   // S_T (nats)
    ROW_HEAT_CAPACITY_T  = 7,   // C_T
    ROW_GAP              = 8,   // top-1 − top-2 logit (0 on a tie; +inf when one token is unmasked)
    ROW_TARGET_LOGPROB   = 9,   // log p_1(target)  (−inf when masked)
    ROW_TARGET_LOGPROB_T = 10,  // log p_T(target)
    ROW_TIES             = 11,  // g: how many tokens share the top logit
    ROW_FREE_ENERGY      = 12,  // F_1 = −ln Z_1 (relative to the top logit)
    ROW_FIELD_COUNT      = 13,
};

// Layout of one grid temperature's read-outs (row_result::grid_fields); mirrored by
// NATIVE_GRID_FIELDS in AddonTypes.ts. The same quantities as the *_T row fields, at each T of a grid.
enum row_grid_field : int32_t {
    GRID_FREE_ENERGY    = 0,   // F_T (relative to the top logit)
    GRID_MEAN_ENERGY    = 1,   // U_T
    GRID_ENTROPY        = 2,   // S_T (nats)
    GRID_HEAT_CAPACITY  = 3,   // C_T
    GRID_TARGET_LOGPROB = 4,   // log p_T(target)
    GRID_FIELD_COUNT    = 5,
};

struct row_sampler_params {
    double  temperature = 0;  // 0: greedy (no draw)
    int32_t top_k = 0;        // 0: off
    double  top_p = 1;        // 1: off
    double  min_p = 0;        // 0: off
};

// The widest instruction set the analysis may use (tests pin the narrower ones; default: the best
// the CPU has). AVX-512: one fused pass on 16 lanes; AVX2: the same on 8; scalar: the reference.
enum row_kernel : int32_t {
    ROW_KERNEL_SCALAR = 0,
    ROW_KERNEL_AVX2   = 1,
    ROW_KERNEL_AVX512 = 2,
};

struct row_options {
    int32_t top_n = 0;            // alternatives to return (most likely first, lower id on ties)
    double  temperature = 1;      // the second read-out temperature (the sampler's); 0 = greedy limit
    bool    statistics = true;    // false: argmax (and the sampled token) only
    bool    exact = false;        // double-precision exp (scoring); default: vectorised float exp
    const row_sampler_params * sampler = nullptr;  // null: no sampling
    row_kernel kernel = ROW_KERNEL_AVX512;
    // a temperature scan: the read-outs at every T of this grid as well (row_temperature_valid;
    // 0 = greedy limit), four temperatures per read of the row on AVX-512 (two otherwise), reusing
    // the sums at T = 1 and at `temperature`
    const double * grid = nullptr;
    int32_t n_grid = 0;
};

struct row_result {
    int32_t greedy  = -1;
    int32_t sampled = -1;
    double  fields[ROW_FIELD_COUNT];
    int32_t top_count = 0;
    std::vector<int32_t> top_ids;       // [top_n], most likely first
    std::vector<double>  top_logprobs;  // [top_n]
    std::vector<double>  grid_fields;   // [n_grid × GRID_FIELD_COUNT] when a grid was asked for
};

// Reusable scratch buffers (a sampler over the whole vocabulary needs n_vocab entries).
struct row_scratch {
    std::vector<int32_t> ids;
    std::vector<double>  values;
    std::vector<int32_t> alt_ids;
    std::vector<double>  alt_values;
    std::vector<int32_t> grid_pending;  // the grid temperatures still to sum (grid_readouts)
};

// The read-out temperatures the analysis accepts: 0 (the greedy limit) or [1e-30, 1e6]. Below, 1/T
// overflows a float scale (the top logit's x·(1/T) would be 0·∞); above, a masked logit's floored
// x·(1/T) would no longer underflow its exponential.
constexpr double k_row_temperature_min = 1e-30;
constexpr double k_row_temperature_max = 1e6;
inline bool row_temperature_valid(double t) {
    return t == 0 || (t >= k_row_temperature_min && t <= k_row_temperature_max);
}

// Analyses one logits row. `target` is the token whose log-probability is wanted (−1: the sampled
// token, or the greedy one without a sampler); `uniform` is the draw in [0, 1) the sampler uses
// (ignored when greedy). Returns false with `error` set for empty, NaN, +inf or fully masked logits
// (the reference implementation's messages).
bool row_analyse(const float * logits, int32_t n_vocab, const row_options & options, int32_t target, double uniform,
                 row_scratch & scratch, row_result & result, std::string & error);
