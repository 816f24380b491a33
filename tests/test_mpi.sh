#!/bin/sh
# test_mpi.sh BINDIR - bin/scn-mpi over 1 and 2 ranks (make test-mpi):
#   1. one rank with synchronised BN is bit-identical to scn train, with and
#      without dropout;
#   2. two ranks with synchronised BN match one rank at the same global
#      batch to 1e-5 of each layer's largest weight (float summation order;
#      scn.h section 17 says why it is not bit-identical);
#   3. with --bn-local --shards 2, one rank and two ranks are bit-identical,
#      and so is a run resumed on 1 rank from a 2-rank checkpoint;
#   4. a bad file on one rank ends the job with that rank's message;
#   and tests/mpi/api.c checks the library's functions directly.
# Needs mpirun and Fashion-MNIST (Debian: openmpi-bin, dataset-fashion-mnist).
# Under 2 minutes on 2 cores.
bin=${1:-bin}
data=${SCN_MPI_DATA:-/usr/share/datasets/fashion-mnist}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scn_mpi.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
fail=0
run="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && run="$run --allow-run-as-root"
[ -d "$data" ] ||
    { echo "test_mpi: $data is absent (apt-get install dataset-fashion-mnist)"; exit 1; }
# the library's side on 2 ranks (tests/mpi/api.c): shared errors, sync, and
# per-shard and synchronised BN against one rank, on a data set in memory
if $run -np 2 "$bin/mpi_api" >"$tmp/api.log" 2>&1; then
    echo "ok   scn_mpi_* on 2 ranks (tests/mpi/api.c)"
else
    echo "FAIL scn_mpi_* on 2 ranks"; cat "$tmp/api.log"; fail=1
