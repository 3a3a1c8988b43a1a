#!/usr/bin/env bash
# GPU readiness in one command: on a machine with CUDA (after `npm ci` and `npm run build`), writes a
# random qwen3 model (Q8_0 by default), loads it with every layer offloaded, checks that steering and
# capture reach the graph, and prints the bench's `arch` figures: node-llama-cpp's tok/s against the
# engine's (unsteered, steered on every layer, capturing 4 vectors × every layer) and an α-sweep's
# time. Takes 1–3 minutes on one datacenter GPU.
#
#   scripts/gpu-check.sh                      # defaults: qwen3, 16 blocks × 2048, q8_0, CUDA
#   GPU_CHECK_BACKEND=vulkan scripts/gpu-check.sh
#   GPU_CHECK_LAYERS=24 GPU_CHECK_EMBD=3072 GPU_CHECK_TYPE=q4_k_m scripts/gpu-check.sh
#   NODE=/path/to/node scripts/gpu-check.sh  # a node other than the one on PATH
set -euo pipefail
cd "$(dirname "$0")/.."
node_bin="${NODE:-node}"

if [ ! -f dist/bench/generation.bench.js ] || [ ! -f engine/native/build/Release/tiller_native.node ]; then
    echo "gpu-check: build first (npm run build:native && npm run build:ts)" >&2
    exit 1
fi

echo "== machine"
if command -v nvidia-smi >/dev/null 2>&1; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
else
    echo "nvidia-smi not found"
fi
echo "node $("$node_bin" --version), $(nproc) CPU cores"

echo "== bench section arch, every layer on the GPU"
started=$(date +%s)
TILLER_GPU="${GPU_CHECK_BACKEND:-cuda}" \
BENCH_GPU_LAYERS=auto \
BENCH_ARCH="${GPU_CHECK_ARCH:-qwen3}" \
BENCH_ARCH_LAYERS="${GPU_CHECK_LAYERS:-16}" \
BENCH_ARCH_EMBD="${GPU_CHECK_EMBD:-2048}" \
BENCH_ARCH_TYPE="${GPU_CHECK_TYPE:-q8_0}" \
BENCH_TOKENS="${GPU_CHECK_TOKENS:-128}" \
BENCH_REPEATS="${GPU_CHECK_REPEATS:-5}" \
BENCH_THREADS="${GPU_CHECK_THREADS:-4}" \
    "$node_bin" dist/bench/generation.bench.js --only arch
echo "== done in $(( $(date +%s) - started )) s"
