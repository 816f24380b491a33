#!/bin/sh
# run.sh - builds the libFuzzer targets (fuzz/fuzz_*.c) with clang, ASan
# and UBSan into bin/fuzz/, and runs each in turn for FUZZ_SECONDS
# (default 20) on a scratch copy of its seed corpus (fuzz/corpus/TARGET/;
# the committed corpus is never grown). One line per target:
#
#     fuzz_X: N executions, M findings
#
# Findings are the crash-, leak-, timeout- and oom- files libFuzzer writes
# to bin/fuzz/artifacts/TARGET/ (it stops a target at its first one); the
# log of each run is bin/fuzz/logs/TARGET.log. Exits 1 if anything was
# found (or a build failed).
#
#     sh fuzz/run.sh                  every target, FUZZ_SECONDS each
#     sh fuzz/run.sh fuzz_npy ...     only these
#     FUZZ_SECONDS=60 sh fuzz/run.sh
#
# Environment: CLANG (default clang), FUZZ_SECONDS, FUZZ_FLAGS (more
# libFuzzer flags, e.g. -seed=1). Needs clang with libFuzzer (Debian: clang
# and libclang-rt-dev, or clang-14's bundled runtime).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
clang=${CLANG:-clang}
secs=${FUZZ_SECONDS:-20}
out=bin/fuzz
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=c99 -D_POSIX_C_SOURCE=200809L"

if ! command -v "$clang" >/dev/null 2>&1; then
    echo "fuzz: needs clang with libFuzzer (-fsanitize=fuzzer); '$clang' was not found" >&2
    exit 2
fi

if [ $# -gt 0 ]; then
    targets="$*"
else
    targets=$(for f in fuzz/fuzz_*.c; do basename "$f" .c; done)
fi

# the longest input per target (records: two STL-10 images, three CIFAR-100)
max_len() {
    case $1 in
        fuzz_stl) echo 56000 ;;
        fuzz_cifar) echo 9300 ;;
        fuzz_amat|fuzz_idx|fuzz_gunzip|fuzz_checkpoint|fuzz_image) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

# UBSan's reports with their stacks
UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export UBSAN_OPTIONS

mkdir -p "$out/logs"
status=0
for t in $targets; do
    if [ ! -f "fuzz/$t.c" ]; then
        echo "$t: no fuzz/$t.c" >&2
        status=1
        continue
    fi
    if ! $clang $cflags -o "$out/$t" "fuzz/$t.c" -lm >"$out/logs/$t.build.log" 2>&1; then
        echo "$t: build failed (see $out/logs/$t.build.log)"
        cat "$out/logs/$t.build.log" >&2
        status=1
        continue
    fi
done
[ $status -eq 0 ] || exit 1

for t in $targets; do
    work="$out/corpus/$t"
    art="$out/artifacts/$t"
    tmp="$out/tmp/$t"
    log="$out/logs/$t.log"
    rm -rf "$work" "$art" "$tmp"
    mkdir -p "$work" "$art" "$tmp"
    [ -d "fuzz/corpus/$t" ] && cp "fuzz/corpus/$t"/* "$work"/ 2>/dev/null
    dict=
    [ -f "fuzz/dict/$t.dict" ] && dict="-dict=fuzz/dict/$t.dict"
    # the target's own files go to a private directory under $tmp
    TMPDIR="$root/$tmp" "./$out/$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$art/" \
        $dict ${FUZZ_FLAGS:-} "$work" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [ -z "$execs" ]; then    # no final stats (killed): the last status line
        execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -n 1)
    fi
    found=$(find "$art" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
            -o -name 'oom-*' \) | wc -l | tr -d ' ')
    echo "$t: ${execs:-0} executions, $found findings"
    if [ "$found" -ne 0 ] || [ $rc -ne 0 ]; then
        status=1
        [ "$found" -eq 0 ] && echo "$t: libFuzzer exited with $rc (see $log)"
        for f in "$art"/*; do
            [ -f "$f" ] && echo "    reproduce: ./$out/$t $f"
        done
        # the report: its first line, the first frames of its stack, the summary
        awk '/ERROR|runtime error|FZ_CHECK|Assertion/ && !n { n = 1; print; next }
             n == 1 && /^ *#[0-9]+ / { if (++f <= 8) print; next }
             /^SUMMARY/ { print; exit }' "$log" | sed 's/^/    /'
    fi
    rm -rf "$tmp"
done
exit $status
