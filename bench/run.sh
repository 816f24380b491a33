#!/bin/sh
# make bench: scn.h beside OpenBLAS (GEMM) and PyTorch (layer, CSC layer, training step),
# every ratio taken within this one run, on the same threads.
#   sh bench/run.sh [threads]
T=${1:-2}
PY=/usr/bin/python3
DATA=/usr/share/datasets/fashion-mnist
LAYER="--batch 32 --channels 16 --size 28 --atoms 64 --kernel 3 --iters 20"
set -e

bin/bench_gemm "$T"
echo

# value KEY FILE: the number after KEY on its line
value() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "SC layer, $LAYER, $T threads (median seconds)"
bin/scn bench layer $LAYER --threads "$T" > "$tmp/scn"
$PY bench/torch_ref.py layer $LAYER --threads "$T" > "$tmp/torch"
f=$(value forward "$tmp/scn"); fb=$(value forward+backward "$tmp/scn")
tf=$(value forward "$tmp/torch"); tfb=$(value forward+backward "$tmp/torch")
ta=$(value "forward+backward(autograd)" "$tmp/torch")
N=32
printf "%-34s %10s %10s %7s %12s\n" "" scn.h pytorch speedup "scn images/s"
printf "%-34s %10s %10s %7s %12s\n" "forward" "$f" "$tf" "$(ratio "$tf" "$f")" "$(ratio $N "$f")"
printf "%-34s %10s %10s %7s %12s\n" "forward+backward (implicit)" "$fb" "$tfb" \
    "$(ratio "$tfb" "$fb")" "$(ratio $N "$fb")"
printf "%-34s %10s %10s %7s %12s\n" "forward+backward (torch autograd)" "$fb" "$ta" \
    "$(ratio "$ta" "$fb")" "$(ratio $N "$fb")"
echo

CSC="--batch 32 --channels 3 --size 32 --atoms 64 --kernel 3 --iters 2"
echo "SDNet CSC layer, $CSC, $T threads (median seconds)"
bin/scn bench csc $CSC --threads "$T" > "$tmp/scn"
$PY bench/csc_torch.py $CSC --threads "$T" > "$tmp/torch"
f=$(value forward "$tmp/scn"); fb=$(value forward+backward "$tmp/scn")
tf=$(value forward "$tmp/torch"); tfb=$(value forward+backward "$tmp/torch")
printf "%-34s %10s %10s %7s\n" "" scn.h pytorch speedup
printf "%-34s %10s %10s %7s\n" "forward" "$f" "$tf" "$(ratio "$tf" "$f")"
printf "%-34s %10s %10s %7s\n" "forward+backward (unrolled)" "$fb" "$tfb" "$(ratio "$tfb" "$fb")"
echo

# step_table: images/s and peak memory of $tmp/scn beside $tmp/torch
step_table() {
    i=$(value images/s "$tmp/scn"); ti=$(value images/s "$tmp/torch")
    m=$(value peak_rss_mb "$tmp/scn"); tm=$(value peak_rss_mb "$tmp/torch")
    printf "%-34s %10s %10s %7s\n" "" scn.h pytorch ratio
    printf "%-34s %10s %10s %7s\n" "images/s" "$i" "$ti" "$(ratio "$i" "$ti")"
    printf "%-34s %10s %10s %7s\n" "peak memory (MB)" "$m" "$tm" "$(ratio "$m" "$tm")"
}

# PyTorch's step: the faster of its implicit and autograd gradients (--grad best)
echo "scn-mnist training step, batch 64, $T threads"
if [ -d "$DATA" ]; then D="--data $DATA"; else D=""; fi
bin/scn bench step --model scn-mnist --batch 64 $D --threads "$T" > "$tmp/scn"
$PY bench/torch_ref.py step --model scn-mnist --batch 64 $D --grad best \
    --threads "$T" > "$tmp/torch"
step_table
echo

echo "scn-cifar training step, batch 64, 3 x 32 x 32, $T threads"
bin/scn bench step --model scn-cifar --channels 3 --size 32 --batch 64 --steps 3 --warmup 2 \
    --threads "$T" > "$tmp/scn"
$PY bench/torch_ref.py step --model scn-cifar --channels 3 --size 32 --batch 64 --steps 2 \
    --grad best --threads "$T" > "$tmp/torch"
step_table
echo

bin/bench_sparse "$T" 256
