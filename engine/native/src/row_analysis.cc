#include "row_analysis.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TILLER_HAVE_AVX2_KERNEL 1
#include <immintrin.h>
#endif

namespace {

constexpr double k_inf = std::numeric_limits<double>::infinity();

// ---- top-k selection: a bounded min-heap, port of selectTopLogits.ts -----------------------------
// Ordering is (logit descending, id ascending); the root is the weakest kept entry. Ids arrive in
// ascending order, so an equal value never beats the root (the strict `>` is the whole tie rule).

inline bool weaker(double va, int32_t ia, double vb, int32_t ib) {
    return va < vb || (va == vb && ia > ib);
}

void heap_sift_up(int32_t * ids, double * values, int32_t index, int32_t id, double value) {
    int32_t child = index;
    while (child > 0) {
        const int32_t parent = (child - 1) >> 1;
        if (!weaker(value, id, values[parent], ids[parent])) {
            break;
        }
        values[child] = values[parent];
        ids[child]    = ids[parent];
        child = parent;
    }
    values[child] = value;
    ids[child]    = id;
}

void heap_replace_root(int32_t * ids, double * values, int32_t size, int32_t id, double value) {
    int32_t parent = 0;
    for (;;) {
        int32_t child = 2 * parent + 1;
        if (child >= size) {
            break;
        }
        const int32_t right = child + 1;
        if (right < size && weaker(values[right], ids[right], values[child], ids[child])) {
            child = right;
        }
        if (!weaker(values[child], ids[child], value, id)) {
            break;
        }
        values[parent] = values[child];
        ids[parent]    = ids[child];
        parent = child;
    }
    values[parent] = value;
    ids[parent]    = id;
}

struct top_heap {
    int32_t * ids = nullptr;
    double  * values = nullptr;
    int32_t   limit = 0;
    int32_t   count = 0;

    inline void offer(int32_t id, float v) {
        if (count < limit) {
            heap_sift_up(ids, values, count, id, v);
            count++;
        } else if (v > values[0]) {
            heap_replace_root(ids, values, count, id, v);
        }
    }
};

// ---- the sampler's filters, port of TokenSampler.ts (see there for why this order) ---------------

inline bool ranks_above(double pa, int32_t ia, double pb, int32_t ib) {
    return pa > pb || (pa == pb && ia < ib);
}

inline void swap_entries(int32_t * ids, double * probs, int32_t a, int32_t b) {
    std::swap(ids[a], ids[b]);
    std::swap(probs[a], probs[b]);
}

constexpr int32_t k_small_range = 24;

int32_t nucleus_cut(int32_t * ids, double * probs, int32_t count, double target) {
    int32_t lo = 0;
    int32_t hi = count;
    double need = target;
    while (hi - lo > k_small_range) {
        const int32_t last = hi - 1;
        swap_entries(ids, probs, (int32_t) (((uint32_t) lo + (uint32_t) hi) >> 1), last);
        const double  pivot_p  = probs[last];
        const int32_t pivot_id = ids[last];
        int32_t store = lo;
        double above_mass = 0;
        for (int32_t j = lo; j < last; j++) {
            if (ranks_above(probs[j], ids[j], pivot_p, pivot_id)) {
                above_mass += probs[j];
                swap_entries(ids, probs, j, store);
                store++;
            }
        }
        swap_entries(ids, probs, store, last);
        if (above_mass >= need) {
            hi = store;
        } else if (above_mass + pivot_p >= need) {
            return store + 1;
        } else {
            need -= above_mass + pivot_p;
            lo = store + 1;
        }
    }
    for (int32_t j = lo + 1; j < hi; j++) {
        const double  p  = probs[j];
        const int32_t id = ids[j];
        int32_t k = j - 1;
        while (k >= lo && ranks_above(p, id, probs[k], ids[k])) {
            probs[k + 1] = probs[k];
            ids[k + 1]   = ids[k];
            k--;
        }
        probs[k + 1] = p;
        ids[k + 1]   = id;
    }
    double cumulative = 0;
    for (int32_t j = lo; j < hi; j++) {
        cumulative += probs[j];
        if (cumulative >= need) {
            return j + 1;
        }
    }
    return hi;
}

// Steps 1–4 of the chain over candidates already in ids/values [0, count) (logits, in the
// reference's order); leaves the survivors' un-renormalised probabilities in `values`. known_sum > 0
// is the softmax normaliser over every candidate, for a caller that passed only those min-p can keep.
// values[j] ← exp((values[j] − max)/T) for j < count; returns their sum (defined with the exact pass)
double exponentiate_in_place(double * values, int32_t count, double max, double temperature);

// How far (in ln p) below the min-p cut a logit is still collected for the exact test: far more than
// the rounding of the cut to float, so the prefilter never drops a token the exact test keeps.
constexpr double k_min_p_margin = 1e-3;

int32_t sampler_filter(const row_sampler_params & params, int32_t * ids, double * values, int32_t count, double known_sum) {
    double max = -k_inf;
    for (int32_t j = 0; j < count; j++) {
        if (values[j] > max) {
            max = values[j];
        }
    }
    double sum = exponentiate_in_place(values, count, max, params.temperature);
    if (known_sum > 0) {
        sum = known_sum;
    }
    const double threshold = params.min_p / sum;
    int32_t kept = 0;
    for (int32_t j = 0; j < count; j++) {
        const double p = values[j] / sum;
        if (p > 0 && p >= threshold) {
            values[kept] = p;
            ids[kept]    = ids[j];
            kept++;
        }
    }
    count = kept;
    if (params.top_p < 1) {
        count = nucleus_cut(ids, values, count, params.top_p);
    }
    return count;
}

int32_t sampler_draw(const int32_t * ids, const double * probs, int32_t count, double uniform) {
    double total = 0;
    for (int32_t j = 0; j < count; j++) {
        total += probs[j];
    }
    const double target = uniform * total;
    double cumulative = 0;
    for (int32_t j = 0; j < count; j++) {
        cumulative += probs[j];
        if (target < cumulative) {
            return ids[j];
        }
    }
    return ids[count - 1];
}

// ---- the exponential pass ------------------------------------------------------------------------
//
// For x_i = z_i − m ≤ 0 (m the top logit) and a scale 1/T, accumulates
//   Z = Σ e_i,  A = Σ e_i x_i,  B = Σ e_i x_i²   with e_i = exp(x_i / T),
// from which every read-out at temperature T follows. Masked logits give e = 0.

struct exp_sums {
    double z = 0, a = 0, b = 0;
};

// float exp for x ≤ 0 (≈ 1.4 ulp, see k_exp_poly); 0 below ln(FLT_MIN)
constexpr float k_exp_lowest = -87.3365447f;
constexpr float k_log2e  = 1.44269504088896341f;
constexpr float k_ln2_hi = 0.693359375f;
constexpr float k_ln2_lo = -2.12194440e-4f;
// A decode's logits row is cold when it is analysed (written by the decode's threads, on other
// cores, or long gone to memory at 128k+ tokens), and the arithmetic between loads leaves the memory
// idle: the hardware prefetcher alone does not keep ahead. Asking for the line k_prefetch_distance
// elements ahead halves the cold analysis of a 262k row (272 -> 134 µs, AVX-512, measured on cold
// rows of a 48 MB buffer; distances 256 to 4096 did equally well).
constexpr int32_t k_prefetch_distance = 1024;

#if defined(__GNUC__) || defined(__clang__)
// always_inline: left out of line, GCC deems the call free of effects and deletes it
__attribute__((always_inline)) inline void prefetch_ahead(const float * row, int32_t i, int32_t n) {
    if (i + k_prefetch_distance < n) {
        __builtin_prefetch(row + i + k_prefetch_distance, 0, 3);
    }
}
#else
inline void prefetch_ahead(const float *, int32_t, int32_t) {}
#endif

// e^r ≈ 1 + r + r²·P(r) on |r| ≤ ln2/2, P's coefficients highest degree first (Horner); shared by
// the scalar and SIMD kernels. Degree 5 in all, fitted here for the least maximum relative error
// (Lawson's iteration on Chebyshev nodes): 1.65e-7 evaluated in float, against 6.8e-8 for Cephes'
// degree 7, whose accuracy float sums cannot keep anyway. Two fewer FMAs per exponential make the
// read-outs at a second temperature ~10% cheaper (the fused pass is bound by vector instructions).
constexpr float k_exp_poly[] = { 8.312520571e-3f, 4.189015552e-2f, 1.666711420e-1f, 4.999923110e-1f };
constexpr int k_exp_poly_terms = sizeof(k_exp_poly) / sizeof(k_exp_poly[0]);

inline float exp_poly_scalar(float x) {
    if (!(x >= k_exp_lowest)) {
        return 0.0f;
    }
    const float fx = std::nearbyint(x * k_log2e);
    float r = x - fx * k_ln2_hi;
    r = r - fx * k_ln2_lo;
    float p = k_exp_poly[0];
#pragma GCC unroll 8
    for (int i = 1; i < k_exp_poly_terms; i++) {
        p = p * r + k_exp_poly[i];
    }
    const float y = p * r * r + r + 1.0f;
    const int32_t bits = ((int32_t) fx + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof(scale));
    return y * scale;
}

// x clamped so that e·x and e·x² stay finite (e is 0 there anyway)
constexpr float k_x_floor = -1e18f;

void exp_sums_scalar(const float * z, int32_t begin, int32_t n, float m, const float * scales, int32_t n_scales, exp_sums * out) {
    for (int32_t i = begin; i < n; i++) {
        const float x = std::max(z[i] - m, k_x_floor);
        for (int32_t k = 0; k < n_scales; k++) {
            const float e = exp_poly_scalar(x * scales[k]);
            out[k].z += e;
            out[k].a += (double) (e * x);
            out[k].b += (double) (e * x * x);
        }
    }
}

#ifdef TILLER_HAVE_AVX2_KERNEL
__attribute__((target("avx2,fma"))) inline __m256 exp_poly_avx2(__m256 x) {
    const __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(k_exp_lowest), _CMP_LT_OQ);
    x = _mm256_max_ps(x, _mm256_set1_ps(k_exp_lowest));
    const __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(k_log2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(k_ln2_hi), x);
    r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(k_ln2_lo), r);
    __m256 p = _mm256_set1_ps(k_exp_poly[0]);
