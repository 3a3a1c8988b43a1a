// The register-tiled body of Tiller's out-product kernel (out_product_kernel.h says why it exists),
// written once over a vector type: out_product_avx512.cc and out_product_avx2.cc include it after
// switching their whole file to that instruction set, each with its own `vec` (width, masked load,
// store, broadcast, fused multiply-add). Not a header for anyone else.
//
// What it must reproduce, element for element: ggml's CPU out_prod (ggml-cpu/ops.cpp at the pinned
// llama.cpp) zeroes dst, then adds src0[i0, k] · src1[i1, k] for k = 0, 1, …, ne01 − 1 in that
// order, one fused multiply-add per term (its SIMD body uses FMA; its scalar leftovers are contracted
// to FMA by the compiler). Here a tile of dst stays in registers for the whole k loop and each term
// is one fused multiply-add, in the same order from the same +0: the same roundings, so the same
// bits. tests/engine/outProductKernel.test.ts holds trained weights to ggml's, bit for bit.
//
// The includer has already included <cstddef>, <cstdint>, <utility> and ggml.h, and includes this
// inside an anonymous namespace: each file's instantiations get internal linkage, so the AVX-512 and
// the AVX2 copies of tile<…> can never be merged by the linker.

constexpr int k_max_vectors = vec::k_max_vectors;  // vectors along i0 per tile
constexpr int k_max_rows = vec::k_max_rows;        // dst rows (i1) per tile

// One tile: dst[i0 .. i0 + width, rows r .. r + NR) of one (i2, i3) slice, width ≤ NV · lanes.
// The loops over vectors and rows are unrolled so that acc[][] lives in registers (at -O2 GCC
// otherwise keeps it on the stack and the kernel runs at a third of the speed).
template <int NV, int NR>
void tile(const char * s0, size_t nb01, const char * s1, size_t nb10, size_t nb11, char * d, size_t nb1, int64_t k_count, int64_t width) {
    typename vec::mask masks[NV];
    #pragma GCC unroll 8
    for (int v = 0; v < NV; v++) {
        masks[v] = vec::mask_for(width - (int64_t) v * vec::lanes);
    }
    typename vec::reg acc[NR][NV];
    #pragma GCC unroll 8
    for (int r = 0; r < NR; r++) {
        #pragma GCC unroll 8
        for (int v = 0; v < NV; v++) {
            acc[r][v] = vec::zero();
        }
    }
    for (int64_t k = 0; k < k_count; k++) {
        const float * a = (const float *) (s0 + k * nb01);
        typename vec::reg x[NV];
        #pragma GCC unroll 8
        for (int v = 0; v < NV; v++) {
            x[v] = vec::load(a + v * vec::lanes, masks[v]);
        }
        const char * b = s1 + k * nb11;
        #pragma GCC unroll 8
        for (int r = 0; r < NR; r++) {
            const typename vec::reg scalar = vec::broadcast((const float *) (b + r * nb10));
            #pragma GCC unroll 8
            for (int v = 0; v < NV; v++) {
                acc[r][v] = vec::fma(x[v], scalar, acc[r][v]);
            }
        }
    }
    #pragma GCC unroll 8
    for (int r = 0; r < NR; r++) {
        float * out = (float *) (d + r * nb1);
        #pragma GCC unroll 8
        for (int v = 0; v < NV; v++) {
            vec::store(out + v * vec::lanes, acc[r][v], masks[v]);
        }
    }
}

using tile_fn = void (*)(const char *, size_t, const char *, size_t, size_t, char *, size_t, int64_t, int64_t);

template <int NV, int... R>
constexpr void fill_row(tile_fn * row, std::integer_sequence<int, R...>) {
    ((row[R] = &tile<NV, R + 1>), ...);
}

// tiles[nv − 1][nr − 1]: every tile shape an edge can need
struct tile_table {
    tile_fn fns[k_max_vectors][k_max_rows];
    constexpr tile_table() : fns() {
        fill<0>();
    }
    template <int V>
    constexpr void fill() {
        if constexpr (V < k_max_vectors) {
            fill_row<V + 1>(fns[V], std::make_integer_sequence<int, k_max_rows>());
            fill<V + 1>();
        }
    }
};

// ggml's custom-op entry: dst = out_prod(dst->src[0], dst->src[1]), F32, src0 and dst rows
// contiguous (checked when the node is swapped in). Threads share the work by row blocks.
inline void compute(ggml_tensor * dst, int ith, int nth) {
    static constexpr tile_table table;
    const ggml_tensor * src0 = dst->src[0];
    const ggml_tensor * src1 = dst->src[1];
    const int64_t ne0 = dst->ne[0], ne1 = dst->ne[1], ne2 = dst->ne[2], ne3 = dst->ne[3];
    const int64_t k_count = src0->ne[1];
    const int64_t dps2 = ne2 / src0->ne[2], dps3 = ne3 / src0->ne[3];  // dst slices per src0 slice (broadcast)
    const int64_t row_blocks = (ne1 + k_max_rows - 1) / k_max_rows;
    const int64_t col_span = (int64_t) k_max_vectors * vec::lanes;
    int64_t block = 0;
    for (int64_t i3 = 0; i3 < ne3; i3++) {
        for (int64_t i2 = 0; i2 < ne2; i2++) {
            const char * s0_slice = (const char *) src0->data + (i2 / dps2) * src0->nb[2] + (i3 / dps3) * src0->nb[3];
            const char * s1_slice = (const char *) src1->data + i2 * src1->nb[2] + i3 * src1->nb[3];
            char * d_slice = (char *) dst->data + i2 * dst->nb[2] + i3 * dst->nb[3];
            for (int64_t rb = 0; rb < row_blocks; rb++, block++) {
                if (block % nth != ith) {
                    continue;
                }
                const int64_t i1 = rb * k_max_rows;
                const int rows = (int) (ne1 - i1 < k_max_rows ? ne1 - i1 : k_max_rows);
                for (int64_t i0 = 0; i0 < ne0; i0 += col_span) {
                    const int64_t width = ne0 - i0 < col_span ? ne0 - i0 : col_span;
                    const int vectors = (int) ((width + vec::lanes - 1) / vec::lanes);
                    table.fns[vectors - 1][rows - 1](s0_slice + i0 * sizeof(float), src0->nb[1], s1_slice + i1 * src1->nb[0], src1->nb[0], src1->nb[1],
                                                     d_slice + i0 * sizeof(float) + i1 * dst->nb[1], dst->nb[1], k_count, width);
                }
            }
        }
    }
}
