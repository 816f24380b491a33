#!/usr/bin/env bash
# tests/portability.sh [CONFIG...] - make portability: builds the library
# and runs the core tests under each compiler, language standard, word size
# and byte order of the matrix below; one line per configuration (PASS or
# FAIL, what it built and ran), then "N passed, N failed"; exits non-zero
# if any failed. With names, runs only those configurations.
#
# The core tests: solver, gradients, layers (with the 32-bit size checks),
# math (GEMM and every microkernel the CPU runs), checkpoints, .npy, IDX,
# the fixtures, byte order, and on native builds a training run through
# the scn tool (test_train). Two configurations run at a time (PORT_JOBS).
# Installing the compilers is .ci/run's job; a configuration whose
# compiler is missing FAILs naming it.
set -u
cd "$(dirname "$0")/.."
OUT=${PORT_OUT:-bin/port}
JOBS=${PORT_JOBS:-2}
STRICT="-std=c99 -pedantic -Wall -Wextra -Werror"
POSIX="-D_POSIX_C_SOURCE=200809L"      # the tests' mkdtemp, fork, ...
CORE="math solver grad layers checkpoint npy idx fixtures byteorder ddse"
# the variants of a compiler (optimisation, OpenMP, SCN_STATIC) run the
# tests that link one compiled library (test_idx and the tool of test_train
# compile their own copy); one configuration per compiler runs them all
VARIANT="math solver grad layers checkpoint npy byteorder"
# with SCN_STATIC every test compiles its own copy of the library: fewer
STATIC="solver grad layers checkpoint idx"
# under qemu a test runs 10-40 times slower: s390x runs what byte order
# touches (readers, checkpoints, the solver and gradients), aarch64 what its
# kernels touch (math: every microkernel; the solver's FISTA epilogue)
S390X="solver grad layers checkpoint npy idx fixtures byteorder ddse"
ARM64="math solver grad layers checkpoint npy ddse"
OWN_IMPL=$(grep -l 'define SCN_IMPLEMENTATION' tests/test_*.c | sed 's|tests/test_||; s|\.c$||')

# config NAME CC "FLAGS" [RUNNER] : the library and the core tests built with
# CC FLAGS, each test run (through RUNNER for another architecture); the
# cross builds link statically so qemu needs no target libraries.
config() {
    local name=$1 cc=$2 flags=$3 runner=${4:-} dir=$OUT/$1 t src link static=0 extra
    local tests=${TESTS:-$CORE}
    mkdir -p "$dir"
    command -v "${cc%% *}" >/dev/null || { echo "$cc is not installed"; return 1; }
    case " $flags " in *" -DSCN_STATIC "*) static=1 ;; esac
    [ -z "$runner" ] && [ -z "${TESTS:-}" ] && tests="$tests train"
    if [ $static = 0 ]; then
        $cc $flags -DSCN_IMPLEMENTATION -x c -c -o "$dir/impl.o" scn.h \
            >"$dir/build.log" 2>&1 || { echo "scn.h: $(grep -m1 -E 'error|warning' "$dir/build.log")"; return 1; }
    fi
    for t in $tests; do
        src=tests/test_$t.c; link=; extra=
        if ! echo "$OWN_IMPL" | grep -qx "$t"; then
            # SCN_STATIC: every file holds its own private copy
            if [ $static = 1 ]; then extra=-DSCN_IMPLEMENTATION=; else link=$dir/impl.o; fi
        fi
        [ "$t" = train ] && extra="$extra -DSCN_BIN=\"$dir/scn\""
        $cc $flags $POSIX $extra -o "$dir/test_$t" "$src" $link -lm >"$dir/build.log" 2>&1 ||
            { echo "test_$t: $(grep -m1 -E 'error|warning' "$dir/build.log")"; return 1; }
    done
    if [ -z "$runner" ]; then
        $cc $flags $POSIX -o "$dir/scn" tools/scn.c -lm >"$dir/build.log" 2>&1 ||
            { echo "tools/scn.c: $(grep -m1 -E 'error|warning' "$dir/build.log")"; return 1; }
    fi
    for t in $tests; do
        timeout 600 $runner "$dir/test_$t" >"$dir/$t.log" 2>&1 ||
            { echo "test_$t failed: $(grep -m1 -E 'failed|rror' "$dir/$t.log")"; return 1; }
    done
    echo "$cc $flags${runner:+ (run by $runner)}: $(echo $tests | wc -w) tests ($tests)$(
        sed -n 's/^math: kernels tested: /; GEMM kernels: /p' "$dir/math.log" 2>/dev/null)"
}