#pragma GCC unroll 8
    for (int i = 1; i < k_exp_poly_terms; i++) {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(k_exp_poly[i]));
    }
    const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(underflow, _mm256_mul_ps(y, _mm256_castsi256_ps(bits)));
}

__attribute__((target("avx2,fma"))) inline void accumulate_pd(__m256 v, __m256d & lo, __m256d & hi) {
    lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

__attribute__((target("avx2,fma"))) inline double horizontal_sum(__m256d lo, __m256d hi) {
    const __m256d s = _mm256_add_pd(lo, hi);
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, s);
    return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

// returns how many elements it consumed (a multiple of 8); the caller finishes the tail
template <int N_SCALES>
__attribute__((target("avx2,fma"))) int32_t exp_sums_avx2(const float * z, int32_t n, float m, const float * scales, exp_sums * out) {
    const __m256 vm = _mm256_set1_ps(m);
    const __m256 floor = _mm256_set1_ps(k_x_floor);
    __m256 vs[N_SCALES];
    __m256d acc[N_SCALES][6];
    for (int k = 0; k < N_SCALES; k++) {
        vs[k] = _mm256_set1_ps(scales[k]);
        for (int j = 0; j < 6; j++) {
            acc[k][j] = _mm256_setzero_pd();
        }
    }
    // float partial sums over 64 elements (8 per lane), then into double accumulators: the
    // conversions cost more than the exponentials otherwise
    const int32_t n8 = n & ~7;
    for (int32_t chunk = 0; chunk < n8; chunk += 64) {
        const int32_t end = std::min(n8, chunk + 64);
        __m256 part[N_SCALES][3];
        for (int k = 0; k < N_SCALES; k++) {
            part[k][0] = part[k][1] = part[k][2] = _mm256_setzero_ps();
        }
        for (int32_t i = chunk; i < end; i += 8) {
            prefetch_ahead(z, i, n);
            const __m256 x = _mm256_max_ps(_mm256_sub_ps(_mm256_loadu_ps(z + i), vm), floor);
            for (int k = 0; k < N_SCALES; k++) {
                const __m256 e  = exp_poly_avx2(_mm256_mul_ps(x, vs[k]));
                const __m256 ex = _mm256_mul_ps(e, x);
                part[k][0] = _mm256_add_ps(part[k][0], e);
                part[k][1] = _mm256_add_ps(part[k][1], ex);
                part[k][2] = _mm256_fmadd_ps(ex, x, part[k][2]);
            }
        }
        for (int k = 0; k < N_SCALES; k++) {
            accumulate_pd(part[k][0], acc[k][0], acc[k][1]);
            accumulate_pd(part[k][1], acc[k][2], acc[k][3]);
            accumulate_pd(part[k][2], acc[k][4], acc[k][5]);
        }
    }
    for (int k = 0; k < N_SCALES; k++) {
        out[k].z += horizontal_sum(acc[k][0], acc[k][1]);
        out[k].a += horizontal_sum(acc[k][2], acc[k][3]);
        out[k].b += horizontal_sum(acc[k][4], acc[k][5]);
    }
    return n8;
}

// collect_candidates' vector loop for a finite cut; returns where the scalar tail starts
__attribute__((target("avx2,fma"))) int32_t collect_above_avx2(const float * logits, int32_t n, float cut, int32_t * ids, double * values, int32_t & count) {
    const __m256 vcut = _mm256_set1_ps(cut);
    const int32_t n8 = n & ~7;
    for (int32_t i = 0; i < n8; i += 8) {
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(logits + i), vcut, _CMP_GE_OQ));
        for (; mask != 0; mask &= mask - 1) {
            const int lane = __builtin_ctz(mask);
            ids[count] = i + lane;
            values[count] = logits[i + lane];
            count++;
        }
    }
    return n8;
}

bool cpu_has_avx2() {
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
}
#endif

// fast path: float exponentials, double accumulators
void exp_sums_fast(const float * z, int32_t n, float m, const float * scales, int32_t n_scales, bool allow_avx2, exp_sums * out) {
    int32_t done = 0;
#ifdef TILLER_HAVE_AVX2_KERNEL
    if (allow_avx2 && cpu_has_avx2()) {
        done = n_scales == 1 ? exp_sums_avx2<1>(z, n, m, scales, out) : exp_sums_avx2<2>(z, n, m, scales, out);
    }
#endif
    exp_sums_scalar(z, done, n, m, scales, n_scales, out);
}

#ifdef TILLER_HAVE_AVX2_KERNEL
// exp(x) in double for x ≤ 0 on 4 lanes, 0 below −708 (where e^x < 1e-307: nothing against Z ≥ 1):
// x = n·ln2 + r with ln2 in two parts (n·ln2_hi exact), e^r by its Taylor series to r^13 (|r| ≤
// ln2/2: truncation < 1e-17 relative), 2^n into the exponent bits. Within a few ulp of std::exp.
constexpr double k_exp_d_lowest = -708.0;
constexpr double k_ln2_d_hi = 0.693147180369123816490;   // 32 significant bits: n·hi is exact
constexpr double k_ln2_d_lo = 1.90821492927058770002e-10;

constexpr int k_exp_d_degree = 13;

// 1/k! for k = 0 … k_exp_d_degree
struct inverse_factorials {
    double inverse[k_exp_d_degree + 1] = {};
    constexpr inverse_factorials() {
        double factorial = 1;
        for (int k = 0; k <= k_exp_d_degree; k++) {
            factorial *= k > 0 ? k : 1;
            inverse[k] = 1.0 / factorial;
        }
    }
};
constexpr inverse_factorials k_exp_d_taylor;

