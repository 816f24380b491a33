#!/usr/bin/env bash
# test_cli.sh - end-to-end tests of the scn command-line tool.
#
#   tests/test_cli.sh bin/scn
#
# Writes its own .npy inputs with printf (no Python needed), runs the tool
# on good and bad inputs and checks exit codes, output files and messages.
# Silent on success; on failure prints one line per failed check and a
# summary to stderr, and exits 1.
# The checks use bash (arrays, [[ =~ ]]); started by sh, start again in bash.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -u
export LC_ALL=C

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH/TO/scn (an executable)" >&2
    exit 2
fi
case $1 in
    /*) SCN=$1 ;;
    *) SCN=$PWD/$1 ;;
esac

TMP=$(mktemp -d "${TMPDIR:-/tmp}/scn_cli.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 2

failures=0
checks=0

fail() {
    failures=$((failures + 1))
    echo "test_cli: $*" >&2
}

# check DESCRIPTION CONDITION...: counts a check, reports it if CONDITION fails
check() {
    local what=$1
    shift
    checks=$((checks + 1))
    if ! "$@"; then fail "$what"; fi
}

# Kills a hung run after 60 s where timeout(1) exists.
if command -v timeout >/dev/null 2>&1; then
    TIMEOUT="timeout 60"
else
    TIMEOUT=""
fi

# run ARGS...: runs the tool; sets rc, leaves its output in out.txt and
# err.txt and their lines in the arrays OUT and ERR (no forks: checks stay cheap)
run() {
    $TIMEOUT "$SCN" "$@" >out.txt 2>err.txt
    rc=$?
    mapfile -t OUT <out.txt
    mapfile -t ERR <err.txt
    ERRTEXT=${ERR[*]:0:3}
    ERRTEXT=${ERRTEXT:0:300}
}

# matches REGEX LINE...: some LINE matches the extended regex (any case)
matches() {
    local re=$1 line
    shift
    shopt -s nocasematch
    for line in "$@"; do
        if [[ $line =~ $re ]]; then shopt -u nocasematch; return 0; fi
    done
    shopt -u nocasematch
    return 1
}

# npy FILE SHAPE WORD...: a version 1.0 '<f4' .npy file; SHAPE is the Python
# tuple, e.g. "(2, 3)"; each WORD is a float32 as 8 hex digits (3f800000 = 1).
npy() {
    local file=$1 shape=$2 dict pad hlen w
    shift 2
    dict="{'descr': '<f4', 'fortran_order': False, 'shape': $shape, }"
    # magic (6) + version (2) + length (2) + dict + spaces + '\n' = 64 k bytes
    pad=$(( (64 - (10 + ${#dict} + 1) % 64) % 64 ))
    hlen=$(( ${#dict} + pad + 1 ))
    {
        printf '\x93NUMPY\x01\x00'
        printf "\\x$(printf %02x $((hlen & 255)))\\x$(printf %02x $((hlen >> 8)))"
        printf '%s' "$dict"
        printf "%${pad}s" ''
        printf '\n'
        for w in "$@"; do
            printf "\\x${w:6:2}\\x${w:4:2}\\x${w:2:2}\\x${w:0:2}"
        done
    } >"$file"
}

# float32 words
ZERO=00000000 ONE=3f800000 HALF=3f000000 TWO=40000000 MONE=bf800000
QUART=3e800000 P6=3f19999a P8=3f4ccccd P05=3d4ccccd ONEHALF=3fc00000

# D (2 x 3), unit columns; X (2 x 4); G (3 x 4)
npy D.npy "(2, 3)" $ONE $ZERO $P6  $ZERO $ONE $P8
npy X.npy "(2, 4)" $ONE $HALF $ZERO $TWO  $HALF $ONE $QUART $MONE
npy G.npy "(3, 4)" $ONE $MONE $HALF $ZERO  $QUART $ONE $ZERO $TWO  $MONE $HALF $ONE $ONEHALF
# wrong shapes and broken files
npy D3.npy "(2, 3, 1)" $ONE $ZERO $P6 $ZERO $ONE $P8
npy X3.npy "(3, 4)" $ONE $HALF $ZERO $TWO $HALF $ONE $QUART $MONE $ONE $ONE $ONE $ONE
npy G43.npy "(4, 3)" $ONE $MONE $HALF $ZERO $QUART $ONE $ZERO $TWO $MONE $HALF $ONE $ONEHALF
npy G34x.npy "(3, 5)" $ONE $MONE $HALF $ZERO $QUART $ONE $ZERO $TWO $MONE $HALF $ONE \
    $ONEHALF $ONE $ONE $ONE
head -c $(( $(wc -c <D.npy) - 4 )) D.npy >Dtrunc.npy
head -c 40 D.npy >Dhead.npy
printf 'this is not a numpy file\n1 2 3\n4 5 6\n' >text.npy
: >empty.npy

# the magic and size of what npy() wrote: a check of the helper itself
check "npy helper: D.npy is $(wc -c <D.npy) bytes, want 128 + 24" test "$(wc -c <D.npy)" -eq 152

magic() { [ "$(head -c 6 "$1" | od -An -tx1 | tr -d ' \n')" = "934e554d5059" ]; }

# npy_shape FILE: the shape tuple in the header of FILE
npy_shape() { head -c 128 "$1" | tr -d '\000' | sed -n "s/.*'shape': \(([0-9, ]*)\).*/\1/p"; }

# floats FILE: the float32 data of a 128-byte-header .npy, one per line
floats() { od -An -v -tf4 -j 128 "$1" | tr -s ' ' '\n' | sed '/^$/d'; }

# near FILE V...: the data of FILE equals V... within 1e-4 (relative)
near() {
    local file=$1
    shift
    floats "$file" | awk -v want="$*" '
        BEGIN { n = split(want, w, " ") }
        { got[++m] = $1 }
        END {
            if (m != n) exit 1
            for (i = 1; i <= n; i++) {
                d = got[i] - w[i]; if (d < 0) d = -d
                s = w[i] < 0 ? -w[i] : w[i]; if (s < 1) s = 1
                if (d > 1e-4 * s) exit 1
            }
        }'
}

not_signal() { [ "$rc" -lt 128 ]; }
# not COMMAND...: COMMAND fails
not() { ! "$@"; }

# ------------------------------------------------------------ help / usage

