# SPDX-License-Identifier: BSD-2-Clause
#
# lib.sh - shared by the capture tests (tests/dump/t_*.sh): the process
# helpers of tests/proc.sh (a private temp directory, background programs
# that are always stopped and reaped, bounded waits), tshark with the
# dissector, and the recording proxy in front of a target.  Source it;
# DUMP_BIN names the directory with the example programs and kdcom-dump,
# DUMP_PROXY the recording proxy, DUMP_LUA the dissector.

BIN=${DUMP_BIN:?DUMP_BIN must point at the example programs}
PROXY=${DUMP_PROXY:?DUMP_PROXY must name tests/dump/kdproxy}
LUA=${DUMP_LUA:?DUMP_LUA must name examples/wireshark/kdcom.lua}
HERE=$(cd "$(dirname "$0")" && pwd)
CHECK="python3 $HERE/check.py"
MKPCAP="python3 $HERE/mkpcap.py"
DUMP="$BIN/kdcom-dump"
TMP_NAME=kdcom-dump
LOG_LINES=15
. "$HERE/../proc.sh"

# fail shows the end of every log but the decoder's long outputs.
log_shown() {
    case $1 in *.jsonl.out|*.pdml.out) return 1;; esac
}

# tshark with the dissector and nobody's personal configuration.
have_tshark() {
    command -v tshark >/dev/null 2>&1
}
tshark_kd() {
    mkdir -p "$T/home"
    HOME="$T/home" XDG_CONFIG_HOME="$T/home/.config" \
        tshark -X lua_script:"$LUA" "$@" 2>"$T/tshark.err"
}

# proxy NAME UPSTREAM_PORT [faults]: the recording proxy in front of a
# target on 127.0.0.1:UPSTREAM_PORT, writing $T/NAME.pcapng; sets
# $PPORT and $PROXYPID.
proxy() {
    pn=$1
    up=$2
    shift 2
    start "$pn" "$PROXY" --connect "127.0.0.1:$up" --pcap "$T/$pn.pcapng" "$@"
    PROXYPID=$LAST
    PPORT=$(wait_value "$T/$pn.out" KDPROXY_PORT) || fail "proxy did not start"
}