__attribute__((target("avx2,fma"))) inline __m256d exp_double_avx2(__m256d x) {
    const __m256d underflow = _mm256_cmp_pd(x, _mm256_set1_pd(k_exp_d_lowest), _CMP_LT_OQ);  // also −∞
    x = _mm256_max_pd(x, _mm256_set1_pd(k_exp_d_lowest));
    const __m256d fn = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(1.4426950408889634074)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(fn, _mm256_set1_pd(k_ln2_d_hi), x);
    r = _mm256_fnmadd_pd(fn, _mm256_set1_pd(k_ln2_d_lo), r);
    __m256d p = _mm256_set1_pd(k_exp_d_taylor.inverse[k_exp_d_degree]);
    for (int k = k_exp_d_degree - 1; k >= 0; k--) {
        p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(k_exp_d_taylor.inverse[k]));
    }
    const __m256i n64 = _mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(fn));
    const __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(n64, _mm256_set1_epi64x(1023)), 52);
    return _mm256_andnot_pd(underflow, _mm256_mul_pd(p, _mm256_castsi256_pd(bits)));
}

// exp_sums_exact's loop on 4 lanes; returns how many elements it consumed (the caller finishes)
__attribute__((target("avx2,fma"))) int32_t exp_sums_exact_avx2(const float * z, int32_t n, double m, const double * temperatures,
                                                                int32_t n_scales, exp_sums * out) {
    const __m256d vm = _mm256_set1_pd(m);
    const __m256d neg_inf = _mm256_set1_pd(-k_inf);
    __m256d acc[2][3];
    for (auto & scale : acc) {
        scale[0] = scale[1] = scale[2] = _mm256_setzero_pd();
    }
    const int32_t n4 = n & ~3;
    for (int32_t i = 0; i < n4; i += 4) {
        prefetch_ahead(z, i, n);
        const __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(z + i));
        const __m256d masked = _mm256_cmp_pd(v, neg_inf, _CMP_EQ_OQ);
        // a masked logit adds nothing (the reference skips it): x = 0 there, e zeroed
        const __m256d x = _mm256_andnot_pd(masked, _mm256_sub_pd(v, vm));
        for (int32_t k = 0; k < n_scales; k++) {
            const __m256d scaled = temperatures[k] == 1 ? x : _mm256_div_pd(x, _mm256_set1_pd(temperatures[k]));
            const __m256d e = _mm256_andnot_pd(masked, exp_double_avx2(scaled));
            const __m256d ex = _mm256_mul_pd(e, x);
            acc[k][0] = _mm256_add_pd(acc[k][0], e);
            acc[k][1] = _mm256_add_pd(acc[k][1], ex);
            acc[k][2] = _mm256_fmadd_pd(ex, x, acc[k][2]);
        }
    }
    for (int32_t k = 0; k < n_scales; k++) {
        alignas(32) double lanes[3][4];
        for (int j = 0; j < 3; j++) {
            _mm256_store_pd(lanes[j], acc[k][j]);
        }
        out[k].z += (lanes[0][0] + lanes[0][1]) + (lanes[0][2] + lanes[0][3]);
        out[k].a += (lanes[1][0] + lanes[1][1]) + (lanes[1][2] + lanes[1][3]);
        out[k].b += (lanes[2][0] + lanes[2][1]) + (lanes[2][2] + lanes[2][3]);
    }
    return n4;
}
#endif

#ifdef TILLER_HAVE_AVX2_KERNEL
// exponentiate_in_place's loop on 4 lanes; returns how many it did, adding their sum to `sum`
__attribute__((target("avx2,fma"))) int32_t exponentiate_in_place_avx2(double * values, int32_t count, double max, double temperature, double & sum) {
    const __m256d vmax = _mm256_set1_pd(max);
    const __m256d vt = _mm256_set1_pd(temperature);
    __m256d acc = _mm256_setzero_pd();
    const int32_t n4 = count & ~3;
    for (int32_t j = 0; j < n4; j += 4) {
        const __m256d e = exp_double_avx2(_mm256_div_pd(_mm256_sub_pd(_mm256_loadu_pd(values + j), vmax), vt));
        _mm256_storeu_pd(values + j, e);
        acc = _mm256_add_pd(acc, e);
    }
    alignas(32) double lanes[4];
    _mm256_store_pd(lanes, acc);
    sum += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    return n4;
}
#endif

// The sampler's softmax numerators. Vectorised where there are many (top-k off: the whole
// vocabulary), with exponentials within a few ulp of std::exp — as close to the JavaScript
// reference's Math.exp as std::exp itself is.
double exponentiate_in_place(double * values, int32_t count, double max, double temperature) {
    double sum = 0;
    int32_t j = 0;
#ifdef TILLER_HAVE_AVX2_KERNEL
    if (count >= 64 && cpu_has_avx2()) {
        j = exponentiate_in_place_avx2(values, count, max, temperature, sum);
    }
#endif
    for (; j < count; j++) {
        values[j] = std::exp((values[j] - max) / temperature);
        sum += values[j];
    }
    return sum;
}

// exact path: double throughout, the reference's arithmetic (x = z − m in double); vectorised
// (exp_sums_exact_avx2: 4 lanes, exponentials within a few ulp) unless the scalar kernel is pinned
void exp_sums_exact(const float * z, int32_t n, double m, const double * temperatures, int32_t n_scales, bool allow_avx2, exp_sums * out) {
    int32_t begin = 0;
#ifdef TILLER_HAVE_AVX2_KERNEL
    if (allow_avx2 && cpu_has_avx2()) {
        begin = exp_sums_exact_avx2(z, n, m, temperatures, n_scales, out);
    }
#else
    (void) allow_avx2;
#endif
    for (int32_t i = begin; i < n; i++) {
        const double v = z[i];
        if (v == -k_inf) {
            continue;
        }
        const double x = v - m;
        for (int32_t k = 0; k < n_scales; k++) {
            const double e = temperatures[k] == 1 ? std::exp(x) : std::exp(x / temperatures[k]);
            out[k].z += e;
            out[k].a += e * x;
            out[k].b += e * x * x;
        }
    }
}

// ---- pass 1: validation, argmax (lowest id on ties), tie count, top-k heaps ----------------------

struct scan_state {
    top_heap * heaps[2] = { nullptr, nullptr };
    int32_t n_heaps = 0;
    int32_t best = -1;
    float   best_value = -std::numeric_limits<float>::infinity();
    int32_t ties = 0;
};

// the reference's loop (argmaxLogit + selectTopLogits): also names the first NaN / +inf
bool scan_scalar(const float * logits, int32_t n, scan_state & st, std::string & error) {
    for (int32_t i = 0; i < n; i++) {
        const float v = logits[i];
        if (v > st.best_value) {
            if (v == std::numeric_limits<float>::infinity()) {
                error = "logit of token " + std::to_string(i) + " is +Infinity";
                return false;
            }
            st.best = i;
            st.best_value = v;
            st.ties = 1;
        } else if (v == st.best_value) {
            st.ties += st.best >= 0;
        } else if (v != v) {
            error = "logit of token " + std::to_string(i) + " is NaN";
            return false;
        }
        if (v > -std::numeric_limits<float>::infinity()) {
            for (int32_t h = 0; h < st.n_heaps; h++) {
                st.heaps[h]->offer(i, v);
            }
        }
    }
    return true;
}

#ifdef TILLER_HAVE_AVX2_KERNEL
// the value a logit must exceed to enter some heap (−inf while any heap has room)
inline float heap_threshold(const scan_state & st) {
    float threshold = std::numeric_limits<float>::infinity();
    for (int32_t h = 0; h < st.n_heaps; h++) {
        const top_heap & heap = *st.heaps[h];
        threshold = std::min(threshold, heap.count < heap.limit ? -std::numeric_limits<float>::infinity() : (float) heap.values[0]);
    }
    return threshold;
}

// Offers the lanes set in `above` (logits i + lane) to every heap, in id order, and returns the new
// threshold; shared by the vector kernels, whose compares produce the mask.
inline float offer_lanes(scan_state & st, const float * logits, int32_t i, uint32_t above) {
    for (; above != 0; above &= above - 1) {
        const int lane = __builtin_ctz(above);
        for (int32_t h = 0; h < st.n_heaps; h++) {
            st.heaps[h]->offer(i + lane, logits[i + lane]);
        }
    }
    return heap_threshold(st);
}

