#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# kdcom-dump on bad input: truncated and corrupt pcapng and pcap files,
# wrong formats, huge lengths, garbage, unreadable paths and bad usage.
# Each must end with a clear message on stderr and status 1 (input) or 2
# (usage), never a crash; what was decoded before a fault is printed.
. "$(dirname "$0")/lib.sh"

python3 - "$T" "$HERE/../vectors/reactos-target_radare2-debugger.txt" <<'EOF'
import os, random, struct, sys
T, vec = sys.argv[1], sys.argv[2]

def opt(code, value):
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)

def block(btype, body, total=None, tail=None):
    total = 12 + len(body) if total is None else total
    return struct.pack("<II", btype, total) + body + \
        struct.pack("<I", total if tail is None else tail)

def shb(major=1):
    return block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, major, 0, -1))

def idb(lt=147, name=b"debugger"):
    return block(1, struct.pack("<HHI", lt, 0, 0) + opt(2, name) + opt(0, b""))

def epb(data, iface=0, caplen=None):
    cl = len(data) if caplen is None else caplen
    return block(6, struct.pack("<IIIII", iface, 0, 0, cl, len(data)) + data +
                 b"\0" * (-len(data) % 4))

# the bytes of the radare2 session, for realistic content
stream = b""
for line in open(vec):
    if line.startswith("D>T"):
        stream += bytes(int(t, 16) for t in line[3:].split())
good = shb() + idb() + b"".join(epb(stream[i:i + 100])
                                 for i in range(0, len(stream), 100))
files = {
    "good.pcapng": good,
    "trunc.pcapng": good[:len(good) // 2 + 3],
    "trunc_hdr.pcapng": good[:len(shb() + idb()) + 6],
    "huge.pcapng": shb() + idb() + block(6, b"\0" * 20, total=0x7ffffff0),
    "odd.pcapng": shb() + idb() + block(6, b"\0" * 21),
    "tail.pcapng": shb() + idb() + block(6, struct.pack("<IIIII", 0, 0, 0, 0, 0),
                                         tail=1234),
    "noif.pcapng": shb() + idb() + epb(b"iiii", iface=7),
    "caplen.pcapng": shb() + idb() + epb(b"iiii", caplen=0x10000),
    "v2.pcapng": shb(major=2) + idb(),
    "bom.pcapng": block(0x0A0D0D0A, struct.pack("<IHHq", 0x11223344, 1, 0, -1)),
    "ethtrunc.pcapng": shb() + idb(lt=1, name=b"eth0") + epb(b"\0" * 10),
    "unsupported.pcapng": shb() + idb(lt=195, name=b"wpan") + epb(b"\x41" * 30),
    "pcap_short": struct.pack("<IHH", 0xa1b2c3d4, 2, 4),
    "pcap_huge": struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1) +
                 struct.pack("<IIII", 0, 0, 0xfffffff0, 0xfffffff0),
    "pcap_trunc": struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 147) +
                  struct.pack("<IIII", 0, 0, 100, 100) + stream[:40],
    "pcap_v1": struct.pack("<IHHiIII", 0xa1b2c3d4, 1, 0, 0, 0, 65535, 1),
    "gzip": b"\x1f\x8b\x08\x00" + b"\0" * 20,
    "empty": b"",
    "decode.log": b"D>T RESET id=0x00000000\nT>D RESET id=0x00000000\n",
    "badhex.log": b"D>T 69 69 69 6\n",
    "nolines.log": b"# only a comment\nkdcom-shim: hello\n",
    "badsize.raw": b"0000" + struct.pack("<HHII", 2, 0xffff, 0x80800000, 0) +
                   b"x" * 13,
}
random.seed(15)
files["garbage.raw"] = bytes(random.randrange(256) for _ in range(20000))
files["garbage.pcapng"] = b"\n\r\r\n" + bytes(random.randrange(256)
                                              for _ in range(5000))
for name, data in files.items():
    with open(os.path.join(T, name), "wb") as fh:
        fh.write(data)
os.mkdir(os.path.join(T, "adir"))
EOF
[ -s "$T/good.pcapng" ] || fail "could not write the test files"

# expect STATUS MESSAGE-PATTERN ARGS...: kdcom-dump ARGS ends with STATUS
# and the pattern on stderr.
expect() {
    want=$1
    pat=$2
    shift 2
    "$DUMP" "$@" >"$T/o.out" 2>"$T/o.err"
    rc=$?
    [ "$rc" -lt 128 ] || fail "kdcom-dump $* crashed (status $rc)"
    [ "$rc" = "$want" ] || fail "kdcom-dump $*: status $rc, expected $want: $(cat "$T/o.err")"
    if [ -n "$pat" ]; then
        grep -q -e "$pat" "$T/o.err" ||
            fail "kdcom-dump $*: no '$pat' in: $(cat "$T/o.err")"
        [ "$(wc -l <"$T/o.err")" -le 2 ] || fail "kdcom-dump $*: long error"
    fi
    n=$((n + 1))
}
n=0

