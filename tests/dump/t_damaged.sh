#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# A damaged session: the simulated kernel on TCP (with a FILE_IO request
# at boot), the recording proxy flipping a bit in one packet to the
# debugger, putting noise before another and swallowing one of the
# debugger's ACKs; kdcom-client with --trace hex.  Then:
#   - kdcom-dump decodes the proxy's pcapng and the client's hex trace
#     alike, and its summary has the client's counters: one bad checksum,
#     one RESEND each way, the retransmissions, a duplicate, 3 noise bytes;
#   - TCP captures made from the hex trace (Ethernet/IPv4 pcap; Linux
#     cooked/IPv6 pcapng with small segments, a retransmitted and two
#     swapped segments; the USER0 link type in 97-byte pieces; another
#     port) decode to the same items, in kdcom-dump and in the dissector;
#   - the dissector flags the bad checksum (expert info), shows the noise,
#     the RESENDs and FILE_IO.
. "$(dirname "$0")/lib.sh"

FILE='C:\kdfiles\drv.sys'
start sim "$BIN/kdcom-simkernel" -q --pull-file "$FILE" tcp-listen:127.0.0.1:0
SIM=$LAST
PORT=$(wait_value "$T/sim.out" KDCOM_SIM_PORT) || fail "simkernel did not start"
proxy dmg "$PORT" --corrupt-t2d 6 --noise-t2d 8 --drop-ack-d2t 10
"$BIN/kdcom-client" --trace hex "tcp:127.0.0.1:$PPORT" \
    wait-stop 10000 version read 0xfffff80000000000 64 control 2 16 \
    context go wait-print "running (resume 0)" 5000 sleep 1500 break go \
    wait-print "running (resume 1)" 5000 stats \
    >"$T/client.out" 2>"$T/client.err" || fail "client session failed"
wait_exit "$PROXYPID" 10 || fail "proxy did not end with the session"
stop "$SIM"
grep -E '^(D>T|T>D) ' "$T/client.err" >"$T/trace.hex"

"$DUMP" --json "$T/dmg.pcapng" >"$T/pcapng.jsonl" || fail "kdcom-dump pcapng"
"$DUMP" --json "$T/trace.hex" >"$T/hex.jsonl" || fail "kdcom-dump hex trace"
"$DUMP" --json - <"$T/client.err" >"$T/stdin.jsonl" ||
    fail "kdcom-dump on stdin (the client's whole stderr)"
$CHECK json "$T/pcapng.jsonl" || fail "JSON lines"
$CHECK same "$T/pcapng.jsonl" "$T/hex.jsonl" || fail "pcapng against hex trace"
$CHECK same "$T/hex.jsonl" "$T/stdin.jsonl" || fail "hex trace on stdin"
$CHECK stats "$T/pcapng.jsonl" client "$T/client.out" ||
    fail "summary against the client's counters"
$CHECK count "$T/pcapng.jsonl" 'i["kind"] == "bad_checksum"' 1 ||
    fail "bad checksum"
$CHECK count "$T/pcapng.jsonl" 'i["kind"] == "noise" and i["bytes"] == 3' 1 ||
    fail "noise"
$CHECK count "$T/pcapng.jsonl" 'i.get("duplicate")' 1 || fail "duplicate"
$CHECK count "$T/pcapng.jsonl" \
    'i.get("type") == 11 and i["dir"] == "T>D" and i["kd"]["name"] == "DbgKdCreateFileApi" and i["kd"]["file"] == "C:\\kdfiles\\drv.sys"' 1 ||
    fail "CreateFile request"
$CHECK count "$T/pcapng.jsonl" \
    'i.get("type") == 11 and i["dir"] == "D>T" and i["kd"]["status"] == "0xc000000f"' 1 ||
    fail "CreateFile answer"

# TCP captures of the same session
$MKPCAP --format pcap "$T/trace.hex" "$T/tcp4.pcap" || fail "mkpcap tcp4"
$MKPCAP --ipv6 --mss 200 --retransmit 7 --reorder 12 "$T/trace.hex" \
    "$T/tcp6.pcapng" || fail "mkpcap tcp6"
$MKPCAP --link user --mss 97 "$T/trace.hex" "$T/user.pcapng" ||
    fail "mkpcap user"
