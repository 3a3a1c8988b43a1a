// NativeTrainer: trains a llama-architecture model from scratch, for the toy world
// (engine/toyworld). llama.cpp creates the model from GGUF metadata with seeded random weights;
// Tiller's own ggml graph (training_graph.h: why not llama_opt_epoch) trains it with AdamW, one
// optimizer step per window off the JS thread, and evaluates it; llama_model_save_to_file saves it. Policy (corpus, step
// count, the learning-rate schedule, AdamW's betas, epsilon and weight decay, each tensor's initial
// values, the regression guard, the final metadata) lives in TypeScript (engine/toyworld/
// trainingPolicy.ts); this file keeps the primitives: the seeded generator, the optimizer step.
#pragma once

#include <napi.h>

namespace native_training {

// createTrainer(metadataPath, { seed, threads, contextSize, initialisation }): Promise<NativeTrainer>
Napi::Value create(const Napi::CallbackInfo & info);

// trainers alive now (created, not yet disposed or collected)
int64_t live_trainers();

// registers the NativeTrainer class; call once from the addon's init
void define(Napi::Env env);

} // namespace native_training
