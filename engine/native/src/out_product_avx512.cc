// Tiller's out-product kernel (out_product_kernel.h) for AVX-512: 16 lanes, tiles of up to
// 4 vectors × 6 rows (24 of the 32 registers accumulate).
#include "out_product_isa.h"

#if TILLER_OUT_PRODUCT_X86
#include <cstddef>
#include <cstdint>
#include <utility>

#include <immintrin.h>

#pragma GCC push_options
#pragma GCC target("avx512f,fma")

namespace {

struct vec {
    static constexpr int lanes = 16;
    static constexpr int k_max_vectors = 4;
    static constexpr int k_max_rows = 6;
    using reg = __m512;
    using mask = __mmask16;
    static mask mask_for(int64_t remaining) { return remaining >= lanes ? (mask) 0xFFFF : (mask) ((1u << remaining) - 1); }
    static reg zero() { return _mm512_setzero_ps(); }
    static reg load(const float * p, mask m) { return _mm512_maskz_loadu_ps(m, p); }
    static void store(float * p, reg v, mask m) { _mm512_mask_storeu_ps(p, m, v); }
    static reg broadcast(const float * p) { return _mm512_set1_ps(*p); }
    static reg fma(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }  // a·b + c, rounded once
};

#include "out_product_tiles.h"

} // namespace

void out_product_avx512(ggml_tensor * dst, int ith, int nth, void * /*userdata*/) {
    compute(dst, ith, nth);
}

#pragma GCC pop_options
#endif