# byteorder NAME : files written on this machine (x86-64, little-endian)
# load bit-identically in NAME's build under qemu (s390x: big-endian), and
# the reverse.
byteorder() {
    local dir=$OUT/$1 runner=$2 native=$OUT/$1/native
    mkdir -p "$native" "$dir/le" "$dir/be"
    cc -O2 $STRICT $POSIX -DSCN_IMPLEMENTATION= -o "$native/test_byteorder" \
        tests/test_byteorder.c -lm >"$dir/build.log" 2>&1 || { echo "native build failed"; return 1; }
    "$native/test_byteorder" write "$dir/le" >"$dir/bo.log" 2>&1 &&
        $runner "$dir/test_byteorder" check "$dir/le" >>"$dir/bo.log" 2>&1 ||
        { echo "x86-64 files on $1: $(grep -m1 failed "$dir/bo.log")"; return 1; }
    $runner "$dir/test_byteorder" write "$dir/be" >"$dir/bo.log" 2>&1 &&
        "$native/test_byteorder" check "$dir/be" >>"$dir/bo.log" 2>&1 ||
        { echo "$1 files on x86-64: $(grep -m1 failed "$dir/bo.log")"; return 1; }
    echo "checkpoint and .npy identical both ways"
}

# The matrix. Each entry: NAME, then the command that checks it.
NATIVE="-march=native"
ENTRIES=(
    # the slow ones (qemu) first, so they overlap the rest
    "s390x-big-endian|TESTS='$S390X' config s390x-big-endian s390x-linux-gnu-gcc '-O2 -static $STRICT' qemu-s390x && byteorder s390x-big-endian qemu-s390x"
    "aarch64|TESTS='$ARM64' config aarch64 aarch64-linux-gnu-gcc '-O2 -static $STRICT' qemu-aarch64"
    "gcc-O2-openmp|config gcc-O2-openmp gcc '-O2 -fopenmp $STRICT'"
    "clang-O2-openmp|config clang-O2-openmp clang '-O2 -fopenmp $STRICT'"
    "tcc|config tcc tcc ''"
    "i686-32bit|config i686-32bit i686-linux-gnu-gcc '-O2 -fopenmp -static $STRICT'"
    "gcc-O0|TESTS='$VARIANT' config gcc-O0 gcc '-O0 $STRICT'"
    "gcc-O2|TESTS='$VARIANT' config gcc-O2 gcc '-O2 $STRICT'"
    "gcc-O3-native|TESTS='$VARIANT' config gcc-O3-native gcc '-O3 $NATIVE $STRICT'"
    "gcc-O3-native-openmp|TESTS='$VARIANT' config gcc-O3-native-openmp gcc '-O3 $NATIVE -fopenmp $STRICT'"
    "gcc-O2-static|TESTS='$STATIC' config gcc-O2-static gcc '-O2 -DSCN_STATIC $STRICT'"
    "gcc-O3-native-openmp-static|TESTS='$STATIC' config gcc-O3-native-openmp-static gcc '-O3 $NATIVE -fopenmp -DSCN_STATIC $STRICT'"
    "clang-O0|TESTS='$VARIANT' config clang-O0 clang '-O0 $STRICT'"
    "clang-O2|TESTS='$VARIANT' config clang-O2 clang '-O2 $STRICT'"
    "clang-O3-native|TESTS='$VARIANT' config clang-O3-native clang '-O3 $NATIVE $STRICT'"
    "clang-O3-native-openmp|TESTS='$VARIANT' config clang-O3-native-openmp clang '-O3 $NATIVE -fopenmp $STRICT'"
    "clang-O2-static|TESTS='$STATIC' config clang-O2-static clang '-O2 -DSCN_STATIC $STRICT'"
    "clang-O3-native-openmp-static|TESTS='$STATIC' config clang-O3-native-openmp-static clang '-O3 $NATIVE -fopenmp -DSCN_STATIC $STRICT'"
    "g++-c++11|cxx g++ '-O3 -fopenmp'"
    "clang++-c++11|cxx clang++ '-O2'"
    "two-units|sh tests/port/two_units.sh $OUT/two-units"
    "install-cmake|sh tests/port/install.sh $OUT/install-cmake"
    "threads-tsan|threads"
)

