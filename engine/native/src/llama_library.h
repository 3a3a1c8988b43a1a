// The llama.cpp functions Tiller calls, resolved at run time from the libllama (and libggml-base)
// that node-llama-cpp has already loaded into this process.
//
// Why not link libllama? node-llama-cpp chooses one of several builds (CPU, CUDA, Vulkan, Metal)
// at run time. Linking our own copy would put a second llama/ggml in the process, with its own
// backend registry and its own weights. Resolving symbols from the already-loaded library keeps a
// single copy, and every backend node-llama-cpp supports works unchanged.
#pragma once

#include <string>

#include "llama.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include "gguf.h"
#include "ggml-alloc.h"
#include "ggml-opt.h"

// Training (engine/native/src/training.cc): creating a model from metadata and saving it.
#define TILLER_LLAMA_TRAINING_FUNCTIONS(X) \
    X(llama_model_init_from_user)          \
    X(llama_model_save_to_file)

// Quantization (engine/native/src/quantize.cc): llama.cpp's own quantizer, and the log hook that
// turns its per-tensor lines into progress.
#define TILLER_LLAMA_QUANTIZE_FUNCTIONS(X)  \
    X(llama_model_quantize_default_params)  \
    X(llama_model_quantize)                 \
    X(llama_log_get)                        \
    X(llama_log_set)

// gguf_* and ggml_opt_* live in libggml-base
#define TILLER_GGML_TRAINING_FUNCTIONS(X)     \
    X(ggml_backend_tensor_set)                \
    X(gguf_init_from_file)                    \
    X(gguf_free)                              \
    X(gguf_find_key)                          \
    X(gguf_get_kv_type)                       \
    X(gguf_get_val_u32)                       \
    X(gguf_get_val_f32)                       \
    X(gguf_get_val_str)                       \
    X(ggml_opt_get_default_optimizer_params)  \
    X(ggml_opt_result_init)                   \
    X(ggml_opt_result_free)                   \
    X(ggml_opt_result_reset)                  \
    X(ggml_opt_result_loss)

// The trainer's own graph (engine/native/src/training_graph.cc): ggml ops, the CPU backend, the
// scheduler and allocator, and ggml-opt's static-graph API (all in libggml-base)
#define TILLER_GGML_GRAPH_FUNCTIONS(X)         \
    X(ggml_init)                               \
    X(ggml_free)                               \
    X(ggml_tensor_overhead)                    \
    X(ggml_graph_overhead_custom)              \
    X(ggml_new_tensor_1d)                      \
    X(ggml_new_tensor_2d)                      \
    X(ggml_set_name)                           \
    X(ggml_set_param)                          \
    X(ggml_set_output)                         \
    X(ggml_get_rows)                           \
    X(ggml_rms_norm)                           \
    X(ggml_mul)                                \
    X(ggml_mul_mat)                            \
    X(ggml_reshape_2d)                         \
    X(ggml_reshape_3d)                         \
    X(ggml_rope_ext)                           \
    X(ggml_cont)                               \
    X(ggml_permute)                            \
    X(ggml_soft_max_ext)                       \
    X(ggml_add)                                \
    X(ggml_swiglu_split)                       \
    X(ggml_new_graph_custom)                   \
    X(ggml_build_forward_expand)               \
    X(ggml_graph_n_nodes)                      \
    X(ggml_backend_dev_init)                   \
    X(ggml_backend_free)                       \
    X(ggml_backend_sched_new)                  \
    X(ggml_backend_sched_free)                 \
    X(ggml_backend_alloc_ctx_tensors)          \
    X(ggml_backend_buffer_free)                \
    X(ggml_backend_get_default_buffer_type)    \
    X(ggml_backend_graph_compute)              \
    X(ggml_gallocr_new)                        \
    X(ggml_gallocr_free)                       \
    X(ggml_gallocr_alloc_graph)                \
    X(ggml_opt_default_params)                 \
    X(ggml_opt_init)                           \
    X(ggml_opt_free)                           \
    X(ggml_opt_labels)                         \
    X(ggml_opt_alloc)                          \
    X(ggml_opt_eval)                           \
    X(ggml_custom_4d)                          \
    X(ggml_get_first_tensor)                   \
    X(ggml_get_next_tensor)

