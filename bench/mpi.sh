#!/bin/sh
# bench/mpi.sh [STEPS] [ROUNDS] - data-parallel training over MPI, measured
# and extrapolated (README, "Training over MPI ranks"). Needs bin/scn,
# bin/scn-mpi (make all bin/scn-mpi), mpirun and Fashion-MNIST.
#
# 1. scn-mnist, global batch 64, STEPS steps (default 20) from a fresh net
#    on 1 rank x 2 threads and 2 ranks x 1 thread, ROUNDS (default 3)
#    alternating rounds: bin/scn-mpi's "mpi:" line (mean step time, the part
#    spent exchanging gradients, images/s).
# 2. scn-cifar's compute per step: bin/scn bench step on random 1 x 28 x 28
#    images (no CIFAR here), scaled by (32/28)^2 for 32 x 32 inputs.
# 3. The table: p nodes like this host, each with 64 images a step (weak
#    scaling), compute as measured, no overlap of communication with compute:
#      gradient exchange  2 (p-1)/p G / bandwidth + 2 (p-1) latency
#      small collectives  (3 per BN layer with synchronised BN, 2 per step)
#                         each ceil(log2 p) latencies (recursive doubling)
#    G = 4 bytes x parameters; sdnet18 (not in scn.h yet) is an estimate:
#    11.2M parameters (ResNet-18's), 20 BN layers, compute per image as
#    scn-cifar's times the ratio of parameter counts.
#    Links: 10 Gbit/s Ethernet with 20 us latency, 100 Gbit/s InfiniBand
#    with 2 us. Each cell: communication per step, then the parallel
#    efficiency compute / (compute + communication) with this host's
#    compute and with a node 100 times faster (a GPU, say).
steps=${1:-20}
rounds=${2:-3}
data=${SCN_MPI_DATA:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scn_mpib.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
run="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && run="$run --allow-run-as-root"
echo "host: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ $r -le "$rounds" ]; do
    for np in 1 2; do
        rm -f "$tmp/m.scn"
        $run -np $np bin/scn-mpi train --data "$data" --limit $((64 * steps)) --epochs 1 \
            --batch 64 --test-limit 0 --precise-bn 0 --threads $((2 / np)) \
            --out "$tmp/m.scn" 2>/dev/null | grep '^mpi:' | tee -a "$tmp/mnist.txt"
    done
    r=$((r + 1))
done
# the median over the rounds of each rank count: step ms, exchange ms, img/s
summary() {
    grep "^mpi: $1 ranks" "$tmp/mnist.txt" |
        sed 's/.*step \([0-9.]*\) ms, exchange \([0-9.]*\) ms, \([0-9.]*\) img.*/\1 \2 \3/' |
        sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}
m1=$(summary 1)
m2=$(summary 2)
echo "scn-mnist median, 1 rank: step ms, exchange ms, img/s = $m1"
echo "scn-mnist median, 2 ranks: step ms, exchange ms, img/s = $m2"
cifar=$(bin/scn bench step --model scn-cifar --batch 64 --steps 3 --warmup 2 --threads 2 \
        2>/dev/null | sed -n 's/^images\/s //p')
echo "scn-cifar, bench step on 1x28x28: $cifar images/s"
cat >"$tmp/p.c" <<'EOC'
#define SCN_IMPLEMENTATION
#include "scn.h"
#include <stdio.h>
int main(void) {   /* parameters and BN layers of the presets, scn-cifar for 3 x 32 x 32 */
    scn_net *a = scn_net_create("scn-mnist", 1, 28, 28, 1);
    scn_net *b = scn_net_create("scn-cifar", 3, 32, 32, 1);
    int i, na = 0, nb = 0;
    for (i = 0; i < scn_net_layer_count(a); i++) na += !strcmp(scn_net_layer_kind(a, i), "bn");
    for (i = 0; i < scn_net_layer_count(b); i++) nb += !strcmp(scn_net_layer_kind(b, i), "bn");
    printf("%zu %d %zu %d\n", scn_net_param_count(a), na, scn_net_param_count(b), nb);
    return 0;
}
EOC
cc -O1 -I. -o "$tmp/p" "$tmp/p.c" -lm && set -- $("$tmp/p")
echo "parameters: scn-mnist $1 ($2 BN layers), scn-cifar $3 ($4 BN layers)"
echo "$m1 $1 $2 $3 $4 $cifar" | awk '
function lg(p) { return p <= 1 ? 0 : int(log(p - 1) / log(2)) + 1 }
function row(name, params, nbn, comp_ms, bw, lat,   p, i, g, line, comm, small, eff) {
    g = 4 * params
    line = sprintf("| %s | %.2f MB | %.0f ms | %d Gbit/s |", name, g / 1e6, comp_ms, bw)
    for (i = 1; i <= 5; i++) {
        p = P[i]
        comm = 1e3 * (2 * (p - 1) / p * g * 8 / (bw * 1e9) + 2 * (p - 1) * lat * 1e-6)
        small = 1e3 * (3 * nbn + 2) * lg(p) * lat * 1e-6
        eff = comp_ms / (comp_ms + comm + small)
        fast = comp_ms / 100 / (comp_ms / 100 + comm + small)
        line = line sprintf(" %.1f ms: %.0f%% / %.0f%% |", comm + small, 100 * eff, 100 * fast)
    }
    print line
}
{
    P[1] = 4; P[2] = 8; P[3] = 16; P[4] = 32; P[5] = 64
    # $1-$3: 1 rank step ms, exchange ms, img/s; $4-$7: parameters and BN
    # layers of scn-mnist and scn-cifar; $8: scn-cifar img/s at 28 x 28
    mnist = $1 - $2                     # compute: the 1-rank step less its exchange
    cifar = 64 / $8 * 1000 * (32 / 28) ^ 2
    sd = cifar * 11.2e6 / $6
    print "| net | gradient block | compute per step (64 images) | link | p = 4 | 8 | 16 | 32 | 64 |"
    print "|---|---|---|---|---|---|---|---|---|"
    row("scn-mnist", $4, $5, mnist, 10, 20); row("scn-mnist", $4, $5, mnist, 100, 2)
    row("scn-cifar", $6, $7, cifar, 10, 20); row("scn-cifar", $6, $7, cifar, 100, 2)
    row("sdnet18 (estimate)", 11.2e6, 20, sd, 10, 20)
    row("sdnet18 (estimate)", 11.2e6, 20, sd, 100, 2)
}'