fi
# scn-mnist with random crops and flips, no test pass: 64 images a step
common="--batch 64 --test-limit 0 --precise-bn 0 --crop 2 --flip"
check() {   # check NAME A B TOL
    if "$bin/mpi_cmp" "$2" "$3" "$4"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
train() {   # train RANKS THREADS OUT ARGS...
    np=$1; th=$2; out=$3; shift 3
    $run -np "$np" "$bin/scn-mpi" train --data "$data" $common --threads "$th" --out "$out" "$@" \
        >"$out.log" 2>&1 || { echo "FAIL $out: exit $?"; cat "$out.log"; fail=1; }
}

# 1, 2: two steps, synchronised BN
"$bin/scn" train --data "$data" $common --threads 2 --limit 128 --epochs 1 --out "$tmp/scn.scn" \
    >"$tmp/scn.log" 2>&1 || { echo "FAIL scn train"; cat "$tmp/scn.log"; fail=1; }
train 1 2 "$tmp/s1.scn" --limit 128 --epochs 1
train 2 1 "$tmp/s2.scn" --limit 128 --epochs 1
check "1 rank = scn train, bit for bit" "$tmp/scn.scn" "$tmp/s1.scn" 0
check "2 ranks = 1 rank to 1e-5 (synchronised BN)" "$tmp/s1.scn" "$tmp/s2.scn" 1e-5
n=$(grep -c '^epoch 1/1 lr' "$tmp/s2.scn.log")
if [ "$n" = 1 ]; then echo "ok   rank 0 alone prints"; else echo "FAIL $n epoch lines"; fail=1; fi
# a smooth net with dropout, trained against smoothed labels: six steps
# agree to 1e-5, and per-shard BN is exact; dropout's draws at the wrong
# place, or smoothing left out on the ranks, would show in both
net="conv:n=8 bn relu dropout:p=0.3 maxpool conv:n=16 bn relu gap linear:n=10"
train 1 2 "$tmp/d1.scn" --limit 384 --epochs 1 --model "$net" --label-smoothing 0.1
train 2 1 "$tmp/d2.scn" --limit 384 --epochs 1 --model "$net" --label-smoothing 0.1
check "dropout net: 2 ranks = 1 rank to 1e-5" "$tmp/d1.scn" "$tmp/d2.scn" 1e-5
"$bin/scn" train --data "$data" $common --threads 2 --limit 384 --epochs 1 --model "$net" \
    --label-smoothing 0.1 --out "$tmp/d0.scn" >"$tmp/d0.log" 2>&1 || { echo "FAIL scn train"; cat "$tmp/d0.log"; fail=1; }
check "dropout net: 1 rank = scn train, bit for bit (the generator jumps)" "$tmp/d0.scn" \
    "$tmp/d1.scn" 0
train 1 2 "$tmp/e1.scn" --limit 384 --epochs 1 --model "$net" --bn-local --shards 2
train 2 1 "$tmp/e2.scn" --limit 384 --epochs 1 --model "$net" --bn-local --shards 2
check "dropout net, --bn-local: 2 ranks = 1 rank, bit for bit" "$tmp/e1.scn" "$tmp/e2.scn" 0

# a DDSE net: the PCA basis fitted on every rank, projections every 2 steps
# and at the end of each epoch, as scn train does
net="pca ddse:n=64,iters=1,nnz=16,every=3 linear:n=10"
"$bin/scn" train --data "$data" $common --threads 2 --limit 256 --epochs 2 --model "$net" \
    --out "$tmp/p0.scn" >"$tmp/p0.log" 2>&1 || { echo "FAIL scn train"; cat "$tmp/p0.log"; fail=1; }
train 1 2 "$tmp/p1.scn" --limit 256 --epochs 2 --model "$net"
check "ddse net: 1 rank = scn train, bit for bit" "$tmp/p0.scn" "$tmp/p1.scn" 0
train 1 2 "$tmp/p2.scn" --limit 256 --epochs 2 --model "$net" --bn-local --shards 2
train 2 1 "$tmp/p3.scn" --limit 256 --epochs 2 --model "$net" --bn-local --shards 2
check "ddse net, 2 shards: 2 ranks = 1 rank, bit for bit" "$tmp/p2.scn" "$tmp/p3.scn" 0

# 3: per-shard BN, 2 epochs of 2 steps; then epoch 1 on 2 ranks, epoch 2
# resumed on 1
train 1 2 "$tmp/b1.scn" --limit 128 --epochs 2 --bn-local --shards 2
train 2 1 "$tmp/b2.scn" --limit 128 --epochs 2 --bn-local --shards 2
check "--bn-local: 2 ranks = 1 rank, bit for bit" "$tmp/b1.scn" "$tmp/b2.scn" 0
train 2 1 "$tmp/r.scn" --limit 128 --epochs 1 --bn-local --shards 2
train 1 2 "$tmp/r.scn" --limit 128 --epochs 2 --bn-local --shards 2 --resume
check "resumed on 1 rank from 2 = uninterrupted, bit for bit" "$tmp/b2.scn" "$tmp/r.scn" 0

# 4: rank 1 reads a truncated copy of the training images
mkdir "$tmp/bad"
cp "$data"/* "$tmp/bad/"
img=$(ls "$tmp/bad"/train-images*)
head -c 100000 "$img" >"$tmp/cut" && mv "$tmp/cut" "$img"
timeout 120 $run -np 1 "$bin/scn-mpi" train --data "$data" $common --limit 128 \
    --out "$tmp/f.scn" : -np 1 "$bin/scn-mpi" train $common --limit 128 --out "$tmp/f.scn" --data "$tmp/bad" \
    >"$tmp/f.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "rank 1: .*train-images" "$tmp/f.log" &&
   [ ! -f "$tmp/f.scn" ]; then
    echo "ok   a bad file on rank 1 ends the job: $(grep 'rank 1:' "$tmp/f.log" | head -1)"
else
    echo "FAIL bad file on rank 1 (exit $rc)"; cat "$tmp/f.log"; fail=1
fi
[ $fail -eq 0 ] && echo "test_mpi: all passed"
exit $fail
