#!/bin/sh
# tests/port/two_units.sh DIR - scn.h in a program of several files, with
# gcc and clang (-std=c99 -pedantic -Wall -Wextra -Werror):
#   1. unit_a.c holds the implementation, unit_b.c calls the API: links;
#   2. -DSCN_STATIC: each file holds a private copy: links, no clash;
#   3. nm: the implementation's object exports scn_* names only (stb_image
#      and every helper stay static), with and without -fopenmp;
#   4. a host file compiling its own stb_image (external linkage) links
#      beside the implementation.
set -u
dir=$1
mkdir -p "$dir"
F="-O2 -std=c99 -pedantic -Wall -Wextra -Werror"
for cc in gcc clang; do
    for omp in "" -fopenmp; do
        o="$dir/$cc$omp"
        $cc $F $omp -c -o "$o.a.o" tests/port/unit_a.c &&
        $cc $F $omp -c -o "$o.b.o" tests/port/unit_b.c &&
        $cc $omp -o "$o.two" "$o.a.o" "$o.b.o" -lm && "$o.two" ||
            { echo "$cc $omp: two files, one implementation: failed"; exit 1; }
        $cc $F $omp -DSCN_STATIC -o "$o.static" tests/port/unit_a.c tests/port/unit_b.c -lm &&
            "$o.static" || { echo "$cc $omp: SCN_STATIC in two files: failed"; exit 1; }
        $cc $F $omp -DSCN_IMPLEMENTATION -x c -c -o "$o.impl.o" scn.h ||
            { echo "$cc $omp: implementation object failed"; exit 1; }
        # clang's OpenMP makes the locks of critical sections and reductions
        # common symbols (.gomp_critical_user_*): shared by design, not ours
        bad=$(nm -g --defined-only "$o.impl.o" | awk '{print $3}' | grep -v '^scn_' |
              grep -v '^\.gomp_critical_user_')
        [ -z "$bad" ] || { echo "$cc $omp: exported beside scn_*: $(echo $bad)"; exit 1; }
        [ -z "$(nm -g --defined-only "$o.impl.o" | grep -i stbi)" ] ||
            { echo "$cc $omp: stb_image symbols exported"; exit 1; }
        $cc $F $omp -c -o "$o.host_stb.o" tests/port/host_stb.c &&
        $cc $F $omp -c -o "$o.host_main.o" tests/port/host_main.c &&
        $cc $omp -o "$o.host" "$o.host_main.o" "$o.host_stb.o" "$o.impl.o" -lm 2>"$dir/link.log" ||
            { echo "$cc $omp: host stb_image beside scn.h: $(head -1 "$dir/link.log")"; exit 1; }
        "$o.host" || { echo "$cc $omp: host program failed"; exit 1; }
    done
done
echo "gcc and clang, with and without -fopenmp: one implementation in two files, SCN_STATIC copies in two files, nm exports only scn_*, a host stb_image links beside"
