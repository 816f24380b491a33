#!/bin/sh
# make_corpus.sh - regenerates the committed seed corpus fuzz/corpus/ from
# fuzz/make_corpus.c (needs a C compiler, gzip and libstb-dev). Run from
# anywhere; writes only fuzz/corpus/ and bin/fuzz/make_corpus.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-cc}
mkdir -p "$root/bin/fuzz"
$cc -O1 -std=c99 -D_POSIX_C_SOURCE=200809L -o "$root/bin/fuzz/make_corpus" \
    "$root/fuzz/make_corpus.c" -lm
rm -rf "$root/fuzz/corpus"
"$root/bin/fuzz/make_corpus" "$root/fuzz/corpus"
for d in "$root"/fuzz/corpus/*/; do
    printf '%-18s %3d seeds %8d bytes\n' "$(basename "$d")" "$(ls "$d" | wc -l)" \
        "$(cat "$d"/* | wc -c)"
done
printf 'total %d bytes\n' "$(cat "$root"/fuzz/corpus/*/* | wc -c)"
