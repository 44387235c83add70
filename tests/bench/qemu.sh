#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# qemu.sh - rows 4f-4j and 4l-4p of `make bench`: the guest transport
# inside a real QEMU virtual machine, under TCG and, when asked
# (QEMU_ACCELS="tcg kvm"), under KVM: the bare-metal test kernel
# (guest/baremetal/) debugged by kdcom-client, all over the command lines
# of examples/qemu/qemu-kd.sh.  Keys are qemu_ACCEL_PATH_...:
#
#   uart_unix   16550 on COM1, chardev a Unix socket, straight to the
#               client (the classic path, KDCOM in the guest)
#   uart_tcp    the same on TCP (nodelay=on), as WinDbg's com:ipport
#   plain       VM channel on ivshmem-plain -> kdcom-shim (polling) ->
#               TCP -> client
#   doorbell    VM channel on ivshmem-doorbell -> kdcom-shim
#               --ivshmem-server (eventfd doorbell) -> TCP -> client
#   rtt         512 B each way through the ivshmem region between the
#               vCPU and tests/bench/vm_echo, no KD, no KDCOM
#
#   qemu.sh BUILD_DIR > results      "key value" lines for bench_pipeline.c
#
# Each read path: BENCH_QEMU_BYTES (1M) per run, median of BENCH_QEMU_REPS
# (3) runs of `kdcom-client bench-read`.  Without QEMU or the kernels the rows say so;
# nothing here fails `make bench`.  Programs run under tests/proc.sh.
b=${1:-build}
ex=$b/examples
bm=$b/baremetal
client=$ex/kdcom-client
shim=$ex/kdcom-shim
echo_bin=$b/bench/vm_echo
kd="$(dirname "$0")/../../examples/qemu/qemu-kd.sh"
size=${BENCH_QEMU_BYTES:-1M}
reps=${BENCH_QEMU_REPS:-3}
rtts=${BENCH_QEMU_RTT:-100000}
addr=0xfffff80000000000
qemu=${QEMU:-qemu-system-x86_64}
accels=${QEMU_ACCELS:-}
TMP_NAME=kdcom-qbench
. "$(dirname "$0")/../proc.sh"

# QEMU is killed by the pid it wrote, then tests/proc.sh stops the rest.
qemu_cleanup() {
    status=$?
    for f in "$T"/*.pid; do
        [ -s "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
    done
    (exit $status)
    cleanup
}
trap qemu_cleanup EXIT

if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "qemu_missing qemu-system-x86_64 not installed (make deps)"
    exit 0
fi
if [ ! -r "$bm/kdcom-bm-vm.elf" ] || [ ! -r "$bm/kdcom-bm-uart.elf" ] ||
    [ ! -x "$client" ] || [ ! -x "$shim" ]; then
    echo "qemu_missing kernels or programs not built (make baremetal examples)"
    exit 0
fi
# TCG unless asked: KVM needs /dev/kvm, and on a nested hypervisor its
# shared memory between a vCPU and a host process may not be coherent
# (docs/performance.md, "QEMU").
[ -n "$accels" ] || accels=tcg
echo "qemu_accels $accels"

# boot NAME KERNEL MODE ARG APPEND: QEMU in the background, by pidfile.
boot() {
    rm -f "$T/$1.pid"
    start "$1" env QEMU="$qemu" timeout -k 5 600 sh "$kd" run "$3" "$4" \
        "$bm/$2" --append "$5" --console "$T/$1.console" \
        --pidfile "$T/$1.pid" -- -accel "$accel"
    i=0
    while [ ! -s "$T/$1.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

halt() { # NAME
    [ -s "$T/$1.pid" ] && kill -KILL "$(cat "$T/$1.pid")" 2>/dev/null
    rm -f "$T/$1.pid"
}

# reads NAME ENDPOINT: prints NAME_reads_per_s / NAME_MB_per_s (median).
reads() {
    out="$T/$1.reads"
    : > "$out"
    r=0
    while [ $r -lt "$reps" ]; do
        if ! timeout 300 "$client" -q --connect-timeout 20000 "$2" \
            bench-read "$addr" "$size" >> "$out" 2>> "$T/$1.client"; then
            echo "${1}_failed $(tail -n 1 "$T/$1.client")"
            return 1
        fi
        r=$((r + 1))
    done
    m=$(sed -n 's/.*reads_per_s=\([0-9.]*\) MB_per_s=\([0-9.]*\).*/\1 \2/p' \
        "$out" | sort -n | sed -n "$(( (reps + 1) / 2 ))p")
    echo "${1}_reads_per_s ${m% *}"
    echo "${1}_MB_per_s ${m#* }"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 45319
}