run --help
check "scn --help: exit $rc" test "$rc" -eq 0
check "scn --help: no usage on stdout" matches usage "${OUT[@]}"
run -h
check "scn -h: exit $rc" test "$rc" -eq 0
run layer --help
check "scn layer --help: exit $rc" test "$rc" -eq 0
check "scn layer --help: no usage on stdout" matches usage "${OUT[@]}"
check "scn layer --help: does not describe --dict" matches --dict "${OUT[@]}"
run
check "scn (no arguments): exit $rc, want non-zero" test "$rc" -ne 0
check "scn (no arguments): crashed (exit $rc)" not_signal
check "scn (no arguments): no usage on stderr" matches usage "${ERR[@]}"
run bogus
check "scn bogus: exit $rc, want non-zero" test "$rc" -ne 0
check "scn bogus: crashed (exit $rc)" not_signal
check "scn bogus: does not name the command" matches bogus "${ERR[@]}"

# ------------------------------------------------------------------ good runs

run layer --dict D.npy --input X.npy --lambda1 0.1 --lambda2 0.1 --out out1
check "good run: exit $rc ($ERRTEXT)" test "$rc" -eq 0
check "good run: stdout is ${#OUT[@]} lines, want 1" test "${#OUT[@]}" -eq 1
check "good run: stdout does not start with 'iterations'" matches '^iterations' "${OUT[0]-}"
check "good run: wrote to stderr: $ERRTEXT" test ! -s err.txt
check "good run: no out1/alpha.npy" test -f out1/alpha.npy
if [ -f out1/alpha.npy ]; then
    check "good run: alpha.npy has no npy magic" magic out1/alpha.npy
    got_shape=$(npy_shape out1/alpha.npy)
    got_bytes=$(wc -c <out1/alpha.npy)
    check "good run: alpha.npy shape '$got_shape', want (3, 4)" test "$got_shape" = "(3, 4)"
    check "good run: alpha.npy is $got_bytes bytes, want 128 + 48" test "$got_bytes" -eq 176
fi
check "good run without --grad wrote dD.npy" test ! -e out1/dD.npy

