#!/usr/bin/env bash
# On a machine with a GPU, from the repository root: build the CUDA kernels + ctest suites, run them, time ours and
# PyTorch's on the same GPU and print the ratio tables. Logs go to ${OUT:-/tmp/qrb-cuda-bench}.
#   ARCHS=90 bench/cuda/run.sh          (default: 90; the shipped default list is 75;80;86;87;89;90)
set -uo pipefail
OUT=${OUT:-/tmp/qrb-cuda-bench}
mkdir -p "$OUT"
BUILD=${BUILD:-build-cuda-bench}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv | tee "$OUT/gpu.txt"
cmake -S . -B "$BUILD" -G Ninja -DQRB_CUDA=ON -DQRB_BUILD_TESTS=ON -DQRB_BUILD_ADDON=OFF -DQRB_SYSTEM_LIBS=OFF \
  -DCMAKE_CUDA_ARCHITECTURES="${ARCHS:-90}" > "$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; exit 1; }
cmake --build "$BUILD" -j "$(nproc)" --target qrb_cuda_tests qrb_cuda_bench > "$OUT/build.log" 2>&1 || { grep -E "error" "$OUT/build.log" | head -30; exit 1; }
(cd "$BUILD" && ctest -R cuda --output-on-failure) 2>&1 | tee "$OUT/ctest.log"
"$BUILD/native/kernels/cuda/qrb_cuda_tests" --suite cuda_int8 > "$OUT/test_int8.log" 2>&1
"$BUILD/native/kernels/cuda/qrb_cuda_tests" --suite cuda_float > "$OUT/test_float.log" 2>&1
grep -h -E "^  " "$OUT/test_int8.log" "$OUT/test_float.log"
"$BUILD/native/kernels/cuda/qrb_cuda_bench" ${BENCH_ARGS:-} 2>&1 | tee "$OUT/bench_ours.txt"
PYTHONUNBUFFERED=1 python3 bench/cuda/peer_torch.py 20 32 ${PEER_ONLY:-} 2>&1 | tee "$OUT/bench_torch.txt"
python3 bench/cuda/compare.py "$OUT/bench_ours.txt" "$OUT/bench_torch.txt" | tee "$OUT/summary.md"