// Vectorised pass 1. Returns false when a NaN or +inf is present (the caller reruns the scalar
// loop for the message). Heap candidates are offered in id order, as in the reference; only values
// above every heap's root are looked at, so after the first few hundred tokens a block of 8 costs
// one comparison. count_ties: scan the whole row for the top logit (else stop at the first).
__attribute__((target("avx2,fma"))) bool scan_avx2(const float * logits, int32_t n, bool count_ties, scan_state & st) {
    const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
    __m256 vmax = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
    __m256 vbad = _mm256_setzero_ps();
    float threshold = st.n_heaps > 0 ? heap_threshold(st) : std::numeric_limits<float>::infinity();
    const int32_t n8 = n & ~7;
    for (int32_t i = 0; i < n8; i += 8) {
        const __m256 v = _mm256_loadu_ps(logits + i);
        prefetch_ahead(logits, i, n);
        vbad = _mm256_or_ps(vbad, _mm256_or_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(v, inf, _CMP_EQ_OQ)));
        vmax = _mm256_max_ps(vmax, v);
        const int above = _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_set1_ps(threshold), _CMP_GT_OQ));
        if (above != 0) {
            threshold = offer_lanes(st, logits, i, (uint32_t) above);
        }
    }
    if (_mm256_movemask_ps(vbad) != 0) {
        return false;
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, vmax);
    float best_value = -std::numeric_limits<float>::infinity();
    for (float lane : lanes) {
        best_value = std::max(best_value, lane);
    }
    for (int32_t i = n8; i < n; i++) {
        const float v = logits[i];
        if (v != v || v == std::numeric_limits<float>::infinity()) {
            return false;
        }
        best_value = std::max(best_value, v);
        if (v > -std::numeric_limits<float>::infinity()) {
            for (int32_t h = 0; h < st.n_heaps; h++) {
                st.heaps[h]->offer(i, v);
            }
        }
    }
    st.best_value = best_value;
    if (best_value == -std::numeric_limits<float>::infinity()) {
        return true;  // fully masked: best stays −1
    }
    // the first index holding the top logit, and how many share it
    const __m256 vbest = _mm256_set1_ps(best_value);
    int32_t i = 0;
    for (; i < n8; i += 8) {
        const int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(logits + i), vbest, _CMP_EQ_OQ));
        if (mask != 0) {
            if (st.best < 0) {
                st.best = i + __builtin_ctz(mask);
                if (!count_ties) {
                    return true;
                }
            }
            st.ties += __builtin_popcount(mask);
        }
    }
    for (; i < n; i++) {
        if (logits[i] == best_value) {
            if (st.best < 0) {
                st.best = i;
            }
            st.ties++;
        }
    }
    return true;
}

// ---- the fused pass (AVX-512): everything the read-outs need in one read of the row ------------
//
// One pass over the logits gives the validation, the argmax (lowest id on ties) and the tie count,
// the top-k heaps and the exponential sums at one or two temperatures. Each of the 16 lanes keeps
// its own running maximum M and sums relative to it, Z = Σ e, A = Σ e·x, B = Σ e·x² with
// x = z − M and e = exp(x·s); when a lane's maximum rises by d the sums move to the new frame
// (x' = x − d, e' = e·exp(−d·s)):
//   Z' = r·Z,  A' = r·(A − d·Z),  B' = r·(B − 2d·A + d²·Z),  r = exp(−d·s).
// Maxima rise rarely (a few times per lane), so this costs nothing against the exponentials. At
// the end the lanes are brought to the global maximum the same way, which makes the result the
// same as the two-pass computation up to float rounding.
//
// Exponentials of arguments below ln(FLT_MIN) are clamped to FLT_MIN (≈ 1.2e-38) instead of 0:
// against Z ≥ 1 (the top token contributes exactly 1) they vanish in double precision, and the
// clamp saves a compare and a blend per vector. x is clamped at −87.3·max(1, T) so that e·x² of a
// masked logit stays below 1e-33.

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's avx512fintrin.h (_mm512_undefined_*)
#endif

struct fused_scan {
    float   best_value = -std::numeric_limits<float>::infinity();
    int32_t best = -1;
    int32_t ties = 0;
};

// exp(x) for x in [ln(FLT_MIN), 0]: Cody–Waite reduction, k_exp_poly in Horner
// form, 2^n added to the exponent bits (n taken from the low mantissa bits of x·log2e + 1.5·2^23)
__attribute__((target("avx512f,avx512dq,avx2,fma"))) inline __m512 exp_clamped_avx512(__m512 x) {
    const __m512 magic = _mm512_set1_ps(12582912.0f);
    const __m512 t  = _mm512_fmadd_ps(x, _mm512_set1_ps(k_log2e), magic);
    const __m512 fx = _mm512_sub_ps(t, magic);
    __m512 r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(k_ln2_hi), x);
    r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(k_ln2_lo), r);
    __m512 p = _mm512_set1_ps(k_exp_poly[0]);
#pragma GCC unroll 8
    for (int i = 1; i < k_exp_poly_terms; i++) {
        p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(k_exp_poly[i]));
    }
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __m512i shift = _mm512_slli_epi32(_mm512_castps_si512(t), 23);
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), shift));
}

// moves one lane's sums from frame `from` to frame `to` ≥ from (see above); a lane that has seen
// only −∞ holds only clamp residue, which is dropped
inline void rescale_lane(double & z, double & a, double & b, float from, float to, double scale) {
    if (from == -std::numeric_limits<float>::infinity()) {
        z = a = b = 0;
        return;
    }
    if (from == to) {
        return;
    }
    const double d = (double) to - (double) from;
    const double r = std::exp(-d * scale);
    b = r * (b - 2 * d * a + d * d * z);
    a = r * (a - d * z);
    z = r * z;
}

// Moves the sums of the lanes set in `rose` from their old maxima to their new ones (fused kernels).
template <int LANES, int N_SCALES>
void rescale_risen_lanes(double (&acc)[N_SCALES][3][LANES], uint32_t rose, const float * old_lanes, const float * new_lanes, const float * scales) {
    for (; rose != 0; rose &= rose - 1) {
        const int lane = __builtin_ctz(rose);
        for (int k = 0; k < N_SCALES; k++) {
            rescale_lane(acc[k][0][lane], acc[k][1][lane], acc[k][2][lane], old_lanes[lane], new_lanes[lane], scales[k]);
        }
    }
}

// adds 16 float partial sums into 16 double accumulators
__attribute__((target("avx512f,avx512dq,avx2,fma"))) inline void flush_partial(double * acc, __m512 part) {
    _mm512_store_pd(acc, _mm512_add_pd(_mm512_load_pd(acc), _mm512_cvtps_pd(_mm512_castps512_ps256(part))));
    _mm512_store_pd(acc + 8, _mm512_add_pd(_mm512_load_pd(acc + 8), _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(part), 1)))));
}

// The fused kernels' last step: the global maximum from the lanes', the ties of the lanes that
// hold it, the first index holding it (searched from the earliest chunk where such a lane's
// maximum appeared), and every lane's sums moved to the global maximum's frame and added.
template <int LANES, int N_SCALES>
void merge_lanes(const float * logits, int32_t n, const float * maxima, const int32_t * ties, const int32_t * chunks,
                 double (&acc)[N_SCALES][3][LANES], const float * scales, fused_scan & st, exp_sums * out) {
    float best_value = -std::numeric_limits<float>::infinity();
    for (int lane = 0; lane < LANES; lane++) {
        best_value = std::max(best_value, maxima[lane]);
    }
    st.best_value = best_value;
    if (best_value == -std::numeric_limits<float>::infinity()) {
        return;  // fully masked: best stays −1
    }
    int32_t first_chunk = n;
    for (int lane = 0; lane < LANES; lane++) {
        if (maxima[lane] == best_value) {
            st.ties += ties[lane];
            first_chunk = std::min(first_chunk, chunks[lane]);
        }
        for (int k = 0; k < N_SCALES; k++) {
            double z = acc[k][0][lane], a = acc[k][1][lane], b = acc[k][2][lane];
            rescale_lane(z, a, b, maxima[lane], best_value, scales[k]);
            out[k].z += z;
            out[k].a += a;
            out[k].b += b;
        }
    }
    for (int32_t i = first_chunk; i < n; i++) {
        if (logits[i] == best_value) {
            st.best = i;
            break;
        }
    }
}

