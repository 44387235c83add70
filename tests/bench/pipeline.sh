#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# pipeline.sh - row 4 of `make bench`: end-to-end memory reads through the
# example programs, over TCP loopback, timed by the debugger client's own
# bench-read command (4000-byte packets: 56-byte KD header + 3944 bytes of
# memory, the most one read carries).
#
#   pipeline.sh BUILD_DIR > results
#
# Paths: the VM-channel simulated kernel behind kdcom-shim, the one on
# guest/'s 16550 UART back end, and the serial one (libkdcom's TARGET role
# straight on the socket).  A path whose programs are not built is reported missing, not
# failed.  Each path runs REPS times; the median reads/s is kept.  Prints
# "key value" lines for bench_pipeline.c.  Programs can be overridden with
# KDCOM_CLIENT, KDCOM_SIMKERNEL, KDCOM_SIMKERNEL_VM, KDCOM_SIMKERNEL_UART,
# KDCOM_SHIM.
set -u
b=${1:-build}
ex=$b/examples
client=${KDCOM_CLIENT:-$ex/kdcom-client}
sk=${KDCOM_SIMKERNEL:-$ex/kdcom-simkernel}
skvm=${KDCOM_SIMKERNEL_VM:-$ex/kdcom-simkernel-vm}
skuart=${KDCOM_SIMKERNEL_UART:-$ex/kdcom-simkernel-uart}
shim=${KDCOM_SHIM:-$ex/kdcom-shim}
size=${BENCH_PIPE_BYTES:-2M}   # 532 reads; the simulated image is 4 MiB
reps=${BENCH_PIPE_REPS:-5}
addr=0xfffff80000000000
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kdcom-bench.XXXXXX") || exit 1
pids=""

cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap "exit 1" HUP INT PIPE TERM

# wait_key FILE KEY -> the value of KEY=VALUE once FILE has it (5 s max)
wait_key() {
    i=0
    while [ $i -lt 50 ]; do
        v=$(sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n 1)
        [ -n "$v" ] && { echo "$v"; return 0; }
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# reads ENDPOINT -> median reads_per_s and MB_per_s of REPS bench-reads
reads() {
    out="$tmp/reads.$$"
    : > "$out"
    r=0
    while [ $r -lt "$reps" ]; do
        timeout 120 "$client" -q "$1" bench-read "$addr" "$size" \
            >> "$out" 2>> "$tmp/client.log" || return 1
        r=$((r + 1))
    done
    sed -n 's/.*reads_per_s=\([0-9.]*\) MB_per_s=\([0-9.]*\).*/\1 \2/p' \
        "$out" | sort -n | sed -n "$(( (reps + 1) / 2 ))p"
}

# path NAME PROGRAM... : start a simulated kernel that listens on TCP and
# prints KDCOM_SIM_PORT (or, for the shim, KDCOM_SHIM_PORT), then time the
# client against it.
serve_and_read() {
    name=$1 key=$2
    shift 2
    "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" &
    pids="$pids $!"
    if port=$(wait_key "$tmp/$name.out" "$key") &&
        m=$(reads "tcp:127.0.0.1:$port") && [ -n "$m" ]; then
        echo "${name}_reads_per_s ${m% *}"
        echo "${name}_MB_per_s ${m#* }"
    else
        echo "${name}_failed $(tail -n 1 "$tmp/client.log" 2>/dev/null)"
    fi
}

if [ ! -x "$client" ]; then
    echo "status pending: $client not built"
    exit 0
fi

# The VM channel: simulated kernel -> shared memory -> kdcom-shim -> TCP.
if [ -x "$shim" ] && [ -x "$skvm" ]; then
    "$shim" -q --shm "$tmp/shm" tcp-listen:127.0.0.1:0 > "$tmp/shim.out" \
        2> "$tmp/shim.err" &
    pids="$pids $!"
    if port=$(wait_key "$tmp/shim.out" KDCOM_SHIM_PORT); then
        "$skvm" -q --no-initial-break "$tmp/shm" > "$tmp/skvm.out" \
            2> "$tmp/skvm.err" &
        pids="$pids $!"
        if m=$(reads "tcp:127.0.0.1:$port") && [ -n "$m" ]; then
            echo "vm_reads_per_s ${m% *}"
            echo "vm_MB_per_s ${m#* }"
        else
            echo "vm_failed $(tail -n 1 "$tmp/client.log" 2>/dev/null)"
        fi
    else
        echo "vm_failed kdcom-shim did not start"
    fi
else
    echo "vm_missing $shim or $skvm not built"
fi

# The classic path: guest/'s 16550 back end -> libkdcom TARGET -> TCP.
if [ -x "$skuart" ]; then
    serve_and_read uart KDCOM_SIM_PORT \
        "$skuart" -q --no-initial-break tcp-listen:127.0.0.1:0
else
    echo "uart_missing $skuart not built"
fi

# The TARGET role straight on the socket (no UART emulation).
if [ -x "$sk" ]; then
    serve_and_read serial KDCOM_SIM_PORT \
        "$sk" -q --no-initial-break tcp-listen:127.0.0.1:0
else
    echo "serial_missing $sk not built"
fi
echo "status $size per run, median of $reps runs"