# cxx CXX FLAGS : the header and implementation as C++11 with -Wall -Wextra
# -Werror (tests/cxx.cpp: every section, the zero-initialisation idioms)
cxx() {
    local dir=$OUT/$1-c++11
    mkdir -p "$dir"
    command -v "$1" >/dev/null || { echo "$1 is not installed"; return 1; }
    $1 $2 -std=c++11 -Wall -Wextra -Werror -o "$dir/test_cxx" tests/cxx.cpp -lm \
        >"$dir/build.log" 2>&1 || { echo "$(grep -m1 -E 'error|warning' "$dir/build.log")"; return 1; }
    "$dir/test_cxx" >"$dir/run.log" 2>&1 || { echo "test_cxx: $(head -1 "$dir/run.log")"; return 1; }
    echo "cxx (implementation and API as C++11)"
}

# threads: two threads training two nets at once give the bits of one
# after the other, under ThreadSanitizer (no OpenMP: libgomp is not built
# for it, and the threads here are the caller's)
threads() {
    local dir=$OUT/threads-tsan
    mkdir -p "$dir"
    cc -O1 -g -fsanitize=thread $STRICT $POSIX -o "$dir/test_threads" tests/port/threads.c \
        -lpthread -lm >"$dir/build.log" 2>&1 || { echo "$(grep -m1 -E 'error|warning' "$dir/build.log")"; return 1; }
    TSAN_OPTIONS="halt_on_error=1" "$dir/test_threads" >"$dir/run.log" 2>&1 ||
        { echo "$(grep -m1 -E 'WARNING|failed' "$dir/run.log")"; return 1; }
    echo "two nets trained in two threads = one after the other, no race reported"
}

# one entry in the background: its last line of output says what it
# built and ran (or what failed), its status and seconds go to .N.rc
run_entry() {
    local start rc
    start=$(date +%s)
    ( eval "$2" ) >"$OUT/.$1.out" 2>&1
    rc=$?
    echo "$rc $(( $(date +%s) - start ))" >"$OUT/.$1.rc"
}

want=" $* "
rm -rf "$OUT"
mkdir -p "$OUT"
names=()
for e in "${ENTRIES[@]}"; do
    name=${e%%|*}
    [ $# -gt 0 ] && [ "${want#* $name }" = "$want" ] && continue
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 0.2; done
    run_entry ${#names[@]} "${e#*|}" &
    names+=("$name")
done
wait
pass=0; fail=0
for i in "${!names[@]}"; do
    read -r rc secs <"$OUT/.$i.rc"
    what=$(paste -sd';' "$OUT/.$i.out" | sed 's/;/; /g')
    if [ "$rc" = 0 ]; then status=PASS; pass=$((pass + 1)); else status=FAIL; fail=$((fail + 1)); fi
    echo "$status ${names[$i]} (${secs}s): $what"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
