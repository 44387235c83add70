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
# straight on the socket).  A path whose programs are not built is
# reported missing, not failed.  Each path runs REPS times; the median
# reads/s is kept.  Prints "key value" lines for bench_pipeline.c.
# Programs can be overridden with KDCOM_CLIENT, KDCOM_SIMKERNEL,
# KDCOM_SIMKERNEL_VM, KDCOM_SIMKERNEL_UART, KDCOM_SHIM.  They run under
# tests/proc.sh, which stops them all at the end.
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
TMP_NAME=kdcom-bench
. "$(dirname "$0")/../proc.sh"

# reads ENDPOINT -> median reads_per_s and MB_per_s of REPS bench-reads
reads() {
    out="$T/reads.$$"
    : > "$out"
    r=0
    while [ $r -lt "$reps" ]; do
        timeout 120 "$client" -q "$1" bench-read "$addr" "$size" \
            >> "$out" 2>> "$T/client.log" || return 1
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
    start "$name" "$@"
    if port=$(wait_value "$T/$name.out" "$key") &&
        m=$(reads "tcp:127.0.0.1:$port") && [ -n "$m" ]; then
        echo "${name}_reads_per_s ${m% *}"
        echo "${name}_MB_per_s ${m#* }"
    else
        echo "${name}_failed $(tail -n 1 "$T/client.log" 2>/dev/null)"
    fi
}

if [ ! -x "$client" ]; then
    echo "status pending: $client not built"
    exit 0
fi

# The VM channel: simulated kernel -> shared memory -> kdcom-shim -> TCP.
if [ -x "$shim" ] && [ -x "$skvm" ]; then
    start shim "$shim" -q --shm "$T/shm" tcp-listen:127.0.0.1:0
    if port=$(wait_value "$T/shim.out" KDCOM_SHIM_PORT); then
        start skvm "$skvm" -q --no-initial-break "$T/shm"
        if m=$(reads "tcp:127.0.0.1:$port") && [ -n "$m" ]; then
            echo "vm_reads_per_s ${m% *}"
            echo "vm_MB_per_s ${m#* }"
        else
            echo "vm_failed $(tail -n 1 "$T/client.log" 2>/dev/null)"
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