expect 0 "" "$T/good.pcapng"
grep -q "D>T STATE_MANIPULATE id=0x80800000 len=56 sum=ok DbgKdGetVersionApi" \
    "$T/o.out" || fail "the good capture did not decode"
expect 1 "truncated: the file ends inside a block of" "$T/trunc.pcapng"
grep -q "RESET id=0x00000000" "$T/o.out" ||
    fail "nothing printed before the truncation"
grep -q "^-- summary" "$T/o.out" || fail "no summary after a truncation"
expect 1 "truncated: the file ends inside a block header" "$T/trunc_hdr.pcapng"
expect 1 "bad length 2147483632 (corrupt file?)" "$T/huge.pcapng"
expect 1 "bad length 33" "$T/odd.pcapng"
expect 1 "trailing length 1234 differs from 32" "$T/tail.pcapng"
expect 1 "names interface 7, but the section has 1" "$T/noif.pcapng"
expect 1 "claims 65536 captured bytes" "$T/caplen.pcapng"
expect 1 "version 2.0; only 1.x" "$T/v2.pcapng"
expect 1 "bad byte-order magic" "$T/bom.pcapng"
expect 1 "bad byte-order magic" "$T/garbage.pcapng"
expect 0 "" --json "$T/ethtrunc.pcapng"
grep -q '"malformed":1' "$T/o.out" || fail "a short Ethernet frame not counted"
expect 0 "" "$T/unsupported.pcapng"
grep -q "packet(s) on link type 195 skipped" "$T/o.out" ||
    fail "unsupported link type not noted"
expect 1 "pcap: truncated: the file ends inside its 24-byte header" \
    --format pcap "$T/pcap_short"
expect 1 "claims 4294967280 bytes (corrupt file?)" "$T/pcap_huge"
expect 1 "pcap: truncated: the file ends inside record 1" "$T/pcap_trunc"
expect 1 "pcap: version 1.0" "$T/pcap_v1"
expect 1 "gzip-compressed" "$T/gzip"
expect 1 "empty input" "$T/empty"
expect 1 "is not a hex byte" "$T/decode.log"
expect 1 "line 1: '6' is not a hex byte" "$T/badhex.log"
expect 1 "no trace lines" --format hex "$T/nolines.log"
expect 1 "not a pcapng file" --format pcapng "$T/decode.log"
expect 1 "not a pcap file" --format pcap "$T/good.pcapng"
expect 1 "cannot open $T/missing: No such file" "$T/missing"
expect 1 "Is a directory" "$T/adir"
# garbage as a raw stream is noise, not an error
expect 0 "" --json "$T/garbage.raw"
$CHECK json "$T/o.out" >/dev/null || fail "JSON of garbage"
python3 -c 'import json,sys; s=json.loads(open(sys.argv[1]).read().split("\n")[-2])["summary"]["?"]; assert s["bytes"]==20000 and s["noise_bytes"]+s["incomplete"]>0, s' \
    "$T/o.out" || fail "garbage: every byte not accounted for"
expect 0 "" --from target "$T/badsize.raw"
grep -q "T>D STATE_MANIPULATE id=0x80800000 len=65535 BAD_SIZE" "$T/o.out" ||
    fail "oversized ByteCount not reported"
grep -q "bad_size=1 noise_bytes=13" "$T/o.out" ||
    fail "bytes after an oversized header not hunted as noise"
# usage
expect 2 "unknown option '--frobnicate'" --frobnicate "$T/good.pcapng"
expect 2 "missing FILE" --json
expect 2 "bad value '0' for --port" --port 0 "$T/good.pcapng"
expect 2 "bad value 'sideways' for --target-side" --target-side sideways x
expect 2 "one input only" "$T/good.pcapng" "$T/good.pcapng"
expect 2 "bad value 'xml' for --format" --format xml x
expect 0 "" --help
grep -q -- "--json" "$T/o.out" && grep -q -- "--port" "$T/o.out" ||
    fail "--help does not list the options"
expect 0 "" --version
v=$(sed -n 's/^#define KDCOM_VERSION_STRING "\(.*\)"/\1/p' \
    "$HERE/../../include/kdcom.h")
grep -q "kdcom-dump (libkdcom) $v" "$T/o.out" || fail "--version: $(cat "$T/o.out")"
pass "$n cases"
