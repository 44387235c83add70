#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# A `make demo` session (simulated kernel on the VM channel, kdcom-shim,
# TCP, kdcom-client) recorded by the proxy at the debugger's end as
# pcapng.  kdcom-dump and the dissector (tshark) must decode every packet
# with the fields the client's own decoded trace printed; the JSON lines
# must parse; the summary must match the client's and the shim's link
# counters; the dissector's fields must filter.
. "$(dirname "$0")/lib.sh"

start shim "$BIN/kdcom-shim" --shm "$T/kd.shm" tcp-listen:127.0.0.1:0
SHIM=$LAST
PORT=$(wait_value "$T/shim.out" KDCOM_SHIM_PORT) || fail "shim did not start"
start sim "$BIN/kdcom-simkernel-vm" -q "$T/kd.shm"
SIM=$LAST
proxy demo "$PORT"
"$BIN/kdcom-client" --trace decode "tcp:127.0.0.1:$PPORT" \
    wait-stop 10000 version verify 0xfffff80000000000 256K \
    write 0xfffff80000200000 6b64636f6d2064656d6f21 \
    expect 0xfffff80000200000 6b64636f6d2064656d6f21 context go \
    wait-print "running (resume 0)" 5000 break go \
    wait-print "running (resume 1)" 5000 stats \
    >"$T/client.out" 2>"$T/client.err" || fail "client session failed"
wait_exit "$PROXYPID" 10 || fail "proxy did not end with the session"
[ "$RC" = 0 ] || fail "proxy exited $RC"
stop "$SIM"
stop "$SHIM"
grep -q "kdcom-shim: link:" "$T/shim.err" || fail "no shim counters"

# kdcom-dump: text and JSON
"$DUMP" "$T/demo.pcapng" >"$T/dump.txt" || fail "kdcom-dump failed"
"$DUMP" --json "$T/demo.pcapng" >"$T/dump.jsonl" || fail "kdcom-dump --json"
$CHECK json "$T/dump.jsonl" || fail "JSON lines"
$CHECK trace "$T/client.err" "$T/dump.txt" ||
    fail "kdcom-dump differs from the client's decoded trace"
$CHECK stats "$T/dump.jsonl" client "$T/client.out" ||
    fail "summary against the client's counters"
$CHECK stats "$T/dump.jsonl" shim "$T/shim.err" ||
    fail "summary against the shim's counters"
$CHECK count "$T/dump.jsonl" \
    'i.get("kd", {}).get("text") == "simkernel: running (resume 1)\n"' 1 ||
    fail "the last DbgPrint"
$CHECK count "$T/dump.jsonl" 'i["kind"] == "breakin"' 1 || fail "break-in"
grep -q '^ *[0-9]* [0-9.]* D>T STATE_MANIPULATE id=0x8080000[01] len=67 sum=ok DbgKdWriteVirtualMemoryApi addr=0xfffff80000200000 count=11 .* data=11$' \
    "$T/dump.txt" || fail "the write request"

if ! have_tshark; then
    echo "SKIP: tshark not installed ($NAME: the dissector part)"
    pass "kdcom-dump only"
fi
tshark_kd -r "$T/demo.pcapng" -T pdml >"$T/demo.pdml" ||
    fail "tshark failed: $(cat "$T/tshark.err")"
$CHECK tshark "$T/demo.pdml" "$T/dump.jsonl" ||
    fail "the dissector differs from kdcom-dump"
# filters
n=$(tshark_kd -r "$T/demo.pcapng" -Y 'kdcom.kd.api == 0x3130' | wc -l)
m=$(grep -c 'DbgKdReadVirtualMemoryApi' "$T/dump.txt")
[ "$n" -gt 0 ] && [ "$n" -le "$m" ] ||
    fail "kdcom.kd.api == 0x3130 selects $n frames (kdcom-dump: $m packets)"
n=$(tshark_kd -r "$T/demo.pcapng" -Y 'kdcom.type == 2 && kdcom.dir == "T>D"' \
    -T fields -e kdcom.type | tr ',' '\n' | grep -c '^2$')
m=$(grep -c ' T>D STATE_MANIPULATE ' "$T/dump.txt")
[ "$n" = "$m" ] || fail "kdcom.type == 2 from the target: $n, kdcom-dump $m"
tshark_kd -r "$T/demo.pcapng" -Y 'kdcom.kd.string contains "resume 1"' \
    >"$T/f.out" && [ "$(wc -l <"$T/f.out")" = 1 ] ||
    fail "kdcom.kd.string filter"
tshark_kd -r "$T/demo.pcapng" -Y 'kdcom.kd.version.machine == 0x8664' \
    >"$T/f.out" && [ "$(wc -l <"$T/f.out")" = 1 ] ||
    fail "GetVersion reply filter"
tshark_kd -r "$T/demo.pcapng" -Y 'kdcom.breakin' >"$T/f.out" &&
    [ "$(wc -l <"$T/f.out")" = 1 ] || fail "break-in filter"
pass "$(grep -c . "$T/dump.txt") lines, client trace, shim and client counters, tshark"
