#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# qemu-kd.sh - the QEMU command lines for kernel debugging through
# libkdcom, in one place: docs/integrating.md quotes them and the QEMU
# tests (tests/qemu/) run them.
#
#   qemu-kd.sh args MODE ARG     print the device options for MODE
#   qemu-kd.sh run  MODE ARG KERNEL [OPTIONS...] [-- QEMU-ARGS...]
#                                boot a Multiboot KERNEL (e.g. the
#                                bare-metal test kernel) with them
#
# MODE ARG
#   vm-plain SHMFILE      the VM channel on ivshmem-plain: guest memory
#                         shared with kdcom-shim --shm SHMFILE (polled)
#   vm-doorbell SOCKET    the VM channel on ivshmem-doorbell, memory and
#                         doorbell eventfds from
#                         kdcom-shim --ivshmem-server SOCKET
#   uart-tcp HOST:PORT    COM1 as a TCP server a KDCOM debugger connects
#                         to (WinDbg: -k com:ipport=PORT,port=HOST)
#   uart-unix PATH        COM1 as a Unix socket server
#
# run OPTIONS
#   --append TEXT         the kernel's command line (guest/baremetal/
#                         bm_main.c lists its words)
#   --console FILE        the kernel's log (debugcon port 0xe9) [stderr]
#   --pidfile FILE        QEMU writes its pid there
#   --size SIZE           vm-plain: region size [1M]
#
# Environment: QEMU (default qemu-system-x86_64).  `run` execs QEMU, so
# the caller's pid (or the pidfile) is QEMU's.  QEMU exits with the
# kernel's isa-debug-exit status (guest/baremetal/bm.h): 33 after the
# debugger's .reboot.
set -eu

die() {
    echo "qemu-kd.sh: $*" >&2
    exit 2
}

# The device options of one mode, one per line (so a caller can quote).
args() {
    case "$1" in
    vm-plain)
        echo "-object"
        echo "memory-backend-file,id=kdvm,share=on,mem-path=$2,size=$3"
        echo "-device"
        echo "ivshmem-plain,memdev=kdvm"
        ;;
    vm-doorbell)
        echo "-chardev"
        echo "socket,path=$2,id=kdivs"
        echo "-device"
        echo "ivshmem-doorbell,chardev=kdivs,vectors=1"
        ;;
    uart-tcp)
        echo "-serial"
        echo "tcp:$2,server=on,wait=off,nodelay=on"
        ;;
    uart-unix)
        echo "-serial"
        echo "unix:$2,server=on,wait=off"
        ;;
    *)
        die "unknown mode '$1' (vm-plain, vm-doorbell, uart-tcp, uart-unix)"
        ;;
    esac
}

[ $# -ge 3 ] || die "usage: qemu-kd.sh args|run MODE ARG [KERNEL [OPTIONS]]"
verb=$1 mode=$2 arg=$3
shift 3
size=1M
case "$verb" in
args)
    args "$mode" "$arg" "$size" | tr '\n' ' '
    echo
    exit 0
    ;;
run)
    [ $# -ge 1 ] || die "run needs a KERNEL"
    kernel=$1
    shift
    [ -r "$kernel" ] || die "cannot read kernel '$kernel'"
    append= console= pidfile=
    while [ $# -gt 0 ]; do
        case "$1" in
        --append) append=$2; shift 2 ;;
        --console) console=$2; shift 2 ;;
        --pidfile) pidfile=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        --) shift; break ;;
        *) die "unknown option '$1'" ;;
        esac
    done
    # "$@" now holds the caller's extra QEMU arguments; ours follow.
    set -- "$@" -nodefaults -display none -machine pc -m 64M \
        -kernel "$kernel" -append "$append" \
        -device isa-debug-exit,iobase=0xf4,iosize=4
    if [ -n "$console" ]; then
        set -- "$@" -debugcon "file:$console"
    else
        set -- "$@" -debugcon stdio
    fi
    [ -n "$pidfile" ] && set -- "$@" -pidfile "$pidfile"
    tmp=$(args "$mode" "$arg" "$size")
    # One option per line; no line holds a newline.
    while IFS= read -r line; do
        set -- "$@" "$line"
    done <<EOT
$tmp
EOT
    exec "${QEMU:-qemu-system-x86_64}" "$@"
    ;;
*)
    die "unknown verb '$verb' (args, run)"
    ;;
esac
