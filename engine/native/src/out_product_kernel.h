// Tiller's CPU kernel for ggml's out-product (GGML_OP_OUT_PROD, F32), swapped into the trainer's
// graphs in place of ggml's own.
//
// Why: ggml's backward pass turns every matrix product into out-products (the weights' gradients,
// and the inputs' gradients back through each projection and through attention). ggml's CPU
// out_prod streams dst rows through memory once per term (ggml_vec_mad_f32_unroll), which took 55%
// of a toy-world training step measured on one core (perf, 300 steps). This kernel keeps a tile of
// dst in registers over the whole sum instead (out_product_tiles.h), 4–5× faster on that step.
//
// It changes no bits: each element is the same chain of fused multiply-adds, in the same order,
// from the same zero, so a model trains to the same bytes with either kernel (the toy world's
// committed model reproduces; tests/engine/outProductKernel.test.ts compares trained weights).
#pragma once

#include <cstdint>

#include "llama_library.h"

enum class out_product_kernel { ggml, avx2, avx512 };

// The fastest kernel this CPU and build can run: ggml's own where ours has no code for it (not
// x86-64, not GCC, or no AVX2 with FMA).
out_product_kernel out_product_kernel_best();

// Whether this CPU and build can run `kernel` (ggml's own always can).
bool out_product_kernel_runs_here(out_product_kernel kernel);

const char * out_product_kernel_name(out_product_kernel kernel);

// Swaps `kernel` in for every F32 out-product among ctx's tensors (before any graph over them is
// allocated: ggml-opt copies each node's op when it allocates). Returns how many were swapped;
// nothing is swapped for out_product_kernel::ggml.
int64_t out_product_kernel_install(const llama_library & lib, ggml_context * ctx, out_product_kernel kernel);
