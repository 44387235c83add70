# SPDX-License-Identifier: BSD-2-Clause
#
# lib.sh - shared by the end-to-end tests: the process helpers of
# tests/proc.sh (a private temp directory, child processes that are always
# stopped and reaped, bounded waits) and the programs most tests start.
# Source it from a script one directory below tests/; E2E_BIN must name
# the directory with the example programs.

BIN=${E2E_BIN:?E2E_BIN must point at the example programs}
TMP_NAME=kdcom-e2e
. "$(dirname "$0")/../proc.sh"

# shim_up: starts kdcom-shim on $T/kd.shm and a free port; sets $PORT.
shim_up() {
    start shim "$BIN/kdcom-shim" --shm "$T/kd.shm" "$@" tcp-listen:127.0.0.1:0
    SHIM=$LAST
    PORT=$(wait_value "$T/shim.out" KDCOM_SHIM_PORT) || fail "shim did not start"
}

# kernel_up [LOGNAME] [OPTIONS]: starts kdcom-simkernel-vm on $T/kd.shm.
kernel_up() {
    n=${1:-sim}
    [ $# -gt 0 ] && shift
    start "$n" "$BIN/kdcom-simkernel-vm" -q "$@" "$T/kd.shm"
    SIM=$LAST
}

# client_session LOGNAME MESSAGE [COMMAND...]: kdcom-client through the
# shim on $PORT waits for the kernel to stop, then runs COMMANDs (version
# go by default); its output in $T/LOGNAME.out.  The test fails with
# MESSAGE if the client does.
client_session() {
    n=$1 m=$2
    shift 2
    [ $# -gt 0 ] || set -- version go
    "$BIN/kdcom-client" "tcp:127.0.0.1:$PORT" wait-stop 10000 "$@" \
        >"$T/$n.out" 2>&1 || fail "$m"
}

# each_path FUNCTION [OPTION...]: runs FUNCTION NAME PORT LOG against a
# simulated kernel started for it on each path in turn: vm
# (kdcom-simkernel-vm behind kdcom-shim, LOG the shim's stderr), uart
# (kdcom-simkernel-uart, guest/'s 16550 back end) and fd (kdcom-simkernel,
# libkdcom's TARGET role on the socket), the last two with OPTIONs and LOG
# their stderr.  Each kernel is stopped after its turn.
each_path() {
    fn=$1
    shift
    shim_up
    kernel_up
    "$fn" vm "$PORT" "$T/shim.err"
    stop "$SIM"
    stop "$SHIM"
    for path in uart fd; do
        prog=kdcom-simkernel
        [ "$path" = uart ] && prog=kdcom-simkernel-uart
        start "$path" "$BIN/$prog" "$@" tcp-listen:127.0.0.1:0
        pid=$LAST
        port=$(wait_value "$T/$path.out" KDCOM_SIM_PORT) ||
            fail "$path: no port"
        "$fn" "$path" "$port" "$T/$path.err"
        stop "$pid"
    done
}