# shim_reads PATH MODE ARG [OPTION...]: kdcom-shim with OPTIONs on
# $T/PATH.shm, the VM-channel kernel booted behind it (qemu-kd.sh's MODE
# and ARG), timed as qemu_ACCEL_PATH.
shim_reads() {
    sp=$1 mode=$2 arg=$3
    shift 3
    start "shim_$sp" "$shim" -q --shm "$T/$sp.shm" "$@" \
        tcp-listen:127.0.0.1:0
    shim_pid=$LAST
    if port=$(wait_value "$T/shim_$sp.out" KDCOM_SHIM_PORT 10); then
        boot "$sp" kdcom-bm-vm.elf "$mode" "$arg" nobreak
        reads "qemu_${accel}_$sp" "tcp:127.0.0.1:$port"
        halt "$sp"
    else
        echo "qemu_${accel}_${sp}_failed kdcom-shim did not start"
    fi
    stop "$shim_pid"
}

measure() { # accel
    accel=$1
    # 16550, Unix socket and TCP.
    boot uartu kdcom-bm-uart.elf uart-unix "$T/com1.sock" nobreak
    reads "qemu_${accel}_uart_unix" "unix:$T/com1.sock"
    halt uartu
    port=$(free_port)
    boot uartt kdcom-bm-uart.elf uart-tcp "127.0.0.1:$port" nobreak
    reads "qemu_${accel}_uart_tcp" "tcp:127.0.0.1:$port"
    halt uartt

    # ivshmem-plain behind kdcom-shim.
    shim_reads plain vm-plain "$T/plain.shm"

    # ivshmem-doorbell, kdcom-shim as the ivshmem server.
    if "$shim" --help 2>/dev/null | grep -q -e '--ivshmem-server'; then
        shim_reads doorbell vm-doorbell "$T/ivs.sock" \
            --ivshmem-server "$T/ivs.sock"
    else
        echo "qemu_${accel}_doorbell_failed kdcom-shim has no --ivshmem-server"
    fi

    # The channel alone.
    if [ -x "$echo_bin" ]; then
        start echo "$echo_bin" "$T/rtt.shm"
        sleep 0.2
        boot rtt kdcom-bm-vm.elf vm-plain "$T/rtt.shm" "rtt=$rtts"
        i=0
        while [ $i -lt 3000 ] && ! grep -q "round trips/s" "$T/rtt.console" 2>/dev/null; do
            sleep 0.1
            i=$((i + 1))
        done
        v=$(sed -n 's/.* \([0-9]*\) round trips\/s, 0 bad.*/\1/p' "$T/rtt.console")
        if [ -n "$v" ]; then
            echo "qemu_${accel}_rtt_per_s $v"
        else
            echo "qemu_${accel}_rtt_failed $(tail -n 1 "$T/rtt.console" 2>/dev/null)"
        fi
        halt rtt
    else
        echo "qemu_${accel}_rtt_failed $echo_bin not built"
    fi
}

for a in $accels; do
    measure "$a"
done
echo "qemu_status $size per run, median of $reps runs; $rtts round trips"