// elements per chunk, float partial sums within: 16 per lane on AVX-512, 32 on AVX2 (float rounding of
// such sums, ≲ 1e-6 relative, stays well inside the 2e-5 the tests allow on every kernel)
constexpr int32_t k_fused_chunk = 256;

bool cpu_has_avx512() {
    static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
    return has;
}

// Returns false when a NaN or +inf is present (the caller reruns the scalar loop for the message).
template <int N_SCALES>
__attribute__((target("avx512f,avx512dq,avx2,fma"))) bool fused_avx512(const float * logits, int32_t n, const float * scales, float x_floor,
                                                                   scan_state & heaps, fused_scan & st, exp_sums * out) {
    const __m512 neg_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
    const __m512 vfloor = _mm512_set1_ps(x_floor);
    const __m512 vclamp = _mm512_set1_ps(k_exp_lowest);
    const __m512 vs1 = _mm512_set1_ps(scales[N_SCALES - 1]);
    const __m512i one = _mm512_set1_epi32(1);
    __m512  lane_max = neg_inf;
    __m512i lane_ties = _mm512_setzero_si512();
    __m512i lane_chunk = _mm512_set1_epi32(-1);  // the chunk where the lane's maximum first appeared
    alignas(64) double acc[N_SCALES][3][16] = {};
    __mmask16 bad = 0;
    float threshold = heaps.n_heaps > 0 ? heap_threshold(heaps) : std::numeric_limits<float>::infinity();

    for (int32_t chunk = 0; chunk < n; chunk += k_fused_chunk) {
        const int32_t end = std::min(n, chunk + k_fused_chunk);
        // 1. validate, the chunk's maximum, heap candidates (in id order)
        __m512 chunk_max = neg_inf;
        for (int32_t i = chunk; i < end; i += 16) {
            const __mmask16 valid = end - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (end - i)) - 1);
            const __m512 v = _mm512_mask_loadu_ps(neg_inf, valid, logits + i);
            prefetch_ahead(logits, i, n);
            bad |= _mm512_fpclass_ps_mask(v, 0x01 | 0x08 | 0x80);  // QNaN, +inf, SNaN
            chunk_max = _mm512_max_ps(chunk_max, v);
            const __mmask16 above = _mm512_cmp_ps_mask(v, _mm512_set1_ps(threshold), _CMP_GT_OQ);
            if (above != 0) {
                threshold = offer_lanes(heaps, logits, i, above);
            }
        }
        if (bad != 0) {
            return false;
        }
        // 2. lanes whose maximum rose: reset their tie counts, move their sums to the new frame
        const __mmask16 rose = _mm512_cmp_ps_mask(chunk_max, lane_max, _CMP_GT_OQ);
        if (rose != 0) {
            const __m512 new_max = _mm512_max_ps(lane_max, chunk_max);
            alignas(64) float old_lanes[16];
            alignas(64) float new_lanes[16];
            _mm512_store_ps(old_lanes, lane_max);
            _mm512_store_ps(new_lanes, new_max);
            rescale_risen_lanes<16, N_SCALES>(acc, rose, old_lanes, new_lanes, scales);
            lane_max = new_max;
            lane_ties = _mm512_mask_mov_epi32(lane_ties, rose, _mm512_setzero_si512());
            lane_chunk = _mm512_mask_mov_epi32(lane_chunk, rose, _mm512_set1_epi32(chunk));
        }
        // 3. ties with the lane maxima, and the exponential sums (float within the chunk; plain
        //    locals, not arrays, so that they stay in registers)
        __m512 z0 = _mm512_setzero_ps(), a0 = z0, b0 = z0, z1 = z0, a1 = z0, b1 = z0;
        for (int32_t i = chunk; i < end; i += 16) {
            const __mmask16 valid = end - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (end - i)) - 1);
            const __m512 v = _mm512_mask_loadu_ps(neg_inf, valid, logits + i);
            const __mmask16 tied = _mm512_mask_cmp_ps_mask(valid, v, lane_max, _CMP_EQ_OQ);
            lane_ties = _mm512_mask_add_epi32(lane_ties, tied, lane_ties, one);
            // −∞ − (−∞) is NaN in a lane that has seen only −∞: max() then takes the floor
            const __m512 x = _mm512_max_ps(_mm512_sub_ps(v, lane_max), vfloor);
            {
                const __m512 e  = exp_clamped_avx512(_mm512_max_ps(x, vclamp));
                const __m512 ex = _mm512_mul_ps(e, x);
                z0 = _mm512_add_ps(z0, e);
                a0 = _mm512_add_ps(a0, ex);
                b0 = _mm512_fmadd_ps(ex, x, b0);
            }
            if (N_SCALES == 2) {
                const __m512 e  = exp_clamped_avx512(_mm512_max_ps(_mm512_mul_ps(x, vs1), vclamp));
                const __m512 ex = _mm512_mul_ps(e, x);
                z1 = _mm512_add_ps(z1, e);
                a1 = _mm512_add_ps(a1, ex);
                b1 = _mm512_fmadd_ps(ex, x, b1);
            }
        }
        flush_partial(acc[0][0], z0);
        flush_partial(acc[0][1], a0);
        flush_partial(acc[0][2], b0);
        if (N_SCALES == 2) {
            flush_partial(acc[1][0], z1);
            flush_partial(acc[1][1], a1);
            flush_partial(acc[1][2], b1);
        }
    }

    // 4. the lanes together
    alignas(64) float maxima[16];
    alignas(64) int32_t ties[16];
    alignas(64) int32_t chunks[16];
    _mm512_store_ps(maxima, lane_max);
    _mm512_store_si512(ties, lane_ties);
    _mm512_store_si512(chunks, lane_chunk);
    merge_lanes<16, N_SCALES>(logits, n, maxima, ties, chunks, acc, scales, st, out);
    return true;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

// ---- the fused pass on AVX2: the same algorithm as fused_avx512 on 8 lanes ------------------------

// exp_clamped_avx512 on 8 lanes
__attribute__((target("avx2,fma"))) inline __m256 exp_clamped_avx2(__m256 x) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);
    const __m256 t  = _mm256_fmadd_ps(x, _mm256_set1_ps(k_log2e), magic);
    const __m256 fx = _mm256_sub_ps(t, magic);
    __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(k_ln2_hi), x);
    r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(k_ln2_lo), r);
    __m256 p = _mm256_set1_ps(k_exp_poly[0]);
#pragma GCC unroll 8
    for (int i = 1; i < k_exp_poly_terms; i++) {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(k_exp_poly[i]));
    }
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    const __m256i shift = _mm256_slli_epi32(_mm256_castps_si256(t), 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), shift));
}

// 8 logits from `i`, the lanes at or past `end` −∞ (AVX2 has no masked load with a fill value)
__attribute__((target("avx2,fma"))) inline __m256 load_padded_avx2(const float * logits, int32_t i, int32_t end) {
    if (end - i >= 8) {
        return _mm256_loadu_ps(logits + i);
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i valid = _mm256_cmpgt_epi32(_mm256_set1_epi32(end - i), lane);
    return _mm256_blendv_ps(_mm256_set1_ps(-std::numeric_limits<float>::infinity()), _mm256_maskload_ps(logits + i, valid),
                            _mm256_castsi256_ps(valid));
}

// adds 8 float partial sums into 8 double accumulators
__attribute__((target("avx2,fma"))) inline void flush_partial_avx2(double * acc, __m256 part) {
    _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_loadu_pd(acc), _mm256_cvtps_pd(_mm256_castps256_ps128(part))));
    _mm256_storeu_pd(acc + 4, _mm256_add_pd(_mm256_loadu_pd(acc + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(part, 1))));
}

