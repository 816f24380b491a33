#!/bin/sh
# tests/port/install.sh DIR - make install PREFIX=DIR/prefix, then build the
# two-file consumer (tests/port/consumer) three ways and run it:
#   cc $(pkg-config --cflags scn) main.c other.c -lm
#   cmake with find_package(scn) (CMAKE_PREFIX_PATH = the prefix)
#   cmake with add_subdirectory(the source tree)
# and make uninstall leaves nothing behind.
set -u
dir=$(mkdir -p "$1" && cd "$1" && pwd)
prefix=$dir/prefix
src=$(pwd)
make -s install PREFIX="$prefix" >"$dir/install.log" 2>&1 ||
    { echo "make install: $(tail -1 "$dir/install.log")"; exit 1; }
for f in include/scn.h bin/scn lib/pkgconfig/scn.pc lib/cmake/scn/scnConfig.cmake; do
    [ -f "$prefix/$f" ] || { echo "make install did not install $f"; exit 1; }
done
cflags=$(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags scn) ||
    { echo "pkg-config does not find scn"; exit 1; }
cc -O2 -std=c99 -pedantic -Wall -Wextra -Werror $cflags -o "$dir/pc_consumer" \
    tests/port/consumer/main.c tests/port/consumer/other.c -lm >"$dir/pc.log" 2>&1 &&
    "$dir/pc_consumer" >>"$dir/pc.log" 2>&1 || { echo "pkg-config consumer: $(head -1 "$dir/pc.log")"; exit 1; }
for way in find_package add_subdirectory; do
    b=$dir/cmake-$way
    if [ $way = find_package ]; then def="-DCMAKE_PREFIX_PATH=$prefix"; else def="-DSCN_SOURCE_DIR=$src"; fi
    (cmake -S tests/port/consumer -B "$b" $def -DCMAKE_C_FLAGS="-Wall -Wextra -Werror" &&
     cmake --build "$b" && "$b/consumer") >"$dir/$way.log" 2>&1 ||
        { echo "cmake $way: $(grep -m1 -iE 'error|fail' "$dir/$way.log")"; exit 1; }
done
make -s uninstall PREFIX="$prefix" >/dev/null 2>&1
left=$(find "$prefix" -type f | head -3)
[ -z "$left" ] || { echo "make uninstall left $left"; exit 1; }
echo "make install/uninstall; pkg-config, CMake find_package and add_subdirectory consumers of two files build and run"
