#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# callgrind.sh - instructions per operation, counted by callgrind.
#
#   callgrind.sh BENCH_CG OUTDIR > results
#
# For each operation, runs the driver twice under callgrind, collecting
# only inside the cg_op_* functions, with 1 and with 1+N repetitions; the
# difference divided by N is the cost of one operation in steady state
# (start-up, the first-packet path and lazy binding cancel out).  Prints
# "key value" lines for bench_main.c.  Without valgrind it says why.
set -u
drv=$1
out=$2
n=1000

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind skipped: valgrind not installed (make deps installs it)"
    exit 0
fi
if ! valgrind --tool=callgrind --help >/dev/null 2>&1; then
    echo "valgrind skipped: valgrind has no callgrind tool"
    exit 0
fi
mkdir -p "$out"
echo "valgrind $(valgrind --version), N=$n, difference of 1 and 1+N repetitions"

# collected OP REPS PATTERN... -> Ir collected in the cg_op_* functions
collected() {
    op=$1 reps=$2
    shift 2
    set --
    for p in $pat; do set -- "$@" "--toggle-collect=$p"; done
    f="$out/callgrind.$op.$reps"
    valgrind --tool=callgrind --callgrind-out-file="$f" "$@" \
        "$drv" "$op" "$reps" >/dev/null 2>"$f.log" || return 1
    sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$f" | head -n 1
}

for op in memcpy sum encode decode send recv; do
    case $op in
    send) pat="cg_op_send_a cg_op_send_b" ;;
    *) pat="cg_op_$op" ;;
    esac
    a=$(collected "$op" 1) && b=$(collected "$op" $((n + 1))) &&
        [ -n "$a" ] && [ -n "$b" ] || {
        echo "valgrind skipped: callgrind run of $op failed (see $out)"
        exit 0
    }
    echo "$op $(( (b - a) / n ))"
done