template <int N_SCALES>
__attribute__((target("avx2,fma"))) bool fused_avx2(const float * logits, int32_t n, const float * scales, float x_floor,
                                                    scan_state & heaps, fused_scan & st, exp_sums * out) {
    const __m256 neg_inf = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
    const __m256 pos_inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
    const __m256 vfloor = _mm256_set1_ps(x_floor);
    const __m256 vclamp = _mm256_set1_ps(k_exp_lowest);
    const __m256 vs1 = _mm256_set1_ps(scales[N_SCALES - 1]);
    __m256  lane_max = neg_inf;
    __m256i lane_ties = _mm256_setzero_si256();
    __m256i lane_chunk = _mm256_set1_epi32(-1);
    double acc[N_SCALES][3][8] = {};
    __m256 bad = _mm256_setzero_ps();
    float threshold = heaps.n_heaps > 0 ? heap_threshold(heaps) : std::numeric_limits<float>::infinity();

    for (int32_t chunk = 0; chunk < n; chunk += k_fused_chunk) {
        const int32_t end = std::min(n, chunk + k_fused_chunk);
        // 1. validate, the chunk's maximum, heap candidates (in id order)
        __m256 chunk_max = neg_inf;
        for (int32_t i = chunk; i < end; i += 8) {
            const __m256 v = load_padded_avx2(logits, i, end);
            prefetch_ahead(logits, i, n);
            bad = _mm256_or_ps(bad, _mm256_or_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(v, pos_inf, _CMP_EQ_OQ)));
            chunk_max = _mm256_max_ps(chunk_max, v);
            const int above = _mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_set1_ps(threshold), _CMP_GT_OQ));
            if (above != 0) {
                threshold = offer_lanes(heaps, logits, i, (uint32_t) above);
            }
        }
        if (_mm256_movemask_ps(bad) != 0) {
            return false;
        }
        // 2. lanes whose maximum rose: reset their tie counts, move their sums to the new frame
        const __m256 rose = _mm256_cmp_ps(chunk_max, lane_max, _CMP_GT_OQ);
        if (_mm256_movemask_ps(rose) != 0) {
            const __m256 new_max = _mm256_max_ps(lane_max, chunk_max);
            alignas(32) float old_lanes[8];
            alignas(32) float new_lanes[8];
            _mm256_store_ps(old_lanes, lane_max);
            _mm256_store_ps(new_lanes, new_max);
            rescale_risen_lanes<8, N_SCALES>(acc, (uint32_t) _mm256_movemask_ps(rose), old_lanes, new_lanes, scales);
            lane_max = new_max;
            lane_ties = _mm256_andnot_si256(_mm256_castps_si256(rose), lane_ties);
            lane_chunk = _mm256_blendv_epi8(lane_chunk, _mm256_set1_epi32(chunk), _mm256_castps_si256(rose));
        }
        // 3. ties with the lane maxima (a tie's compare is −1: subtracting it counts it), and the
        //    exponential sums (float within the chunk)
        __m256 z0 = _mm256_setzero_ps(), a0 = z0, b0 = z0, z1 = z0, a1 = z0, b1 = z0;
        for (int32_t i = chunk; i < end; i += 8) {
            const __m256 v = load_padded_avx2(logits, i, end);
            lane_ties = _mm256_sub_epi32(lane_ties, _mm256_castps_si256(_mm256_cmp_ps(v, lane_max, _CMP_EQ_OQ)));
            const __m256 x = _mm256_max_ps(_mm256_sub_ps(v, lane_max), vfloor);
            {
                const __m256 e  = exp_clamped_avx2(_mm256_max_ps(x, vclamp));
                const __m256 ex = _mm256_mul_ps(e, x);
                z0 = _mm256_add_ps(z0, e);
                a0 = _mm256_add_ps(a0, ex);
                b0 = _mm256_fmadd_ps(ex, x, b0);
            }
            if (N_SCALES == 2) {
                const __m256 e  = exp_clamped_avx2(_mm256_max_ps(_mm256_mul_ps(x, vs1), vclamp));
                const __m256 ex = _mm256_mul_ps(e, x);
                z1 = _mm256_add_ps(z1, e);
                a1 = _mm256_add_ps(a1, ex);
                b1 = _mm256_fmadd_ps(ex, x, b1);
            }
        }
        flush_partial_avx2(acc[0][0], z0);
        flush_partial_avx2(acc[0][1], a0);
        flush_partial_avx2(acc[0][2], b0);
        if (N_SCALES == 2) {
            flush_partial_avx2(acc[1][0], z1);
            flush_partial_avx2(acc[1][1], a1);
            flush_partial_avx2(acc[1][2], b1);
        }
    }

    // 4. the lanes together
    alignas(32) float maxima[8];
    alignas(32) int32_t ties[8];
    alignas(32) int32_t chunks[8];
    _mm256_store_ps(maxima, lane_max);
    _mm256_store_si256(reinterpret_cast<__m256i *>(ties), lane_ties);
    _mm256_store_si256(reinterpret_cast<__m256i *>(chunks), lane_chunk);
    merge_lanes<8, N_SCALES>(logits, n, maxima, ties, chunks, acc, scales, st, out);
    return true;
}
#endif

// ---- temperature grids: up to four temperatures per pass over the row ---------------------------

