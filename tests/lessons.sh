#!/bin/sh
# lessons.sh - every lesson examples/NN_*.c still builds with the exact `cc`
# line in its first comment and runs: the repository's files (tracked, and
# new ones git does not ignore) are copied to an empty directory, the line
# is run there as written, then the program, with --quick when its usage
# line offers it. A lesson fails if it has no cc line, if the line fails or
# warns, if the program exits non-zero (its own checks failed) or if a
# picture its comment says it writes is not a PNG; and docs/TUTORIAL.md
# must show the cc line as a line of its own. A lesson that reads
# Fashion-MNIST is built but not run when the data set is not installed.
# (The argument, the tool's path, is unused.)
data=/usr/share/datasets/fashion-mnist
root=$(pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/scn_lessons.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
# the repository's files: git's list in a checkout, else everything but bin/
files() {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -co --exclude-standard
    else
        find . -path ./bin -prune -o -type f -print
    fi
}
files | while IFS= read -r f; do
    [ -f "$f" ] && printf '%s\n' "$f"
done | tar -cf - -T - | tar -xf - -C "$tmp" || { echo "lessons: cannot copy the repository"; exit 1; }

# the first comment of a lesson, up to its closing */
comment() { sed -n '1,/\*\//p' "$1"; }
# its cc line
ccline() { comment "$1" | sed -n 's/^ \*  *\(cc .*\)$/\1/p' | head -n 1; }

# build every lesson at once (two cores: the builds dominate), then run each
start=$(date +%s)
for src in examples/[0-9][0-9]_*.c; do
    name=$(basename "$src" .c)
    line=$(ccline "$src")
    case $line in *" examples/$name.c"*) ;; *) continue ;; esac
    (cd "$tmp" && sh -c "$line" >"$name.cc.log" 2>&1; echo $? >"$name.cc.rc") &
done
wait
echo "built the lessons in $(($(date +%s) - start))s"

fail=0
count=0
for src in examples/[0-9][0-9]_*.c; do
    name=$(basename "$src" .c)
    count=$((count + 1))
    line=$(ccline "$src")
    if [ ! -f "$tmp/$name.cc.rc" ]; then
        echo "FAIL $name: no 'cc ... examples/$name.c ...' line in its first comment"
        fail=1; continue
    fi
    if [ "$(cat "$tmp/$name.cc.rc")" != 0 ] || [ -s "$tmp/$name.cc.log" ]; then
        echo "FAIL $name: '$line' failed or warned:"
        sed 's/^/    /' "$tmp/$name.cc.log" | head -20
        fail=1; continue
    fi
    if ! grep -qxF "$line" docs/TUTORIAL.md; then
        echo "FAIL $name: docs/TUTORIAL.md does not show its command, '$line'"
        fail=1
    fi
    bin=$(printf '%s\n' "$line" | sed -n 's/.* -o \([^ ]*\).*/\1/p')
    if grep -q "$data" "$src" && [ ! -d "$data" ]; then
        echo "SKIP $name: built, not run: $data is not installed"
        continue
    fi
    set -- "./$bin"
    comment "$src" | grep -q -- '--quick' && set -- "./$bin" --quick
    start=$(date +%s)
    if ! (cd "$tmp" && "$@") >"$tmp/$name.log" 2>&1; then
        echo "FAIL $name: $* exited non-zero:"
        tail -20 "$tmp/$name.log" | sed 's/^/    /'
        fail=1; continue
    fi
    ran=$(($(date +%s) - start))
    status="ok  "
    for png in $(comment "$src" | sed -n 's/.*(writes \([^ )]*\.png\)).*/\1/p'); do
        if ! head -c 8 "$tmp/$png" 2>/dev/null | od -An -c | grep -q 'P   N   G'; then
            echo "FAIL $name: did not write $png"
            status=FAIL; fail=1
        fi
    done
    echo "$status $name: ran $* in ${ran}s"
done
[ "$count" -gt 0 ] || { echo "FAIL: no lessons in $root/examples"; fail=1; }
exit $fail
