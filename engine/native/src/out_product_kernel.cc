#include "out_product_kernel.h"

#include <cstring>

#include "out_product_isa.h"

bool out_product_kernel_runs_here(out_product_kernel kernel) {
#if TILLER_OUT_PRODUCT_X86
    __builtin_cpu_init();
    switch (kernel) {
        case out_product_kernel::avx512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
        case out_product_kernel::avx2:   return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case out_product_kernel::ggml:   return true;
    }
#endif
    return kernel == out_product_kernel::ggml;
}

out_product_kernel out_product_kernel_best() {
    for (out_product_kernel kernel : { out_product_kernel::avx512, out_product_kernel::avx2 }) {
        if (out_product_kernel_runs_here(kernel)) return kernel;
    }
    return out_product_kernel::ggml;
}

const char * out_product_kernel_name(out_product_kernel kernel) {
    switch (kernel) {
        case out_product_kernel::avx512: return "avx512";
        case out_product_kernel::avx2:   return "avx2";
        case out_product_kernel::ggml:   break;
    }
    return "ggml";
}

int64_t out_product_kernel_install(const llama_library & L, ggml_context * ctx, out_product_kernel kernel) {
    ggml_custom_op_t fn = nullptr;
#if TILLER_OUT_PRODUCT_X86
    if (kernel == out_product_kernel::avx512) fn = out_product_avx512;
    if (kernel == out_product_kernel::avx2) fn = out_product_avx2;
#endif
    if (fn == nullptr) {
        return 0;
    }
    // ggml keeps a custom op's function, task count and user data in op_params (a layout private to
    // ggml): let ggml_custom_4d write them into a template tensor, then copy its op and op_params.
    ggml_init_params params = { /*mem_size*/ L.ggml_tensor_overhead(), /*mem_buffer*/ nullptr, /*no_alloc*/ true };
    ggml_context * scratch = L.ggml_init(params);
    if (scratch == nullptr) {
        return 0;
    }
    const ggml_tensor * custom = L.ggml_custom_4d(scratch, GGML_TYPE_F32, 1, 1, 1, 1, nullptr, 0, fn, GGML_N_TASKS_MAX, nullptr);
    int64_t swapped = 0;
    for (ggml_tensor * t = L.ggml_get_first_tensor(ctx); t != nullptr; t = L.ggml_get_next_tensor(ctx, t)) {
        const ggml_tensor * a = t->src[0];
        const ggml_tensor * b = t->src[1];
        // the cases ggml's own kernel handles (it asserts these too): F32, src0 and dst rows contiguous
        if (t->op != GGML_OP_OUT_PROD || a == nullptr || b == nullptr || t->type != GGML_TYPE_F32 || a->type != GGML_TYPE_F32 ||
            b->type != GGML_TYPE_F32 || a->nb[0] != sizeof(float) || t->nb[0] != sizeof(float)) {
            continue;
        }
        t->op = custom->op;
        std::memcpy(t->op_params, custom->op_params, sizeof(t->op_params));
        swapped++;
    }
    L.ggml_free(scratch);
    return swapped;
}