#ifdef TILLER_HAVE_AVX2_KERNEL
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's avx512fintrin.h (_mm512_undefined_*)
#endif
// exp_sums at N scales with the maximum m known, on 16 lanes; returns how many elements it consumed
// (a multiple of 16; the caller finishes the tail). Exponentials below ln(FLT_MIN) are 0 here, not
// clamped as in the fused pass: a grid can hold high temperatures, where a clamped masked logit's
// e·x² would not vanish (up to k_row_temperature_max a masked logit's floored x·(1/T) underflows).
template <int N>
__attribute__((target("avx512f,avx512dq,avx2,fma"))) int32_t exp_sums_avx512(const float * z, int32_t n, float m, const float * scales, exp_sums * out) {
    const __m512 vm = _mm512_set1_ps(m);
    const __m512 floor = _mm512_set1_ps(k_x_floor);
    const __m512 vclamp = _mm512_set1_ps(k_exp_lowest);
    __m512 vs[N];
    for (int k = 0; k < N; k++) {
        vs[k] = _mm512_set1_ps(scales[k]);
    }
    alignas(64) double acc[N][3][16] = {};
    const int32_t n16 = n & ~15;
    for (int32_t chunk = 0; chunk < n16; chunk += k_fused_chunk) {
        const int32_t end = std::min(n16, chunk + k_fused_chunk);
        __m512 part[N][3];
        for (int k = 0; k < N; k++) {
            part[k][0] = part[k][1] = part[k][2] = _mm512_setzero_ps();
        }
        for (int32_t i = chunk; i < end; i += 16) {
            prefetch_ahead(z, i, n);
            const __m512 x = _mm512_max_ps(_mm512_sub_ps(_mm512_loadu_ps(z + i), vm), floor);
            for (int k = 0; k < N; k++) {
                const __m512 y = _mm512_mul_ps(x, vs[k]);
                const __mmask16 keep = _mm512_cmp_ps_mask(y, vclamp, _CMP_GE_OQ);
                const __m512 e  = _mm512_maskz_mov_ps(keep, exp_clamped_avx512(_mm512_max_ps(y, vclamp)));
                const __m512 ex = _mm512_mul_ps(e, x);
                part[k][0] = _mm512_add_ps(part[k][0], e);
                part[k][1] = _mm512_add_ps(part[k][1], ex);
                part[k][2] = _mm512_fmadd_ps(ex, x, part[k][2]);
            }
        }
        for (int k = 0; k < N; k++) {
            for (int j = 0; j < 3; j++) {
                flush_partial(acc[k][j], part[k][j]);
            }
        }
    }
    for (int k = 0; k < N; k++) {
        for (int j = 0; j < 3; j++) {
            double sum = 0;
            for (int lane = 0; lane < 16; lane++) {
                sum += acc[k][j][lane];
            }
            (j == 0 ? out[k].z : j == 1 ? out[k].a : out[k].b) += sum;
        }
    }
    return n16;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

// exp_sums_fast for 1 to 4 scales at once (a temperature grid): 16 lanes when the kernel allows
// AVX-512, else exp_sums_fast two scales at a time.
void exp_sums_grid(const float * z, int32_t n, float m, const float * scales, int32_t n_scales, row_kernel kernel, exp_sums * out) {
#ifdef TILLER_HAVE_AVX2_KERNEL
    if (kernel >= ROW_KERNEL_AVX512 && cpu_has_avx512()) {
        int32_t done = 0;
        switch (n_scales) {
            case 1: done = exp_sums_avx512<1>(z, n, m, scales, out); break;
            case 2: done = exp_sums_avx512<2>(z, n, m, scales, out); break;
            case 3: done = exp_sums_avx512<3>(z, n, m, scales, out); break;
            default: done = exp_sums_avx512<4>(z, n, m, scales, out); break;
        }
        exp_sums_scalar(z, done, n, m, scales, n_scales, out);
        return;
    }
#endif
    for (int32_t k = 0; k < n_scales; k += 2) {
        exp_sums_fast(z, n, m, scales + k, std::min(2, n_scales - k), kernel >= ROW_KERNEL_AVX2, out + k);
    }
}

// The sampler's candidates without top-k: (id, logit) of every unmasked logit ≥ cut, in id order.
// With a min-p cut most of a large vocabulary lies below it, and the AVX2 loop passes 8 such logits
// with one comparison.
int32_t collect_candidates(const float * logits, int32_t n, float cut, bool allow_avx2, int32_t * ids, double * values) {
    int32_t count = 0;
    int32_t i = 0;
#ifdef TILLER_HAVE_AVX2_KERNEL
    if (allow_avx2 && cut > -std::numeric_limits<float>::infinity() && cpu_has_avx2()) {
        i = collect_above_avx2(logits, n, cut, ids, values, count);
    }
#else
    (void) allow_avx2;
#endif
    for (; i < n; i++) {
        const float v = logits[i];
        if (v > -std::numeric_limits<float>::infinity() && v >= cut) {
            ids[count] = i;
            values[count] = v;
            count++;
        }
    }
    return count;
}

// The read-outs at temperature T > 0 from that temperature's sums (x relative to the top logit):
// F_T, U_T, S_T, C_T and log p_T(target), in row_grid_field order.
void readouts_from_sums(const exp_sums & s, double temperature, double target_x, double * out) {
    const double log_z = std::log(s.z);
    const double mean_x = s.a / s.z;
    out[GRID_FREE_ENERGY]    = -temperature * log_z;
    out[GRID_MEAN_ENERGY]    = 0.0 - mean_x;  // +0, not −0, for a uniform row
    // rounding can leave a tiny negative value for near-deterministic distributions
    out[GRID_ENTROPY]        = std::max(0.0, log_z - mean_x / temperature);
    out[GRID_HEAT_CAPACITY]  = std::max(0.0, s.b / s.z - mean_x * mean_x) / (temperature * temperature);
    out[GRID_TARGET_LOGPROB] = target_x / temperature - log_z;
}

// The greedy limit T → 0: uniform over the g tied maxima.
void greedy_limit_readouts(int32_t ties, double target_x, double * out) {
    out[GRID_FREE_ENERGY]    = 0;
    out[GRID_MEAN_ENERGY]    = 0;
    out[GRID_ENTROPY]        = std::log((double) ties);
    out[GRID_HEAT_CAPACITY]  = 0;
    out[GRID_TARGET_LOGPROB] = target_x == 0 ? -std::log((double) ties) : -k_inf;
}

// The read-outs at every grid temperature: T = 1 and the row's read-out temperature reuse the sums
// already made; the others are summed four temperatures per read of the row (two in exact mode).
void grid_readouts(const float * logits, int32_t n_vocab, const row_options & options, float best_value, int32_t ties,
                   double target_x, const exp_sums * sums, std::vector<int32_t> & pending, double * out) {
    pending.clear();
    for (int32_t k = 0; k < options.n_grid; k++) {
        const double t = options.grid[k];
        double * o = out + (size_t) k * GRID_FIELD_COUNT;
        if (t == 0) {
            greedy_limit_readouts(ties, target_x, o);
        } else if (t == 1) {
            readouts_from_sums(sums[0], 1, target_x, o);
        } else if (t == options.temperature) {
            readouts_from_sums(sums[1], t, target_x, o);  // the row's second temperature (≠ 0, 1 here)
        } else {
            pending.push_back(k);
        }
    }
    // exact: two temperatures per pass (exp_sums_exact's limit); fast: four
    const size_t per_pass = options.exact ? 2 : 4;
    for (size_t j = 0; j < pending.size(); j += per_pass) {
        const int32_t n_scales = (int32_t) std::min(per_pass, pending.size() - j);
        double temperatures[4];
        float scales[4];
        for (int32_t k = 0; k < n_scales; k++) {
            temperatures[k] = options.grid[pending[j + k]];
            scales[k] = (float) (1.0 / temperatures[k]);
        }
        exp_sums at[4];
        if (options.exact) {
            exp_sums_exact(logits, n_vocab, best_value, temperatures, n_scales, options.kernel >= ROW_KERNEL_AVX2, at);
        } else {
            exp_sums_grid(logits, n_vocab, best_value, scales, n_scales, options.kernel, at);
        }
        for (int32_t k = 0; k < n_scales; k++) {
            readouts_from_sums(at[k], temperatures[k], target_x, out + (size_t) pending[j + k] * GRID_FIELD_COUNT);
        }
    }
}

} // namespace

