#!/bin/sh
# gpu_check.sh - the short check for a machine with an NVIDIA GPU (sm_90 or
# newer; nvcc on PATH, in $CUDA_HOME/bin or /usr/local/cuda/bin), in well
# under 5 minutes: build the CUDA backend, compare every op and three nets'
# training steps with the CPU backend (bin/test_cuda), then time the
# sparse-coding layer and training steps on the GPU beside the CPU's layer
# time. Prints each command before running it; exits non-zero if any failed.
#
#   sh tests/gpu_check.sh
cd "$(dirname "$0")/.." || exit 2
fail=0
run() {
    echo "+ $*"
    "$@" || { echo "FAILED ($?): $*"; fail=1; }
}
echo "+ nvidia-smi -L"; nvidia-smi -L 2>/dev/null || echo "(no nvidia-smi)"
run make -j4 cuda bin/scn
[ -x bin/test_cuda ] && [ -x bin/scn-cuda ] || { echo "gpu_check: the build failed"; exit 1; }
run timeout 120 bin/test_cuda
run timeout 60 bin/scn-cuda bench layer
run timeout 60 bin/scn bench layer --reps 3
run timeout 60 bin/scn-cuda bench step --model scn-mnist --warmup 3 --steps 5
run timeout 90 bin/scn-cuda bench step --model scn-cifar --batch 32 --warmup 2 --steps 3
[ $fail -eq 0 ] && echo "gpu_check: all passed" || echo "gpu_check: FAILED"
exit $fail
