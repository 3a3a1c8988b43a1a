// Tiller's out-product kernel (out_product_kernel.h) for AVX2 with FMA: 8 lanes, tiles of up to
// 2 vectors × 6 rows (12 of the 16 registers accumulate).
#include "out_product_isa.h"

#if TILLER_OUT_PRODUCT_X86
#include <cstddef>
#include <cstdint>
#include <utility>

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace {

struct vec {
    static constexpr int lanes = 8;
    static constexpr int k_max_vectors = 2;
    static constexpr int k_max_rows = 6;
    using reg = __m256;
    using mask = __m256i;
    static mask mask_for(int64_t remaining) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32((int) (remaining < lanes ? remaining : lanes)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static reg zero() { return _mm256_setzero_ps(); }
    static reg load(const float * p, mask m) { return _mm256_maskload_ps(p, m); }
    static void store(float * p, reg v, mask m) { _mm256_maskstore_ps(p, m, v); }
    static reg broadcast(const float * p) { return _mm256_broadcast_ss(p); }
    static reg fma(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }  // a·b + c, rounded once
};

#include "out_product_tiles.h"

} // namespace

void out_product_avx2(ggml_tensor * dst, int ith, int nth, void * /*userdata*/) {
    compute(dst, ith, nth);
}

#pragma GCC pop_options
#endif