bool row_analyse(const float * logits, int32_t n_vocab, const row_options & options, int32_t target, double uniform,
                 row_scratch & scratch, row_result & result, std::string & error) {
    std::fill(std::begin(result.fields), std::end(result.fields), std::numeric_limits<double>::quiet_NaN());
    result.greedy = -1;
    result.sampled = -1;
    result.top_count = 0;
    if (n_vocab <= 0) {
        error = "logits are empty";
        return false;
    }

    // ---- pass 1: validate, argmax (lowest id on ties), tie count, top-k heaps ------------------
    const row_sampler_params * sampler = options.sampler != nullptr && options.sampler->temperature > 0 ? options.sampler : nullptr;
    const bool sampler_top_k = sampler != nullptr && sampler->top_k > 0 && sampler->top_k < n_vocab;

    top_heap alternatives;
    if (options.statistics) {
        // at least 2 to know the top-1/top-2 gap
        alternatives.limit = std::min(std::max(options.top_n, 2), n_vocab);
        scratch.alt_ids.resize(alternatives.limit);
        scratch.alt_values.resize(alternatives.limit);
        alternatives.ids = scratch.alt_ids.data();
        alternatives.values = scratch.alt_values.data();
    }
    top_heap candidates;
    if (sampler_top_k) {
        candidates.limit = sampler->top_k;
        scratch.ids.resize(std::max<size_t>(scratch.ids.size(), candidates.limit));
        scratch.values.resize(std::max<size_t>(scratch.values.size(), candidates.limit));
        candidates.ids = scratch.ids.data();
        candidates.values = scratch.values.data();
    }

    scan_state scan;
    if (alternatives.limit > 0) {
        scan.heaps[scan.n_heaps++] = &alternatives;
    }
    if (sampler_top_k) {
        scan.heaps[scan.n_heaps++] = &candidates;
    }
    // the read-out temperature: a second set of exponential sums when it is neither 1 nor 0
    const double temperature = options.temperature;
    const bool second = temperature != 1 && temperature > 0;
    exp_sums sums[2];
    bool have_sums = false;

    bool scanned = false;
#ifdef TILLER_HAVE_AVX2_KERNEL
    const bool avx512 = options.kernel >= ROW_KERNEL_AVX512 && cpu_has_avx512();
    const bool avx2 = options.kernel >= ROW_KERNEL_AVX2 && cpu_has_avx2();
    if (options.statistics && !options.exact && (avx512 || avx2)) {
        // one pass for everything (fused_avx512, fused_avx2)
        const float scales[2] = { 1.0f, second ? (float) (1.0 / temperature) : 1.0f };
        const float x_floor = (float) std::max(-1e18, (double) k_exp_lowest * std::max(1.0, second ? temperature : 1.0));
        fused_scan fused;
        bool ok;
        if (avx512) {
            ok = second ? fused_avx512<2>(logits, n_vocab, scales, x_floor, scan, fused, sums)
                        : fused_avx512<1>(logits, n_vocab, scales, x_floor, scan, fused, sums);
        } else {
            ok = second ? fused_avx2<2>(logits, n_vocab, scales, x_floor, scan, fused, sums)
                        : fused_avx2<1>(logits, n_vocab, scales, x_floor, scan, fused, sums);
        }
        if (ok) {
            scan.best = fused.best;
            scan.best_value = fused.best_value;
            scan.ties = fused.ties;
            scanned = have_sums = true;
        } else {
            sums[0] = sums[1] = exp_sums();
        }
    } else if (avx2) {
        scanned = scan_avx2(logits, n_vocab, options.statistics, scan);
    }
    if (!scanned) {
        // a NaN or +inf somewhere (or the scalar kernel asked for): the reference's loop, which
        // also finds the first bad logit and names it
        scan = scan_state();
        alternatives.count = candidates.count = 0;
        if (alternatives.limit > 0) scan.heaps[scan.n_heaps++] = &alternatives;
        if (sampler_top_k) scan.heaps[scan.n_heaps++] = &candidates;
    }
#endif
    if (!scanned && !scan_scalar(logits, n_vocab, scan, error)) {
        return false;
    }
    const int32_t best = scan.best;
    const float best_value = scan.best_value;
    const int32_t ties = scan.ties;
    if (best < 0) {
        error = "every logit is -Infinity; no token can be produced";
        return false;
    }
    result.greedy = best;
    result.sampled = best;

    // ---- the sampled token ------------------------------------------------------------------------
    if (sampler != nullptr) {
        int32_t count;
        double known_sum = 0;
        if (sampler_top_k) {
            count = candidates.count;
        } else {
            // Without top-k every logit is a candidate. With min-p, one whose logit lies below
            // max + T·ln(min_p) cannot survive (its probability is below min_p times the top's), so
            // only the logits above that cut, loosened by k_min_p_margin, are collected and
            // exponentiated in double as the reference does; the softmax normaliser over all of them
            // comes from one fast pass. At 262k tokens this takes the draw from ~2 ms to ~0.1 ms; the
            // normaliser's float exponentials (≈ 1e-7 relative) can change a draw only where the
            // uniform falls within that of a boundary. When the fused pass already summed at the
            // sampler's temperature, its Z is that normaliser.
            const bool prefilter = sampler->min_p > 0;
            const float cut = prefilter ? (float) (best_value + sampler->temperature * (std::log(sampler->min_p) - k_min_p_margin))
                                        : -std::numeric_limits<float>::infinity();
            scratch.ids.resize(std::max<size_t>(scratch.ids.size(), n_vocab));
            scratch.values.resize(std::max<size_t>(scratch.values.size(), n_vocab));
            count = collect_candidates(logits, n_vocab, cut, options.kernel >= ROW_KERNEL_AVX2, scratch.ids.data(), scratch.values.data());
            if (prefilter && have_sums && temperature == sampler->temperature) {
                known_sum = sums[second ? 1 : 0].z;  // the fused pass's Z at this temperature, at the top logit
            } else if (prefilter) {
                const float scale = (float) (1.0 / sampler->temperature);
                exp_sums normaliser;
                exp_sums_fast(logits, n_vocab, best_value, &scale, 1, options.kernel >= ROW_KERNEL_AVX2, &normaliser);
                known_sum = normaliser.z;
            }
        }
        count = sampler_filter(*sampler, scratch.ids.data(), scratch.values.data(), count, known_sum);
        result.sampled = sampler_draw(scratch.ids.data(), scratch.values.data(), count, uniform);
    }
    if (!options.statistics) {
        return true;
    }
    if (target < 0) {
        target = result.sampled;
    }

    // ---- pass 2 (unless fused): the exponential sums at T = 1 and at the read-out temperature ----
    if (have_sums) {
        // done in the fused pass
    } else if (options.exact) {
        const double temperatures[2] = { 1.0, temperature };
        exp_sums_exact(logits, n_vocab, best_value, temperatures, second ? 2 : 1, options.kernel >= ROW_KERNEL_AVX2, sums);
    } else {
        const float scales[2] = { 1.0f, second ? (float) (1.0 / temperature) : 1.0f };
        exp_sums_fast(logits, n_vocab, best_value, scales, second ? 2 : 1, options.kernel >= ROW_KERNEL_AVX2, sums);
    }

    double * f = result.fields;
    const double target_x = (double) logits[target] - (double) best_value;  // −inf when masked
    {
        const exp_sums & s = sums[0];
        const double log_z = std::log(s.z);
        const double mean_x = s.a / s.z;
        f[ROW_LOG_SUM_EXP]    = best_value + log_z;
        f[ROW_FREE_ENERGY]    = -log_z;
        // rounding can leave a tiny negative value for near-deterministic distributions
        f[ROW_ENTROPY]        = std::max(0.0, log_z - mean_x);
        f[ROW_MEAN_ENERGY]    = 0.0 - mean_x;  // +0, not −0, for a uniform row
        f[ROW_HEAT_CAPACITY]  = std::max(0.0, s.b / s.z - mean_x * mean_x);
        f[ROW_TARGET_LOGPROB] = (double) logits[target] - f[ROW_LOG_SUM_EXP];
    }
    {
        double at_t[GRID_FIELD_COUNT] = { f[ROW_FREE_ENERGY], f[ROW_MEAN_ENERGY], f[ROW_ENTROPY], f[ROW_HEAT_CAPACITY], f[ROW_TARGET_LOGPROB] };
        if (temperature == 1) {
            // the T = 1 fields, bit for bit
        } else if (temperature > 0) {
            readouts_from_sums(sums[1], temperature, target_x, at_t);
        } else {
            greedy_limit_readouts(ties, target_x, at_t);
        }
        f[ROW_FREE_ENERGY_T]    = at_t[GRID_FREE_ENERGY];
        f[ROW_MEAN_ENERGY_T]    = at_t[GRID_MEAN_ENERGY];
        f[ROW_ENTROPY_T]        = at_t[GRID_ENTROPY];
        f[ROW_HEAT_CAPACITY_T]  = at_t[GRID_HEAT_CAPACITY];
        f[ROW_TARGET_LOGPROB_T] = at_t[GRID_TARGET_LOGPROB];
    }
    f[ROW_TIES] = ties;
    if (options.n_grid > 0) {
        result.grid_fields.resize((size_t) options.n_grid * GRID_FIELD_COUNT);
        grid_readouts(logits, n_vocab, options, best_value, ties, target_x, sums, scratch.grid_pending, result.grid_fields.data());
    }

    // ---- alternatives and the gap (sorted, most likely first, lower id on ties) --------------------
    const int32_t n_alt = alternatives.count;
    std::vector<int32_t> order(n_alt);
    for (int32_t j = 0; j < n_alt; j++) {
        order[j] = j;
    }
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return ranks_above(alternatives.values[a], alternatives.ids[a], alternatives.values[b], alternatives.ids[b]);
    });
    f[ROW_GAP] = n_alt >= 2 ? alternatives.values[order[0]] - alternatives.values[order[1]] : k_inf;
    result.top_count = std::min(n_alt, options.top_n);
    result.top_ids.resize(options.top_n);
    result.top_logprobs.resize(options.top_n);
    for (int32_t j = 0; j < result.top_count; j++) {
        result.top_ids[j] = alternatives.ids[order[j]];
        result.top_logprobs[j] = alternatives.values[order[j]] - f[ROW_LOG_SUM_EXP];
    }
    return true;
}
