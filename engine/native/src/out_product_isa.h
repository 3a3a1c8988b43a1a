// The per-instruction-set entry points of Tiller's out-product kernel (out_product_kernel.h), each
// compiled in its own file with that instruction set enabled. GCC on x86-64 only: elsewhere the
// trainer keeps ggml's own out_prod (the same bytes, slower).
#pragma once

#include "ggml.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TILLER_OUT_PRODUCT_X86 1
void out_product_avx512(ggml_tensor * dst, int ith, int nth, void * userdata);
void out_product_avx2(ggml_tensor * dst, int ith, int nth, void * userdata);
#else
#define TILLER_OUT_PRODUCT_X86 0
#endif