// X-macro lists: one entry per function. The pointer types come from the headers via decltype, so
// a signature change in llama.h fails the build instead of corrupting the stack at run time.
#define TILLER_LLAMA_FUNCTIONS(X)        \
    X(llama_model_default_params)        \
    X(llama_context_default_params)      \
    X(llama_model_load_from_file)        \
    X(llama_model_free)                  \
    X(llama_init_from_model)             \
    X(llama_free)                        \
    X(llama_model_get_vocab)             \
    X(llama_model_n_embd)                \
    X(llama_model_n_layer)               \
    X(llama_model_n_head)                \
    X(llama_model_n_head_kv)             \
    X(llama_model_n_ctx_train)           \
    X(llama_model_n_params)              \
    X(llama_model_size)                  \
    X(llama_model_desc)                  \
    X(llama_model_meta_val_str)          \
    X(llama_model_chat_template)         \
    X(llama_vocab_n_tokens)              \
    X(llama_vocab_bos)                   \
    X(llama_vocab_eos)                   \
    X(llama_vocab_is_eog)                \
    X(llama_vocab_get_add_bos)           \
    X(llama_tokenize)                    \
    X(llama_token_to_piece)              \
    X(llama_n_ctx)                       \
    X(llama_n_batch)                     \
    X(llama_get_memory)                  \
    X(llama_memory_clear)                \
    X(llama_memory_seq_rm)               \
    X(llama_memory_seq_cp)               \
    X(llama_memory_seq_pos_max)          \
    X(llama_batch_init)                  \
    X(llama_batch_free)                  \
    X(llama_decode)                      \
    X(llama_get_logits_ith)              \
    X(llama_set_adapter_cvec)            \
    X(llama_attach_threadpool)           \
    X(llama_detach_threadpool)           \
    X(llama_print_system_info)           \
    TILLER_LLAMA_TRAINING_FUNCTIONS(X)     \
    TILLER_LLAMA_QUANTIZE_FUNCTIONS(X)

#define TILLER_GGML_FUNCTIONS(X)         \
    X(ggml_backend_tensor_get)           \
    X(ggml_nbytes)                       \
    X(ggml_is_contiguous)                \
    X(ggml_backend_dev_backend_reg)      \
    X(ggml_backend_reg_get_proc_address) \
    X(ggml_threadpool_params_default)    \
    TILLER_GGML_TRAINING_FUNCTIONS(X)    \
    TILLER_GGML_GRAPH_FUNCTIONS(X)

// from libggml (the backend registry), not libggml-base
#define TILLER_GGML_REGISTRY_FUNCTIONS(X) \
    X(ggml_backend_dev_by_type)

struct llama_library {
#define TILLER_DECLARE_POINTER(name) decltype(&::name) name = nullptr;
    TILLER_LLAMA_FUNCTIONS(TILLER_DECLARE_POINTER)
    TILLER_GGML_FUNCTIONS(TILLER_DECLARE_POINTER)
    TILLER_GGML_REGISTRY_FUNCTIONS(TILLER_DECLARE_POINTER)
#undef TILLER_DECLARE_POINTER

    // the CPU backend is a dynamically loaded module: its threadpool functions come through
    // ggml_backend_reg_get_proc_address (null when the CPU backend does not offer them)
    decltype(&::ggml_threadpool_new)  ggml_threadpool_new  = nullptr;
    decltype(&::ggml_threadpool_free) ggml_threadpool_free = nullptr;

    std::string llama_path;
    std::string ggml_base_path;
    std::string ggml_path;
};

// Finds the loaded libllama / libggml-base and resolves every function above. Throws
// std::runtime_error naming what is missing. Idempotent; the first successful call wins.
const llama_library & llama_library_bind();

// The library bound by llama_library_bind(); throws if it was never bound.
const llama_library & llama_library_get();

// the path of the libllama already loaded in this process, or "" when none is
std::string llama_library_loaded_path();
