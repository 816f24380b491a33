#!/bin/sh
# tests/run.sh BINDIR TEST... : runs each test program (or, for a name with
# a tests/NAME.sh, that script given BINDIR/scn), one line per test, then
# "N passed, N failed"; exits non-zero if any failed.
dir=$1; shift
pass=0; fail=0
for t in "$@"; do
    start=$(date +%s)
    # a name with a script tests/NAME.sh is a CLI check given the tool's path
    if [ -f "tests/$t.sh" ]; then cmd="sh tests/$t.sh $dir/scn"; else cmd="$dir/$t"; fi
    if $cmd >/tmp/scn_$t.log 2>&1; then
        pass=$((pass + 1)); status=PASS
    else
        fail=$((fail + 1)); status=FAIL
    fi
    echo "$status $t ($(( $(date +%s) - start ))s)"
    [ $status = FAIL ] && sed 's/^/    /' /tmp/scn_$t.log | tail -20
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
