#!/bin/sh
# cli_harden.sh - the scn tool against what an adversarial run found
# (issue 12): outputs that are symlinks, devices, directories or in a
# missing directory; a write cut short by a file size limit (as on a full
# disk); thread counts above the solver's old 256-thread scratch; FIFOs
# and /dev/zero as inputs.
#
#   sh tests/cli_harden.sh bin/scn
#
# Silent on success; prints each failed check and exits 1 otherwise.
set -u
export LC_ALL=C
[ $# -eq 1 ] && [ -x "$1" ] || { echo "usage: $0 PATH/TO/scn" >&2; exit 2; }
case $1 in /*) SCN=$1 ;; *) SCN=$PWD/$1 ;; esac
FIX=$PWD/tests/fixtures
TMP=$(mktemp -d "${TMPDIR:-/tmp}/scn_cli_harden.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 2
cp "$FIX/nonneg_well_D.npy" D.npy && cp "$FIX/nonneg_well_X.npy" X.npy &&
    cp "$FIX/nonneg_well_G.npy" G.npy || exit 2

failures=0
fail() { failures=$((failures + 1)); echo "cli_harden: $*" >&2; }
# a hung run (a reader blocked on a FIFO) is killed and fails its check
if command -v timeout >/dev/null 2>&1; then T="timeout 20"; else T=""; fi
# layer ARGS...: scn layer on the fixture; rc and err.txt
layer() {
    $T "$SCN" layer --dict D.npy --input X.npy --lambda1 0.1 --lambda2 0.01 "$@" \
        >out.txt 2>err.txt
    rc=$?
}
# expect_fail WHAT PATTERN: the last run failed (not killed) naming PATTERN
expect_fail() {
    if [ $rc -eq 0 ] || [ $rc -ge 124 ]; then fail "$1: rc $rc"; return; fi
    grep -q -- "$2" err.txt || fail "$1: message lacks '$2': $(head -c 300 err.txt)"
}

# class 3: a symlinked output is written through, the link stays
mkdir s && echo old >real.npy && ln -s ../real.npy s/alpha.npy
layer --out s
[ $rc -eq 0 ] || fail "symlinked alpha.npy: rc $rc: $(cat err.txt)"
[ -L s/alpha.npy ] || fail "symlinked alpha.npy: the link was replaced by a file"
[ "$(head -c 6 real.npy | tail -c 5)" = NUMPY ] || fail "symlinked alpha.npy: target is stale"

# a chain of relative links across directories ends at the right file
mkdir -p chain/sub && echo old >chain/sub/final.npy && ln -s sub/final.npy chain/hop &&
    mkdir s3 && ln -s ../chain/hop s3/alpha.npy
layer --out s3
[ $rc -eq 0 ] || fail "two-hop link: rc $rc: $(cat err.txt)"
[ -L s3/alpha.npy ] && [ -L chain/hop ] || fail "two-hop link: a link was replaced"
[ "$(head -c 6 chain/sub/final.npy | tail -c 5)" = NUMPY ] || fail "two-hop link: target stale"

# devices, directories and missing directories are refused before the solve
mkdir dev && ln -s /dev/full dev/alpha.npy
layer --out dev
expect_fail "alpha.npy -> /dev/full" "not a regular file"
grep -q iterations out.txt && fail "alpha.npy -> /dev/full: refused only after the solve"
[ -c /dev/full ] || fail "/dev/full is no longer a device"
mkdir dir && mkdir dir/alpha.npy
layer --out dir
expect_fail "alpha.npy a directory" "is a directory"
mkdir grad && ln -s /dev/null grad/dX.npy
layer --grad G.npy --out grad
expect_fail "dX.npy -> /dev/null" "dX.npy"
[ -e grad/alpha.npy ] && fail "dX.npy -> /dev/null: alpha.npy written anyway"
layer --out missing/out
expect_fail "missing parent directory" "missing/out"
layer --out /dev/null
expect_fail "--out /dev/null" "not a directory\|Not a directory"

# a write cut short (file size limit, like a full disk) leaves the old
# alpha.npy as it was and no temporary behind
mkdir full && layer --grad G.npy --out full && cp full/dX.npy dX.good
# (2 blocks, not 1: LLVM's OpenMP runtime writes a 1 KB file of its own at
# start and dies of SIGBUS below that)
(trap '' XFSZ; ulimit -f 2; layer --grad G.npy --out full; exit $rc)
rc=$?
expect_fail "write past the file size limit" "write failed"
cmp -s full/dX.npy dX.good || fail "write past the file size limit: the old dX.npy was spoilt"
ls full | grep -q tmp && fail "write past the file size limit: temporary left: $(ls full)"

# class 1: more threads than the old 256-thread scratch, same bits
layer --grad G.npy --threads 1 --out t1
for n in 300 1024; do
    layer --grad G.npy --threads $n --out t$n
    [ $rc -eq 0 ] || fail "--threads $n: rc $rc: $(head -c 300 err.txt)"
    for f in alpha dD dX dlambda1; do
        cmp -s t1/$f.npy t$n/$f.npy || fail "--threads $n: $f.npy differs from --threads 1"
    done
done
OMP_NUM_THREADS=300 layer --grad G.npy --out omp300
[ $rc -eq 0 ] || fail "OMP_NUM_THREADS=300: rc $rc: $(head -c 300 err.txt)"
cmp -s t1/alpha.npy omp300/alpha.npy || fail "OMP_NUM_THREADS=300: alpha.npy differs"

# class 5: special files as inputs fail at once
mkfifo fifo.npy
$T "$SCN" layer --dict fifo.npy --input X.npy --lambda1 0.1 --lambda2 0.01 --out f \
    >out.txt 2>err.txt
rc=$?
expect_fail "--dict a FIFO" "fifo.npy"
$T "$SCN" layer --dict D.npy --input /dev/zero --lambda1 0.1 --lambda2 0.01 --out f \
    >out.txt 2>err.txt
rc=$?
expect_fail "--input /dev/zero" "/dev/zero"
$T "$SCN" eval --model /dev/zero >out.txt 2>err.txt
rc=$?
expect_fail "--model /dev/zero" "/dev/zero"
$T "$SCN" info --data fifo.npy >out.txt 2>err.txt
rc=$?
[ $rc -ge 124 ] && fail "info --data a FIFO: hung"

# class 6: CIFAR-10 with seven batches says it read all seven; a batch
# that is a directory is an error naming it
mkdir c10 && for k in 1 2 3 4 5 6 7; do head -c 3073 /dev/zero >c10/data_batch_$k.bin; done
head -c 3073 /dev/zero >c10/test_batch.bin
$T "$SCN" info --data c10 >out.txt 2>err.txt
rc=$?
[ $rc -eq 0 ] || fail "info on seven CIFAR batches: rc $rc: $(head -c 300 err.txt)"
grep -q "train: 7 items" out.txt && grep -q "data_batch_7.bin" out.txt ||
    fail "info on seven CIFAR batches: $(head -c 300 out.txt)"
rm c10/data_batch_3.bin && mkdir c10/data_batch_3.bin
$T "$SCN" info --data c10 >out.txt 2>err.txt
rc=$?
grep -q "data_batch_3.bin.*directory" out.txt err.txt ||
    fail "a CIFAR batch that is a directory: rc $rc: $(cat out.txt err.txt | head -c 300)"

# class 2: finite inputs whose product leaves float range fail, naming it
# npy1 FILE O1 O2 O3 O4: a (1, 1) '<f4' .npy holding the little-endian bytes
# given in octal (dash's printf knows no \x)
npy1() {
    dict="{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }"
    pad=$(( (64 - (10 + ${#dict} + 1) % 64) % 64 ))
    hlen=$(( ${#dict} + pad + 1 ))
    { printf '\223NUMPY\001\000'; printf "\\$(printf %03o $hlen)\\000"
      printf '%s' "$dict"; printf "%${pad}s\n" ''; printf "\\$2\\$3\\$4\\$5"; } >"$1"
}
npy1 D8.npy 000 000 000 101            # 8.0
npy1 Xbig.npy 231 166 226 176           # 1e38 (0x7e967699)
$T "$SCN" layer --dict D8.npy --input Xbig.npy --lambda1 0.1 --lambda2 0.01 --out big \
    >out.txt 2>err.txt
rc=$?
expect_fail "D^T X past FLT_MAX" "D^T X"
[ -e big/alpha.npy ] && fail "D^T X past FLT_MAX: alpha.npy written"

# an OpenMP runtime that gives a region fewer threads than asked
# (OMP_THREAD_LIMIT=1, OMP_DYNAMIC) and a huge OMP_NUM_THREADS: the same bits
layer --grad G.npy --threads 1 --out t1
layer_rc1=$rc
OMP_THREAD_LIMIT=1 $T "$SCN" layer --dict D.npy --input X.npy --lambda1 0.1 --lambda2 0.01 \
    --grad G.npy --threads 16 --out tl >out.txt 2>err.txt
rc=$?
[ $layer_rc1 -eq 0 ] && [ $rc -eq 0 ] || fail "OMP_THREAD_LIMIT=1 --threads 16: rc $rc: $(head -c 200 err.txt)"
cmp -s t1/dD.npy tl/dD.npy || fail "OMP_THREAD_LIMIT=1 --threads 16: dD differs from 1 thread"
OMP_NUM_THREADS=100000 $T "$SCN" layer --dict D.npy --input X.npy --lambda1 0.1 \
    --lambda2 0.01 --grad G.npy --out th >out.txt 2>err.txt
rc=$?
[ $rc -eq 0 ] || fail "OMP_NUM_THREADS=100000: rc $rc: $(head -c 200 err.txt)"
cmp -s t1/dD.npy th/dD.npy || fail "OMP_NUM_THREADS=100000: dD differs from 1 thread"

# scn train's outputs: the log is locked and checked like --out, never the
# checkpoint itself; a lock file that is a symlink is not written through;
# a file size limit is a message, not a kill
DATA_WRITER=$(dirname "$SCN")/test_data
if [ -x "$DATA_WRITER" ] && "$DATA_WRITER" --write "$TMP/data" >/dev/null 2>&1; then
    S="sc:n=4,s=2 bn gap linear:n=10"
    train() { $T "$SCN" train --data data/idx --batch 10 "$@" >out.txt 2>err.txt; rc=$?; }
    train --model "$S" --epochs 1 --out same.scn --log same.scn
    expect_fail "--log naming --out" "names the checkpoint"
    echo precious >victim && ln -s victim k.scn.lock
    train --model "$S" --epochs 1 --out k.scn
    expect_fail "a lock file that is a symlink" "k.scn.lock"
    [ "$(cat victim)" = precious ] || fail "a symlinked lock file: its target was written"
    train --model relu --epochs 1 --out relu.scn
    expect_fail "a model of 784 outputs for 10 classes" "784 outputs but the data has 10"
    # (8 KB: an OpenMP runtime may write a small file of its own at start;
    # the checkpoint of this net and its optimiser is about 10 KB)
    (ulimit -f 8; $T "$SCN" train --data data/idx --batch 10 --epochs 1 \
        --model "conv:n=64 gap linear:n=10" --out fs.scn >out.txt 2>err.txt); rc=$?
    expect_fail "a file size limit" "fs.scn"
    ls fs.scn.tmp* >/dev/null 2>&1 && fail "a file size limit left a temporary behind"
    # a cosine schedule resumed for more epochs anneals over the new count
    train --model "$S" --epochs 2 --cosine --out cos.scn
    train --model "$S" --epochs 4 --cosine --resume --out cos.scn
    [ $rc -eq 0 ] || fail "cosine resume: rc $rc: $(head -c 200 err.txt)"
    grep -q "anneals over 4 epochs (it was 2)" err.txt || fail "cosine resume: no note"
    grep -q "^epoch 3/4 lr 0.05 " out.txt || fail "cosine resume: epoch 3 not at lr 0.05"
    train --model "$S" --epochs 4 --resume --out cos.scn
    [ $rc -eq 0 ] && grep -q "nothing to do" out.txt || fail "resume past --epochs: no note"
    # a resume with other data options says which
    train --model "$S" --epochs 5 --cosine --resume --crop 2 --out cos.scn
    [ $rc -eq 0 ] || fail "resume with --crop 2: rc $rc: $(head -c 200 err.txt)"
    grep -q "trained on data data/idx, format auto, limit 0, per-class 0, crop 0" err.txt &&
        grep -q "now data data/idx, format auto, limit 0, per-class 0, crop 2" err.txt ||
        fail "resume with --crop 2: the change is not said: $(head -c 300 err.txt)"
    # repeated, hexadecimal and unordered values are refused
    train --model "$S" --epochs 1 --epochs 2 --out rep.scn
    expect_fail "--epochs given twice" "given twice"
    train --model "$S" --epochs 0x2 --out hex.scn
    expect_fail "--epochs 0x2" "need an integer"
    train --model "$S" --epochs 3 --milestones 2,1 --out ms.scn
    expect_fail "--milestones 2,1" "increasing"
    # a FIFO among a folder's images is refused by name, not skipped
    cls=$(ls data/folder/train | head -n 1)
    mkfifo "data/folder/train/$cls/zz.png"
    $T "$SCN" info --data data/folder >out.txt 2>err.txt
    grep -q "zz.png: not a regular file" out.txt err.txt ||
        fail "a FIFO among a folder's images: not named ($(head -c 200 out.txt))"
else
    fail "no $DATA_WRITER to write the data sets"
fi

[ $failures -eq 0 ] || { echo "cli_harden: $failures checks failed" >&2; exit 1; }