$MKPCAP --port 6000 "$T/trace.hex" "$T/port6000.pcapng" || fail "mkpcap port"
for c in tcp4.pcap tcp6.pcapng user.pcapng; do
    "$DUMP" --json "$T/$c" >"$T/$c.jsonl" || fail "kdcom-dump $c"
    $CHECK same "$T/hex.jsonl" "$T/$c.jsonl" >/dev/null ||
        fail "$c decodes differently: $($CHECK same "$T/hex.jsonl" "$T/$c.jsonl")"
done
grep -q '"retransmitted_segments":1,"out_of_order":1,' "$T/tcp6.pcapng.jsonl" ||
    fail "TCP retransmission and reordering not counted: $(tail -n 1 "$T/tcp6.pcapng.jsonl")"
"$DUMP" --json "$T/port6000.pcapng" >"$T/p6000-default.jsonl" ||
    fail "kdcom-dump on another port"
grep -q '"packets":0,' "$T/p6000-default.jsonl" &&
    grep -q 'other ports ignored (--port PORT' "$T/p6000-default.jsonl" ||
    fail "another port: not ignored with a note"
"$DUMP" --json --port 6000 "$T/port6000.pcapng" >"$T/p6000.jsonl" ||
    fail "kdcom-dump --port 6000"
$CHECK same "$T/hex.jsonl" "$T/p6000.jsonl" >/dev/null || fail "--port 6000"
"$DUMP" --json --port any "$T/port6000.pcapng" >"$T/pany.jsonl" ||
    fail "kdcom-dump --port any"
$CHECK same "$T/hex.jsonl" "$T/pany.jsonl" >/dev/null || fail "--port any"

if ! have_tshark; then
    echo "SKIP: tshark not installed ($NAME: the dissector part)"
    pass "kdcom-dump only"
fi
for c in dmg.pcapng tcp4.pcap tcp6.pcapng user.pcapng; do
    j=$T/$c.jsonl
    [ "$c" = dmg.pcapng ] && j=$T/pcapng.jsonl
    tshark_kd -o tcp.reassemble_out_of_order:TRUE -r "$T/$c" -T pdml \
        >"$T/$c.pdml" || fail "tshark $c: $(cat "$T/tshark.err")"
    $CHECK tshark "$T/$c.pdml" "$j" || fail "dissector on $c"
done
tshark_kd -o kdcom.tcp_ports:6000 -r "$T/port6000.pcapng" -T pdml \
    >"$T/p6000.pdml" || fail "tshark port 6000"
$CHECK tshark "$T/p6000.pdml" "$T/p6000.jsonl" ||
    fail "dissector with the port preference"
tshark_kd -r "$T/dmg.pcapng" -q -z expert >"$T/expert.out" ||
    fail "tshark expert"
grep -q 'Checksum *KDCOM *Bad checksum: 0x[0-9a-f]* on the wire' \
    "$T/expert.out" || fail "no bad-checksum expert info"
grep -q '3 bytes outside any packet' "$T/expert.out" || fail "no noise info"
n=$(sed -n 's/^ *\([0-9]*\) *Sequence *KDCOM *RESEND.*/\1/p' "$T/expert.out")
m=$(python3 -c 'import json,sys; s=json.loads(open(sys.argv[1]).read().split("\n")[-2])["summary"]; print(s["D>T"]["resends"]+s["T>D"]["resends"])' "$T/pcapng.jsonl")
[ "$n" = "$m" ] || fail "RESEND expert infos: $n, kdcom-dump counted $m"
n=$(tshark_kd -r "$T/dmg.pcapng" -Y 'kdcom.checksum.status == 0' | wc -l)
[ "$n" = 1 ] || fail "kdcom.checksum.status == 0 selects $n frames"
tshark_kd -r "$T/dmg.pcapng" -Y 'kdcom.type == 11' -T fields \
    -e kdcom.kd.file.name -e kdcom.kd.file.status >"$T/fio.out"
grep -q '^C:\\kdfiles\\drv.sys	0x00000000' "$T/fio.out" &&
    grep -q '0xc000000f' "$T/fio.out" || fail "FILE_IO fields: $(cat "$T/fio.out")"
pass "bad checksum, noise, duplicate; pcapng, hex, TCP v4/v6, USER0 alike in kdcom-dump and tshark"
