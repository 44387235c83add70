#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The capture writer (examples/common/pcapng.c), through the recording
# proxy that links it: the file layout, the direction flags of each side,
# a capture that survives the writer being killed mid-session, clear
# errors for paths that cannot be written, and a full disk in the middle
# of a session (capture stops, the program carries on).
#
# Then the --pcap FILE option of kdcom-shim, kdcom-client and
# kdcom-simkernel: both ends of a session capture the same items.
. "$(dirname "$0")/lib.sh"

# ---- layout and flags, for each side
start sim "$BIN/kdcom-simkernel" -q tcp-listen:127.0.0.1:0
SIM=$LAST
PORT=$(wait_value "$T/sim.out" KDCOM_SIM_PORT) || fail "simkernel did not start"
for side in debugger target none; do
    proxy "$side" "$PORT" --side "$side"
    "$BIN/kdcom-client" -q "tcp:127.0.0.1:$PPORT" wait-stop 10000 version \
        >"$T/c-$side.out" 2>&1 || fail "client via the proxy ($side)"
    wait_exit "$PROXYPID" 10 || fail "proxy did not end"
    $CHECK pcapng "$T/$side.pcapng" "$side" || fail "layout, $side side"
done
"$DUMP" --json "$T/debugger.pcapng" >"$T/a.jsonl" || fail "kdcom-dump"
"$DUMP" --json "$T/none.pcapng" >"$T/b.jsonl" || fail "kdcom-dump"
$CHECK count "$T/a.jsonl" 'i["dir"] == "?"' 0 >/dev/null ||
    fail "a direction not known"
if have_tshark; then
    tshark_kd -r "$T/debugger.pcapng" -T fields -e frame.interface_name \
        -e frame.packet_flags_direction -e kdcom.dir >"$T/flags.out" ||
        fail "tshark on the capture"
    grep -q '^debugger	0x00000002	D>T' "$T/flags.out" &&
        grep -q '^target	0x00000001	T>D' "$T/flags.out" ||
        fail "tshark sees other interfaces or flags: $(head -n 3 "$T/flags.out")"
fi

# ---- killed mid-session: everything written up to then is readable
proxy killed "$PORT"
start kc "$BIN/kdcom-client" -q "tcp:127.0.0.1:$PPORT" wait-stop 10000 \
    version verify 0xfffff80000000000 8M
KC=$LAST
i=0
while [ "$(wc -c <"$T/killed.pcapng")" -lt 200000 ] && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
kill -KILL "$PROXYPID"
wait "$PROXYPID" 2>/dev/null
stop "$KC"
[ "$(wc -c <"$T/killed.pcapng")" -ge 200000 ] || fail "the session wrote too little"
"$DUMP" "$T/killed.pcapng" >"$T/killed.txt" ||
    fail "a capture cut by SIGKILL does not read: $(tail -n 1 "$T/killed.txt")"
grep -q "DbgKdReadVirtualMemoryApi" "$T/killed.txt" || fail "nothing decoded"
if have_tshark; then
    tshark_kd -r "$T/killed.pcapng" >/dev/null || fail "tshark on the cut capture"
fi

# ---- paths that cannot be written
"$PROXY" --connect 127.0.0.1:1 --pcap "$T/no/such/dir/x.pcapng" \
    >"$T/e.out" 2>"$T/e.err" && fail "a capture in a missing directory"
grep -q "^kdproxy: cannot create $T/no/such/dir/x.pcapng: No such file or directory$" \
    "$T/e.err" || fail "error for a missing directory: $(cat "$T/e.err")"
if [ -w /dev/full ]; then
    "$PROXY" --connect 127.0.0.1:1 --pcap /dev/full >"$T/e.out" 2>"$T/e.err" &&
        fail "a capture on a full device"
    grep -q "^kdproxy: cannot write /dev/full: No space left on device$" \
        "$T/e.err" || fail "error for a full device: $(cat "$T/e.err")"
fi

# ---- the disk fills up during a session: one message, the session goes on
(
    trap '' XFSZ
    ulimit -f 64  # 64 blocks of 512 bytes
    exec "$PROXY" --connect "127.0.0.1:$PORT" --pcap "$T/full.pcapng"
) >"$T/full.out" 2>"$T/full.err" &
FULL=$!
PIDS="$PIDS $FULL"
PPORT=$(wait_value "$T/full.out" KDPROXY_PORT) || fail "proxy did not start"
"$BIN/kdcom-client" -q "tcp:127.0.0.1:$PPORT" wait-stop 10000 \
    verify 0xfffff80000000000 256K >"$T/cf.out" 2>&1 ||
    fail "the session did not survive the full capture"
wait_exit "$FULL" 10
grep -q "^kdproxy: --pcap $T/full.pcapng: write failed: File too large; capture stopped$" \
    "$T/full.err" || fail "full capture: $(cat "$T/full.err")"