run layer --dict D.npy --input X.npy --lambda1 0.1 --lambda2 0.1 --grad G.npy --out out2
check "run with --grad: exit $rc ($ERRTEXT)" test "$rc" -eq 0
check "run with --grad: stdout does not start with 'iterations'" matches '^iterations' "${OUT[0]-}"
check "run with --grad: stdout is ${#OUT[@]} lines, want 1" test "${#OUT[@]}" -eq 1
# name, shape, bytes (128-byte header + 4 per float)
for spec in "alpha (3, 4) 176" "dD (2, 3) 152" "dX (2, 4) 160" "dlambda1 (1,) 132"; do
    name=${spec%% *}
    bytes=${spec##* }
    shape=${spec#* }
    shape=${shape% *}
    f=out2/$name.npy
    check "run with --grad: no $f" test -f "$f"
    [ -f "$f" ] || continue
    got_shape=$(npy_shape "$f")
    got_bytes=$(wc -c <"$f")
    check "run with --grad: $f has no npy magic" magic "$f"
    check "run with --grad: $f shape '$got_shape', want $shape" test "$got_shape" = "$shape"
    check "run with --grad: $f is $got_bytes bytes, want $bytes" test "$got_bytes" -eq "$bytes"
done

# Values: with D = I the codes are soft thresholds, alpha = max(x - l1, 0)/(1 + l2)
# (signed: sign(x) max(|x| - l1, 0)/(1 + l2)), laid out n x P.
npy I.npy "(2, 2)" $ONE $ZERO $ZERO $ONE
npy XI.npy "(2, 3)" $ONE $ZERO $MONE  $P05 $TWO $HALF
run layer --dict I.npy --input XI.npy --lambda1 0.1 --lambda2 0.1 --out out3
check "identity dictionary: exit $rc ($ERRTEXT)" test "$rc" -eq 0
check "identity dictionary: alpha is [$(floats out3/alpha.npy | tr '\n' ' ')], want \
[0.818182 0 0 0 1.727273 0.363636]" near out3/alpha.npy 0.8181818 0 0 0 1.7272727 0.3636364
run layer --dict I.npy --input XI.npy --lambda1 0.1 --lambda2 0.1 --signed --out out4
check "identity dictionary, --signed: exit $rc ($ERRTEXT)" test "$rc" -eq 0
check "identity dictionary, --signed: alpha is [$(floats out4/alpha.npy | tr '\n' ' ')], \
want [0.818182 0 -0.818182 0 1.727273 0.363636]" \
    near out4/alpha.npy 0.8181818 0 -0.8181818 0 1.7272727 0.3636364

# a dictionary read from a pipe (no size known in advance)
run layer --dict <(cat D.npy) --input X.npy --lambda1 0.1 --lambda2 0.1 --out out5
check "dictionary from a pipe: exit $rc ($ERRTEXT)" test "$rc" -eq 0
check "dictionary from a pipe: alpha differs from the file run" cmp -s out1/alpha.npy out5/alpha.npy

# the other options are accepted
run layer --dict D.npy --input X.npy --lambda1 0 --lambda2 0.5 --tol 1e-6 --max-iter 50 \
    --no-polish --threads 1 --out out1
check "run with --tol --max-iter --no-polish --threads (into an existing dir): exit $rc \
($ERRTEXT)" test "$rc" -eq 0

# ------------------------------------------------------------------- bad runs

# bad NAME PATTERN ARGS...: the run must fail (not by a signal), print exactly
# one line to stderr, and that line must match the extended regex PATTERN
bad() {
    local name=$1 pattern=$2
    shift 2
    run "$@"
    check "$name: exit $rc, want non-zero" test "$rc" -ne 0
    check "$name: crashed (exit $rc)" not_signal
    check "$name: stderr is ${#ERR[@]} lines, want 1: $ERRTEXT" test "${#ERR[@]}" -eq 1
    check "$name: stderr '$ERRTEXT' does not match /$pattern/" matches "$pattern" "${ERR[@]}"
}

L="--lambda1 0.1 --lambda2 0.1"
bad "missing --dict" "--dict" layer --input X.npy $L --out o
bad "missing --input" "--input" layer --dict D.npy $L --out o
bad "missing --out" "--out" layer --dict D.npy --input X.npy $L
bad "missing --lambda2" "lambda2" layer --dict D.npy --input X.npy --lambda1 0.1 --out o
bad "unknown flag" "unknown.*--frobnicate|--frobnicate.*unknown" \
    layer --dict D.npy --input X.npy $L --frobnicate --out o
bad "flag without a value" "--dict" layer --input X.npy $L --out o --dict
bad "--lambda1 abc" "lambda1" layer --dict D.npy --input X.npy --lambda1 abc --lambda2 0.1 --out o
bad "--lambda1 -1" "lambda1" layer --dict D.npy --input X.npy --lambda1 -1 --lambda2 0.1 --out o
bad "--lambda1 nan" "lambda1" layer --dict D.npy --input X.npy --lambda1 nan --lambda2 0.1 --out o
bad "--lambda2 1e99" "lambda2" layer --dict D.npy --input X.npy --lambda1 0.1 --lambda2 1e99 --out o
bad "--max-iter 0" "max-iter" layer --dict D.npy --input X.npy $L --max-iter 0 --out o
bad "--max-iter 2.5" "max-iter" layer --dict D.npy --input X.npy $L --max-iter 2.5 --out o
bad "--tol x" "tol" layer --dict D.npy --input X.npy $L --tol x --out o
bad "--tol 0" "tol" layer --dict D.npy --input X.npy $L --tol 0 --out o
bad "--threads 0" "threads" layer --dict D.npy --input X.npy $L --threads 0 --out o
bad "nonexistent dictionary" "nowhere/D\\.npy" \
    layer --dict nowhere/D.npy --input X.npy $L --out o
bad "nonexistent input" "missing_X\\.npy" layer --dict D.npy --input missing_X.npy $L --out o
bad "truncated .npy (data)" "Dtrunc\\.npy.*(truncat|bytes|short|size)" \
    layer --dict Dtrunc.npy --input X.npy $L --out o
bad "truncated .npy (header)" "Dhead\\.npy" layer --dict Dhead.npy --input X.npy $L --out o
bad "text file as .npy" "text\\.npy.*(npy|magic|format)" \
    layer --dict text.npy --input X.npy $L --out o
mkdir adir
bad "directory as dictionary" "adir" layer --dict adir --input X.npy $L --out o
bad "empty file as .npy" "empty\\.npy" layer --dict empty.npy --input X.npy $L --out o
bad "3-d dictionary" "D3\\.npy.*(2-d|dimension|ndim|matrix)" layer --dict D3.npy --input X.npy $L --out o
bad "3-d input" "D3\\.npy.*(2-d|dimension|ndim|matrix)" layer --dict D.npy --input D3.npy $L --out o
bad "X with the wrong number of rows" "X3\\.npy.*rows" layer --dict D.npy --input X3.npy $L --out o
bad "G of shape 4 x 3" "G43\\.npy.*(3 x 4|shape|n x P)" layer --dict D.npy --input X.npy $L --grad G43.npy --out o
bad "G of shape 3 x 5" "G34x\\.npy.*(3 x 4|shape|n x P)" layer --dict D.npy --input X.npy $L --grad G34x.npy --out o
bad "3-d G" "D3\\.npy.*(3 x 4|shape|n x P|2-d)" layer --dict D.npy --input X.npy $L --grad D3.npy --out o
bad "--out under a nonexistent parent" "no/such/dir" \
    layer --dict D.npy --input X.npy $L --out no/such/dir
check "--out under a nonexistent parent: created something" test ! -e no
printf 'x' >plainfile
bad "--out is a regular file" "plainfile" layer --dict D.npy --input X.npy $L --out plainfile

# scn bench: the exact two-line output scripts parse, and its errors
"$SCN" bench layer --batch 2 --channels 2 --size 6 --atoms 4 --iters 3 --reps 3 >bench.out 2>&1
check "bench layer exits 0" test $? -eq 0
check "bench layer prints 'forward <seconds>' then 'forward+backward <seconds>'" \
    grep -qzE '^forward [0-9.]+
forward\+backward [0-9.]+
$' bench.out
"$SCN" bench step --model "sc:n=4 bn gap linear:n=10" --batch 4 --steps 2 --warmup 1 >step.out 2>&1
check "bench step exits 0" test $? -eq 0
check "bench step prints images/s and peak_rss_mb" \
    grep -qzE '^images/s [0-9.]+
peak_rss_mb [0-9.]+
$' step.out
bad "bench without a benchmark" "layer.*step" bench
bad "bench of an unknown benchmark" "layer.*step" bench gemm
bad "bench layer --iters 0" "iters" bench layer --iters 0
bad "bench step with a bad model" "frobnicate" bench step --model frobnicate

# --------------------------------------------------------------- data sets

# One small set per format (40 train, 20 test items; STL-10 also 10
# unlabeled), written by test_data, which sits next to scn in bin/.
DATA_WRITER=$(dirname "$SCN")/test_data
if [ -x "$DATA_WRITER" ]; then
    "$DATA_WRITER" --write "$TMP/data" >writer.txt 2>&1
    rc=$?
    check "test_data --write: exit $rc ($(head -c 300 writer.txt))" test "$rc" -eq 0
else
    fail "no $DATA_WRITER (make bin/test_data) to write the data sets"
fi

# format, its classifier, then a model small enough for a quick epoch
# (STL-10's 96x96 images: stride 4)
for spec in "idx 10 s=2" "cifar10 10 s=2" "cifar100 100 s=2" "stl10 10 s=4" "amat 10 s=2" \
            "folder 10 s=2"; do
    read -r fmt classes stride <<<"$spec"
    dir=data/$fmt
    [ -d "$dir" ] || continue
    run info --data "$dir"
    check "info $fmt: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "info $fmt: no 'format $fmt' in: ${OUT[*]:0:2}" matches ": format $fmt\$" "${OUT[@]}"
    check "info $fmt: no 'train: 40 items'" matches '^train: 40 items' "${OUT[@]}"
    check "info $fmt: no 'test: 20 items'" matches '^test: 20 items' "${OUT[@]}"
    if [ "$fmt" = stl10 ]; then
        check "info stl10: no 'unlabeled: 10 items ..., no labels'" \
            matches '^unlabeled: 10 items .*no labels' "${OUT[@]}"
    fi
    run train --data "$dir" --model "sc:n=4,$stride bn gap linear:n=$classes" --epochs 1 \
        --batch 10 --out "$fmt.scn"
    check "train $fmt: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "train $fmt: no line 'epoch 1/1 ...'" matches '^epoch 1/1 ' "${OUT[@]}"
    check "train $fmt: no '40 train, 20 test'" matches "40 train, 20 test, .*$classes classes" \
        "${OUT[@]}"
    check "train $fmt: no checkpoint $fmt.scn" test -f "$fmt.scn"
    run eval --model "$fmt.scn" --data "$dir"
    check "eval $fmt: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "eval $fmt: no 'test accuracy:'" matches '^test accuracy: [0-9.]+%' "${OUT[@]}"
done

if [ -d data/cifar100 ]; then
    run train --data data/cifar100 --format cifar100-coarse \
        --model "sc:n=4,s=2 bn gap linear:n=20" --epochs 1 --batch 10 --out coarse.scn
    check "train cifar100-coarse: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "train cifar100-coarse: not 20 classes" matches '40 train, 20 test, .*, 20 classes' \
        "${OUT[@]}"
    check "train cifar100-coarse: no 'epoch 1/1'" matches '^epoch 1/1 ' "${OUT[@]}"
    run eval --model coarse.scn --data data/cifar100 --format cifar100-coarse
    check "eval cifar100-coarse: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "eval cifar100-coarse: no 'test accuracy:'" matches '^test accuracy:' "${OUT[@]}"
    run train --data data/cifar100 --model "sc:n=4,s=2 bn gap linear:n=10" --epochs 1 \
        --batch 10 --out fine10.scn
    check "cifar100 with 10 outputs: exit $rc, want non-zero" test "$rc" -ne 0
    check "cifar100 with 10 outputs: crashed (exit $rc)" not_signal
    check "cifar100 with 10 outputs: '$ERRTEXT' does not name 10 outputs and 100 classes" \
        matches '10 outputs.*100 classes' "${ERR[@]}"
fi

if [ -d data/cifar10 ]; then
    run train --data data/cifar10 --model "sc:n=4,s=2 bn gap linear:n=10" --epochs 1 \
        --batch 10 --per-class 2 --out perclass.scn
    check "--per-class 2: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "--per-class 2: no 'training on 20 images: 2 of each class'" \
        matches '^training on 20 images: 2 of each class' "${OUT[@]}"
    check "--per-class 2: no 'epoch 1/1'" matches '^epoch 1/1 ' "${OUT[@]}"
    run train --data data/cifar10 --model "sc:n=4,s=2 bn gap linear:n=10" --epochs 1 \
        --batch 10 --per-class 5 --out perclass5.scn
    check "--per-class 5 of 4: exit $rc, want non-zero" test "$rc" -ne 0
    check "--per-class 5 of 4: crashed (exit $rc)" not_signal
    check "--per-class 5 of 4: '$ERRTEXT' does not say fewer than k" \
        matches 'class [0-9]+ has 4 items, fewer than k = 5' "${ERR[@]}"
    # semi-supervised (SF section 4.4): the rest of the split without labels
    run train --data data/cifar10 --model "sc:n=4,s=2,signed gap linear:n=10" --epochs 2 \
        --batch 10 --per-class 2 --unlabelled 10 --mu 0.5,0 --out semi.scn
    check "--unlabelled 10: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "--unlabelled 10: no 'and 10 images without their labels'" \
        matches '^and 10 images without their labels \(mu 0.5,0\)' "${OUT[@]}"
    check "--unlabelled 10: epoch 1 not at mu 0.5" matches '^epoch 1/2 .* mu 0.5$' "${OUT[@]}"
    check "--unlabelled 10: epoch 2 not at mu 0" matches '^epoch 2/2 .* mu 0$' "${OUT[@]}"
    for bad in "--unlabelled 10:needs --per-class or --limit" \
               "--per-class 2 --unlabelled 21:only 20 training images are left unlabelled" \
               "--per-class 2 --unlabelled 0:need a count of images or all" \
               "--per-class 2 --mu 1.5:need up to 8 values in \[0, 1\]" \
               "--per-class 2 --mu 0.5,0 --mu-epochs 1,2:need 1 increasing epochs" \
               "--per-class 2 --mu-epochs 1:--mu-epochs needs --mu"; do
        args=${bad%%:*}
        want=${bad#*:}
        # shellcheck disable=SC2086
        run train --data data/cifar10 --model "sc:n=4,s=2 gap linear:n=10" --epochs 1 \
            --batch 10 $args --out semibad.scn
        check "$args: exit $rc, want non-zero" test "$rc" -ne 0
        check "$args: '$ERRTEXT' does not say '$want'" matches "$want" "${ERR[@]}"
    done
    run train --data data/cifar10 --model "conv:n=4,s=2 gap linear:n=10" --epochs 1 \
        --batch 10 --per-class 2 --unlabelled all --out semiconv.scn
    check "--unlabelled without a sparse-coding layer: exit $rc, want non-zero" test "$rc" -ne 0
    check "--unlabelled without a sparse-coding layer: '$ERRTEXT'" matches 'sparse-coding' \
        "${ERR[@]}"
    # the limited-labels experiment: one 'MODEL K MEAN SD' line per model and K
    run limited --data data/cifar10 --per-class 1,2 --trials 2 --epochs 2 \
        --models lenet-paper,lenet-csf --unlabelled all --csv limited.csv
    check "limited: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "limited: ${#OUT[@]} lines on stdout, want 4" test "${#OUT[@]}" -eq 4
    for line in "lenet-paper 1" "lenet-csf 1" "lenet-paper 2" "lenet-csf 2"; do
        check "limited: no line '$line MEAN SD'" \
            matches "^$line [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2}$" "${OUT[@]}"
    done
    check "limited: lenet-paper not said to train supervised" \
        matches 'lenet-paper has no sparse-coding layer: trained supervised' "${ERR[@]}"
    check "limited: no CSV of 8 runs" test "$(wc -l <limited.csv)" -eq 9
    run limited --data data/cifar10 --per-class 5 --trials 1 --models lenet-paper
    check "limited --per-class 5 of 4: exit $rc, want non-zero" test "$rc" -ne 0
    check "limited --per-class 5 of 4: '$ERRTEXT'" matches '50 images, more than the 40' \
        "${ERR[@]}"
    run limited --data data/cifar10 --per-class 1 --trials 1 --models lenet-paper,nonesuch
    check "limited with an unknown model: exit $rc, want non-zero" test "$rc" -ne 0
    check "limited with an unknown model: '$ERRTEXT'" matches "nonesuch" "${ERR[@]}"
    run train --data data/cifar10 --model "sc:n=4,s=2 bn gap linear:n=10" --epochs 1 \
        --batch 10 --crop 2 --flip --out cropflip.scn
    check "--crop 2 --flip: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "--crop 2 --flip: no 'epoch 1/1'" matches '^epoch 1/1 ' "${OUT[@]}"
    # the paper's recipes (SCN section 5): the values said and overridden,
    # batch-shared augmentation, the mean image through scn eval
    run train --data data/cifar10 --model "sc:n=4,s=2 bn gap linear:n=10" --epochs 1 \
        --batch 10 --crop 2 --flip --batch-augment --out shared.scn
    check "--batch-augment: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "--batch-augment: no 'epoch 1/1'" matches '^epoch 1/1 ' "${OUT[@]}"
    run train --data data/cifar10 --recipe scn-cifar --model "sc:n=4,s=2 bn gap linear:n=10" \
        --epochs 1 --batch 10 --crop 3 --no-flip --out recipe.scn
    check "--recipe scn-cifar: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "--recipe scn-cifar: the values said are not the recipe's with the overrides" \
        matches '^recipe scn-cifar \(CIFAR-10, CIFAR-100\): --model sc:n=4,s=2 bn gap linear:n=10 --epochs 1 --batch 10 --lr 0\.1 --momentum 0\.9 --wd 0\.0005 --wd-lambda1 --crop 3 --batch-augment --normalize pixel$' \
        "${OUT[@]}"
    train_acc=$(sed -n 's/^epoch 1\/1 .* test \([0-9.]*%\).*/\1/p' out.txt)
    run eval --model recipe.scn --data data/cifar10
    check "eval of a --recipe scn-cifar checkpoint: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "eval of the mean-image checkpoint: not the training run's test accuracy $train_acc" \
        matches "^test accuracy: $train_acc\$" "${OUT[@]}"
    run train --data data/cifar10 --recipe scn-imagenet --out never3.scn
    check "--recipe scn-imagenet: exit $rc, want non-zero" test "$rc" -ne 0
    check "--recipe scn-imagenet: '$ERRTEXT' does not list the recipes" \
        matches 'no recipe "scn-imagenet" \(the recipes: scn-cifar, scn-stl, scn-mnist-paper\)' \
        "${ERR[@]}"
    for bad in "--normalize mean:--normalize mean: channel or pixel" \
               "--batch-augment --no-batch-augment:exclude each other" \
               "--wd-lambda1 --no-wd-lambda1:exclude each other"; do
        args=${bad%%:*}
        want=${bad#*:}
        # shellcheck disable=SC2086
        run train --data data/cifar10 --epochs 1 $args --out never3.scn
        check "$args: exit $rc, want non-zero" test "$rc" -ne 0
        check "$args: '$ERRTEXT' does not say '$want'" matches "$want" "${ERR[@]}"
    done
    check "a refused recipe run wrote never3.scn" test ! -e never3.scn
    # a checkpoint's input shape against another data set's
    if [ -f stl10.scn ]; then
        run eval --model stl10.scn --data data/cifar10
        check "eval of a 96x96 model on 32x32 data: exit $rc, want non-zero" test "$rc" -ne 0
        check "eval of a 96x96 model on 32x32 data: crashed (exit $rc)" not_signal
        check "eval of a 96x96 model on 32x32 data: '$ERRTEXT' gives no sizes" \
            matches '3x96x96.*3x32x32' "${ERR[@]}"
    fi
fi

mkdir empty_data
run info --data empty_data
check "info on an empty directory: exit $rc, want non-zero" test "$rc" -ne 0
check "info on an empty directory: crashed (exit $rc)" not_signal
check "info on an empty directory: '$ERRTEXT' does not say no data set in empty_data" \
    matches 'empty_data.*no data set' "${ERR[@]}"
run train --data empty_data --epochs 1 --out never.scn
check "train on an empty directory: exit $rc, want non-zero" test "$rc" -ne 0
check "train on an empty directory: '$ERRTEXT' does not name empty_data" \
    matches 'empty_data' "${ERR[@]}"
check "train on an empty directory wrote a checkpoint" test ! -e never.scn

# scn limited on the .amat files the SF paper uses, with a spec for a model
if [ -d data/amat ]; then
    run limited --data data/amat --format amat --per-class 2 --trials 2 --epochs 1 \
        --models "sc:n=4 gap linear:n=10" --unlabelled 5
    check "limited --format amat: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "limited --format amat: no 'MODEL 2 MEAN SD' line in '${OUT[*]}'" \
        matches '^sc:n=4 gap linear:n=10 2 [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2}$' "${OUT[@]}"
fi

# scn sweep-ddse: DDSE and its five baselines, one RATIO MODEL ERROR line per
# model and ratio; the four dense baselines are trained once
if [ -d data/idx ]; then
    keep=$TIMEOUT
    [ -n "$TIMEOUT" ] && TIMEOUT="timeout 300"      # eight 4M-parameter nets
    run sweep-ddse --data data/idx --ratios 0.1,0.25 --epochs 1 --batch 10 --limit 10 \
        --test-limit 10 --csv sweep.csv
    TIMEOUT=$keep
    check "sweep-ddse: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "sweep-ddse: ${#OUT[@]} lines on stdout, want 12" test "${#OUT[@]}" -eq 12
    i=0
    for ratio in 0.1 0.25; do
        for model in ddse-mnist ddse-fc ddse-fc-dropout ddse-fc-dropconnect ddse-lista \
                     ddse-noshortcut; do
            check "sweep-ddse: line $i is '${OUT[$i]}', want '$ratio $model ERROR'" \
                matches "^$ratio $model [0-9]+\.[0-9]{2}\$" "${OUT[$i]}"
            i=$((i + 1))
        done
    done
    check "sweep-ddse: the dense baselines differ between ratios" \
        test "${OUT[1]}" = "${OUT[7]/0.25/0.1}"
    check "sweep-ddse --csv: $(wc -l < sweep.csv) lines, want 9 (header, 4 + 2 x 2 runs)" \
        test "$(wc -l < sweep.csv)" -eq 9
    check "sweep-ddse: no time per epoch on stderr" matches 's per epoch' "${ERR[@]}"
    bad "sweep-ddse on 32 x 32 images" "28 x 28" sweep-ddse --data data/cifar10 --ratios 0.25
    run sweep-ddse --data data/idx --ratios 0.25 --models ddse-fc --epochs 1 --batch 10 \
        --limit 10 --test-limit 10
    check "sweep-ddse --models ddse-fc: '${OUT[*]}', want one line" \
        test "${#OUT[@]}" -eq 1 -a "${OUT[0]%% [0-9]*.[0-9][0-9]}" = "0.25 ddse-fc"
fi
bad "sweep-ddse --models with an unknown name" "not one of" sweep-ddse --ratios 0.25 \
    --models ddse-fc,lenet
bad "sweep-ddse without --ratios" "ratios" sweep-ddse
bad "sweep-ddse --ratios 1.5" "ratios" sweep-ddse --ratios 0.25,1.5

# divergence: lr 1000 gives a NaN loss; training stops with a message, and
# the checkpoint left there (the last good epoch) still evaluates
if [ -d data/amat ]; then
    run train --data data/amat --model "sc:n=8 bn gap linear:n=10" --lr 1000 --epochs 3 \
        --batch 10 --out diverged.scn
    check "diverging run: exit $rc, want non-zero" test "$rc" -ne 0
    check "diverging run: crashed (exit $rc)" not_signal
    check "diverging run: '$ERRTEXT' does not say what the checkpoint keeps" \
        matches 'keeps epoch|before the first checkpoint' "${ERR[@]}"
    if matches 'keeps epoch' "${ERR[@]}"; then
        check "diverging run: it says a checkpoint keeps an epoch, but there is none" \
            test -f diverged.scn
        run eval --model diverged.scn --data data/amat
        check "eval of the diverged run's checkpoint: exit $rc ($ERRTEXT)" test "$rc" -eq 0
        check "eval of the diverged run's checkpoint: no 'test accuracy:'" \
            matches '^test accuracy:' "${OUT[@]}"
    else
        check "diverging run: stopped before the first checkpoint, but one is there" \
            test ! -e diverged.scn
    fi
    check "diverging run: left diverged.scn.tmp behind" test ! -e diverged.scn.tmp
fi

# test labels beyond the model's classes are refused, not scored as wrong
if [ -f cifar10.scn ] && [ -d data/cifar100 ]; then
    run eval --model cifar10.scn --data data/cifar100
    check "eval of a 10-class model on 100 classes: exit $rc, want non-zero" test "$rc" -ne 0
    check "eval of a 10-class model on 100 classes: '$ERRTEXT'" \
        matches '10 outputs but the data has 100 classes' "${ERR[@]}"
fi

# --------------------------------------------------------------- layer kinds

# --help lists every kind and its options from the library's tables
run train --help
check "train --help: exit $rc" test "$rc" -eq 0
for recipe in "scn-cifar +scn-cifar +128 +200 +0.1 80,160 +4 +yes +pixel" \
              "scn-stl +scn-cifar +16 +200 +0.1 80,160 +12 +yes +pixel" \
              "scn-mnist-paper +scn-mnist-paper +128 +25 +0.1 10,20 +0 +no +channel"; do
    check "train --help does not list the recipe '$recipe'" matches "^ +$recipe\$" "${OUT[@]}"
done
check "train --help does not say options override a recipe" \
    matches 'options given on the command line override the recipe' "${OUT[@]}"
check "train --help does not offer --normalize pixel" matches '^  --normalize M channel' \
    "${OUT[@]}"
for word in sc csf sf bn conv linear relu maxpool avgpool gap flatten dropout pca ddse lista res; do
    check "train --help does not list the layer word '$word'" matches "^  $word " "${OUT[@]}"
done
for opt in n k s valid l1 l2 signed iters tol norm local learn lr frozen p dropconnect nnz \
    every shortcut; do
    check "train --help does not list the option '$opt'" matches "^      $opt " "${OUT[@]}"
done
check "train --help does not list the presets" \
    matches '^presets: scn-mnist scn-cifar scn-mnist-paper lenet lenet-paper lenet-csf lenet-sf lenet-csf-sf ddse-mnist ddse-fc ddse-fc-dropout ddse-fc-dropconnect ddse-lista ddse-noshortcut resnet-tiny' "${OUT[@]}"

# an option the kind does not have: one line naming the kind and its options
run train --model "bn:l1=3 gap linear:n=10" --out never2.scn
check "bn:l1=3: exit $rc, want non-zero" test "$rc" -ne 0
check "bn:l1=3: ${#ERR[@]} lines on stderr, want 1 ($ERRTEXT)" test "${#ERR[@]}" -eq 1
check "bn:l1=3: '$ERRTEXT' does not name bn and its options" \
    matches "'bn' has no option 'l1' \(its options: lr, frozen\)" "${ERR[@]}"
check "bn:l1=3 wrote a checkpoint" test ! -e never2.scn

# outputs are checked before any training: a missing directory, a device
run train --model "sc:n=4 gap linear:n=10" --out nodir/x.scn
check "--out in a missing directory: exit $rc, want non-zero" test "$rc" -ne 0
check "--out in a missing directory: trained first" not matches '^epoch' "${OUT[@]}"

if [ -d data/idx ]; then
    # a residual preset trains end to end, with Nesterov momentum and the
    # cosine schedule, and evaluates
    run train --data data/idx --model resnet-tiny --epochs 2 --batch 10 --cosine --nesterov \
        --out res.scn --log res.csv
    check "resnet-tiny: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "resnet-tiny: no line 'epoch 2/2 ...'" matches '^epoch 2/2 lr 0.05 ' "${OUT[@]}"
    check "resnet-tiny: no block in the layer list" matches '^ 4 res ' "${OUT[@]}"
    check "resnet-tiny: no checkpoint" test -f res.scn
    check "resnet-tiny: the log has $(wc -l <res.csv 2>/dev/null) lines, want 3" \
        test "$(wc -l <res.csv 2>/dev/null)" -eq 3
    run eval --model res.scn --data data/idx
    check "resnet-tiny eval: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    # --resume refuses another model, and says when the batch changed
    run train --data data/idx --model scn-mnist --epochs 3 --batch 10 --resume --out res.scn
    check "resume with another model: exit $rc, want non-zero" test "$rc" -ne 0
    check "resume with another model: '$ERRTEXT' does not say what the checkpoint holds" \
        matches 'holds .*res\[' "${ERR[@]}"
    run train --data data/idx --model resnet-tiny --epochs 3 --batch 20 --cosine --resume \
        --out res.scn
    check "resume: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "resume with another batch: '$ERRTEXT' does not say so" \
        matches 'batch 20 \(the checkpoint trained with 10\)' "${ERR[@]}"
    # a log that cannot be written fails the run instead of passing silently
    run train --data data/idx --model "sc:n=4,s=2 gap linear:n=10" --epochs 1 --batch 10 \
        --out lg.scn --log /dev/full
    check "--log /dev/full: exit $rc, want non-zero" test "$rc" -ne 0
    check "--log /dev/full: '$ERRTEXT' does not name it" matches '/dev/full' "${ERR[@]}"
    # progress written to a file has no carriage returns
    check "progress to a file holds carriage returns" not grep -q $'\r' err.txt
fi

# ---------------------------------------------- the first hour (issue 16)

run --help
for c in layer train eval info bench show plot; do
    check "scn --help does not list $c" matches "^  $c " "${OUT[@]}"
done
check "scn --help does not name bench step" matches 'bench step' "${OUT[@]}"
run --version
check "scn --version: exit $rc, '${OUT[*]}'" matches '^scn [0-9]+\.[0-9]+\.[0-9]+' "${OUT[@]}"
run eval --help
check "eval --help: no default for --batch" matches 'default 256' "${OUT[@]}"
run train --help
check "train --help: no default for --threads" matches '--threads T .*default' "${OUT[@]}"
# an unknown format: one error, on stderr, nothing on stdout
run info --format foo
check "info --format foo: exit $rc, want 1" test "$rc" -eq 1
check "info --format foo: ${#ERR[@]} lines on stderr, want 1" test "${#ERR[@]}" -eq 1
check "info --format foo: stdout not empty: ${OUT[*]}" test "${#OUT[@]}" -eq 0
# a directory with an empty class folder is no data set, not "format folder"
mkdir -p nodata/shirts
run info --data nodata
check "info on an empty class folder: exit $rc, want 1" test "$rc" -eq 1
check "info on an empty class folder: '$ERRTEXT'" matches 'no data set' "${ERR[@]}"
check "info on an empty class folder claims a format: ${OUT[*]}" test "${#OUT[@]}" -eq 0
# integer ranges print as integers
run train --limit 1 --out never3.scn
check "--limit 1: '$ERRTEXT' prints the range as floats" matches '\[2, 2147483647\]' "${ERR[@]}"

# png FILE: FILE is a PNG; sets PNG_W, PNG_H from its IHDR
png() {
    local hex
    hex=$(head -c 24 "$1" 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
    [ "${hex:0:16}" = 89504e470d0a1a0a ] || return 1
    PNG_W=$((16#${hex:32:8})) PNG_H=$((16#${hex:40:8}))
    [ "$PNG_W" -gt 0 ] && [ "$PNG_H" -gt 0 ]
}

if [ -d data/idx ]; then
    M="sc:n=4,s=2 bn gap linear:n=10"
    run train --data data/idx --model "$M" --epochs 2 --batch 10 --test-limit 5 \
        --precise-bn 20 --log fh.csv --out fh.scn
    check "train --test-limit 5: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "train: no 'precise BN: batch 2/2' progress line" \
        matches '^precise BN: batch 2/2 ' "${ERR[@]}"
    check "train --test-limit 5: not one evaluation batch" \
        matches '^evaluating: batch 1/1 ' "${ERR[@]}"
    check "train: progress into a file holds carriage returns" not grep -q $'\r' err.txt
    check "train: the epoch line lost its test accuracy" \
        matches '^epoch 2/2 .* test [0-9.]+% time' "${OUT[@]}"
    check "train --log: $(wc -l <fh.csv) lines, want 3" test "$(wc -l <fh.csv)" -eq 3
    # --test-limit 0: no test pass at all (make demo evaluates once, in scn eval)
    run train --data data/idx --model "$M" --epochs 1 --batch 10 --test-limit 0 \
        --precise-bn 0 --log fh0.csv --out fh0.scn
    check "train --test-limit 0: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "train --test-limit 0: evaluated anyway" not matches 'evaluating' "${ERR[@]}"
    check "train --precise-bn 0: recomputed anyway" not matches 'precise BN' "${ERR[@]}"
    check "train --test-limit 0: no 'test -' in the epoch line" \
        matches '^epoch 1/1 .* test - time' "${OUT[@]}"
    check "train --test-limit 0: log row $(tail -1 fh0.csv) has a test accuracy" \
        grep -qE '^1,[^,]*,[^,]*,[^,]*,,' fh0.csv
    # eval: bounded, with progress as plain lines and the confusion matrix drawn
    run eval --model fh.scn --data data/idx --test-limit 7 --confusion conf.png
    check "eval --confusion: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "eval --test-limit 7: no 'evaluating: batch 1/1'" \
        matches '^evaluating: batch 1/1 ' "${ERR[@]}"
    check "eval: progress into a file holds carriage returns" not grep -q $'\r' err.txt
    check "eval --confusion: conf.png is not a PNG" png conf.png
    run eval --model fh.scn --data data/idx --confusion nodir/conf.png
    check "eval --confusion nodir/: exit $rc, want 1" test "$rc" -eq 1
    check "eval --confusion nodir/: ran the test pass first" not matches 'evaluating' "${ERR[@]}"
    # plot the log; a file that is not one is one error
    run plot fh.csv --out curves.png
    check "plot: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "plot: curves.png is not a PNG" png curves.png
    printf 'epoch,lr\nnot,numbers\n' >bad.csv
    run plot bad.csv --out bad.png
    check "plot bad.csv: exit $rc, want 1; ${#ERR[@]} lines" test "$rc" -eq 1 -a "${#ERR[@]}" -eq 1
    check "plot bad.csv: wrote bad.png" test ! -e bad.png
    # show: atoms, reconstructions (one row per image), and a layer that is not sc
    run show --model fh.scn --layer 1 --out atoms.png
    check "show atoms: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "show atoms: atoms.png is not a PNG" png atoms.png
    run show --model fh.scn --layer 1 --recon --data data/idx --images 1 --out recon1.png
    check "show --recon: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    png recon1.png; h1=${PNG_H:-0}
    run show --model fh.scn --layer 1 --recon --data data/idx --images 3 --out recon3.png
    check "show --recon --images 3: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "show --recon: ${#OUT[@]} residual lines, want 3" test "${#OUT[@]}" -eq 3
    check "show --recon: '${OUT[0]:-}'" matches '^image 0: .*= [0-9.]+$' "${OUT[@]}"
    check "show --recon: 3 images are not taller than 1 ($h1)" \
        eval 'png recon3.png && [ "$PNG_H" -gt "$h1" ]'
    run show --model fh.scn --layer 2 --out never.png
    check "show --layer 2 (bn): exit $rc, '$ERRTEXT'" matches "layer 2 is bn, not sc, csf or csc" "${ERR[@]}"
fi

# ------------------------------------------------- SDNet's csc layer (issue 21)

run --help
check "scn --help does not list robust" matches '^  robust ' "${OUT[@]}"
check "scn --help does not name bench csc" matches 'bench csc' "${OUT[@]}"
run robust --help
check "robust --help: no SEVERITY FIXED ADAPTIVE LAMBDA" \
    matches 'SEVERITY FIXED ADAPTIVE LAMBDA' "${OUT[@]}"
"$SCN" bench csc --batch 2 --channels 2 --size 6 --atoms 4 --stride 2 --reps 2 >csc.out 2>&1
check "bench csc exits 0 ($(head -c 200 csc.out))" test $? -eq 0
check "bench csc prints forward, forward+backward, peak_rss_mb" \
    grep -qzE '^forward [0-9.]+
forward\+backward [0-9.]+
peak_rss_mb [0-9.]+
$' csc.out
"$SCN" bench csc --batch 2 --channels 1 --size 5 --atoms 3 --iters 20 --fixed --l2 0.1 \
    --reps 1 >cscf.out 2>&1
check "bench csc --fixed exits 0 ($(head -c 200 cscf.out))" test $? -eq 0
bad "bench csc --fixed without --l2" "l2 > 0" bench csc --fixed --batch 1 --size 4
bad "bench csc --stride 0" "stride" bench csc --stride 0
if [ -d data/idx ]; then
    run train --data data/idx --model "csc:n=4,s=2 bn relu gap linear:n=10" --epochs 1 \
        --batch 10 --test-limit 0 --precise-bn 0 --nesterov --cosine --out csc.scn
    check "train csc: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    run train --data data/idx --model "conv:n=4,s=2 bn relu gap linear:n=10" --csc-all \
        --epochs 1 --batch 10 --test-limit 0 --precise-bn 0 --out cscall.scn
    check "train --csc-all: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "train --csc-all: no csc layer in '${OUT[*]:0:3}'" matches '^ *1 +csc ' "${OUT[@]}"
    bad "train --csc-all of a net without conv" "no conv" train --data data/idx \
        --model "linear:n=10" --csc-all --out never4.scn
    run robust --model csc.scn --data data/idx --noise gaussian --lambdas 0.1,0.5,1 \
        --severities 1,3 --train-limit 20 --test-limit 10 --batch 8
    check "robust: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "robust: no 'SEVERITY FIXED ADAPTIVE LAMBDA' header" \
        matches '^SEVERITY FIXED ADAPTIVE LAMBDA$' "${OUT[@]}"
    check "robust: no row for severity 3" matches '^3 [0-9.]+ [0-9.]+ [0-9.e+-]+$' "${OUT[@]}"
    check "robust: a row for severity 2" not matches '^2 ' "${OUT[@]}"
    check "robust: no fitted line" matches '^line lambda\(r\) = ' "${OUT[@]}"
    check "robust: two fit lines" matches '^fit severity 3: residual [0-9.]+, lambda' "${OUT[@]}"
    run robust --model csc.scn --data data/idx --noise impulse --lambdas 0.1,0.5 \
        --severities 5 --train-limit 10 --test-limit 10 --per-image
    check "robust --per-image: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "robust --per-image: header" \
        matches '^SEVERITY FIXED ADAPTIVE LAMBDA PER_IMAGE$' "${OUT[@]}"
    check "robust --per-image: row" matches '^5 [0-9.]+ [0-9.]+ [0-9.e+-]+ [0-9.]+$' "${OUT[@]}"
    check "robust, one severity: the line is not a constant" \
        matches 'constant: fewer than two distinct residuals' "${OUT[@]}"
    check "robust --per-image: no verdict" matches '^per-image lambda beats one lambda for the set at [01] of 1 severities$' "${OUT[@]}"
    run robust --model fh.scn --data data/idx --noise shot --lambdas 0.1 --severities 1,5 \
        --test-limit 10
    check "robust of a net without csc: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "robust without csc: FIXED only" matches '^5 [0-9.]+ - -$' "${OUT[@]}"
    bad "robust --noise fog" "fog" robust --model csc.scn --data data/idx --noise fog \
        --lambdas 0.1
    bad "robust --severities 0,1" "severities" robust --model csc.scn --data data/idx \
        --noise shot --lambdas 0.1 --severities 0,1
    bad "robust --lambdas x" "lambdas" robust --model csc.scn --data data/idx --noise shot \
        --lambdas x
    bad "robust without --noise" "noise" robust --model csc.scn --lambdas 0.1
    run show --model csc.scn --layer 1 --out cscatoms.png
    check "show csc atoms: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "show csc atoms: not a PNG" png cscatoms.png
    run show --model csc.scn --layer 1 --recon --data data/idx --images 2 --noise speckle \
        --severity 5 --lambda 0.7 --out cscrecon.png
    check "show csc --recon: exit $rc ($ERRTEXT)" test "$rc" -eq 0
    check "show csc --recon: not a PNG" png cscrecon.png
    check "show csc --recon: '${OUT[0]:-}'" matches '^image 0: \|input - A\(z\)\| / \|input\| = [0-9.]+$' "${OUT[@]}"
    bad "show --noise fog" "fog" show --model csc.scn --layer 1 --recon --data data/idx \
        --noise fog --out never.png
    bad "show --lambda on an sc layer" "not csc" show --model fh.scn --layer 1 --recon \
        --data data/idx --lambda 0.5 --out never.png
fi

if [ "$failures" -ne 0 ]; then
    echo "test_cli: $failures of $checks checks failed" >&2
    exit 1
fi
exit 0