[ "$(grep -c . "$T/full.err")" = 1 ] || fail "more than one message"
"$DUMP" "$T/full.pcapng" >/dev/null || fail "the capture before the limit"
stop "$SIM"

# ---- --pcap in the programs
for p in kdcom-shim kdcom-client kdcom-simkernel kdcom-simkernel-uart; do
    "$BIN/$p" --help 2>&1 | grep -q -e '--pcap FILE' ||
        fail "$p --help does not document --pcap"
done
"$BIN/kdcom-simkernel-vm" --pcap "$T/vm.pcapng" "$T/vm.shm" \
    >"$T/pv.out" 2>"$T/pv.err" && fail "kdcom-simkernel-vm took --pcap"
grep -q "need a KDCOM wire" "$T/pv.err" ||
    fail "kdcom-simkernel-vm --pcap: $(cat "$T/pv.err")"
[ ! -e "$T/vm.pcapng" ] || fail "kdcom-simkernel-vm made a capture file"

{
    start shim "$BIN/kdcom-shim" --pcap "$T/shim.pcapng" --shm "$T/kd.shm" \
        tcp-listen:127.0.0.1:0
    SHIM=$LAST
    PORT=$(wait_value "$T/shim.out" KDCOM_SHIM_PORT) || fail "shim did not start"
    start vm "$BIN/kdcom-simkernel-vm" -q "$T/kd.shm"
    VM=$LAST
    "$BIN/kdcom-client" --pcap "$T/client.pcapng" --trace decode \
        "tcp:127.0.0.1:$PORT" wait-stop 10000 version \
        verify 0xfffff80000000000 64K go wait-print "resume 0" 5000 break go \
        wait-print "resume 1" 5000 stats >"$T/client.out" 2>"$T/client.err" ||
        fail "session with --pcap"
    sleep 0.2
    stop "$VM"
    stop "$SHIM"
    $CHECK pcapng "$T/client.pcapng" debugger || fail "kdcom-client --pcap"
    $CHECK pcapng "$T/shim.pcapng" target || fail "kdcom-shim --pcap"
    "$DUMP" --json "$T/client.pcapng" >"$T/client.jsonl" || fail "dump client"
    "$DUMP" "$T/client.pcapng" >"$T/client.txt" || fail "dump client"
    "$DUMP" --json "$T/shim.pcapng" >"$T/shim.jsonl" || fail "dump shim"
    $CHECK trace "$T/client.err" "$T/client.txt" ||
        fail "the client's capture against its trace"
    $CHECK same "$T/client.jsonl" "$T/shim.jsonl" ||
        fail "the client's and the shim's captures differ"
    $CHECK stats "$T/client.jsonl" client "$T/client.out" ||
        fail "the client's capture against its counters"
}
{
    start sk "$BIN/kdcom-simkernel" -q --pcap "$T/sk.pcapng" \
        tcp-listen:127.0.0.1:0
    SK=$LAST
    PORT=$(wait_value "$T/sk.out" KDCOM_SIM_PORT) || fail "simkernel did not start"
    "$BIN/kdcom-client" -q --pcap "$T/c2.pcapng" "tcp:127.0.0.1:$PORT" \
        wait-stop 10000 version go wait-print "resume 0" 5000 \
        >"$T/c2.out" 2>&1 || fail "session with the simulated kernel"
    sleep 0.2
    stop "$SK"
    $CHECK pcapng "$T/sk.pcapng" target || fail "kdcom-simkernel --pcap"
    "$DUMP" --json "$T/sk.pcapng" >"$T/sk.jsonl" || fail "dump simkernel"
    "$DUMP" --json "$T/c2.pcapng" >"$T/c2.jsonl" || fail "dump client"
    $CHECK same "$T/c2.jsonl" "$T/sk.jsonl" ||
        fail "the client's and the simulated kernel's captures differ"
}
# A --pcap file that cannot be created stops the program before it does
# anything else.
pcap_error() {
    p=$1
    shift
    "$BIN/$p" --pcap "$T/no/dir/x.pcapng" "$@" >"$T/pe.out" 2>"$T/pe.err" &&
        fail "$p: --pcap into a missing directory"
    grep -q "cannot create $T/no/dir/x.pcapng: No such file or directory" \
        "$T/pe.err" || fail "$p: error for --pcap: $(cat "$T/pe.err")"
}
pcap_error kdcom-shim --shm "$T/pe.shm" tcp-listen:127.0.0.1:0
pcap_error kdcom-client tcp:127.0.0.1:1 version
pcap_error kdcom-simkernel tcp-listen:127.0.0.1:0
for p in kdcom-shim kdcom-client kdcom-simkernel; do
    "$BIN/$p" --pcap - x >"$T/pd.out" 2>"$T/pd.err" &&
        fail "$p: --pcap - (stdout) accepted"
    grep -q -e "--pcap" "$T/pd.err" || fail "$p --pcap -: $(cat "$T/pd.err")"
done
pass "writer layout, flags, SIGKILL, errors, full disk; --pcap in the shim, the client and the simulated kernels"
