#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""mkcorpus_dump.py - writes the seed corpus of fuzz/fuzz_dump.c.

Each seed is two selector bytes (see fuzz_dump.c) and a file kdcom-dump
reads: pcapng on the KDCOM user link type (both byte orders, simple and
obsolete packet blocks, options), pcapng and pcap captures of TCP over
Ethernet (with a VLAN tag), Linux cooked v1/v2, loopback and raw IP,
IPv4 and IPv6, with retransmitted and reordered segments; the hex traces
of tests/vectors; raw streams with damage; and truncated versions.  The
session bytes come from tests/vectors (recorded from real peers).  Files
are named by SHA-256, so running this again only adds what is new.
Usage: fuzz/mkcorpus_dump.py [OUTDIR]   (default: fuzz/corpus/dump)
"""
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, "..", "tests", "vectors")
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus",
                                                         "dump")

# selector byte 0: format (0 auto, 1 pcapng, 2 pcap, 3 hex, 4 raw) | json
# << 3 | any port << 4 | target side << 5; byte 1: chunk exponent (0: in
# place) | raw direction << 4 | capture end << 6
AUTO, PCAPNG, PCAP, HEX, RAW = 0, 1, 2, 3, 4
JSON, ANYPORT = 8, 16


def sel(fmt=AUTO, flags=0, side=0, chunk=0, raw_dir=2, end=0):
    return bytes([fmt | flags | side << 5, chunk | raw_dir << 4 | end << 6])


def chunks(name):
    out = []
    for line in open(os.path.join(VECTORS, name)):
        if line.startswith("D>T") or line.startswith("T>D"):
            data = bytes(int(t, 16) for t in line[3:].split())
            if data:
                out.append((line[:3], data))
    return out


def opt(code, value, be=False):
    e = ">" if be else "<"
    return struct.pack(e + "HH", code, len(value)) + value + \
        b"\0" * (-len(value) % 4)


def block(btype, body, be=False):
    e = ">" if be else "<"
    return struct.pack(e + "II", btype, 12 + len(body)) + body + \
        struct.pack(e + "I", 12 + len(body))


def pcapng(packets, linktype=147, names=(b"debugger", b"target"), be=False,
           tsresol=b"\x06"):
    e = ">" if be else "<"
    out = block(0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1) +
                opt(4, b"seed", be) + opt(0, b"", be), be)
    for n in names:
        out += block(1, struct.pack(e + "HHI", linktype, 0, 0) +
                     opt(2, n, be) + opt(9, tsresol, be) + opt(0, b"", be), be)
    ts = 1700000000000000
    for iface, data, flags in packets:
        body = struct.pack(e + "IIIII", iface, ts >> 32, ts & 0xffffffff,
                           len(data), len(data)) + data + \
            b"\0" * (-len(data) % 4)
        if flags is not None:
            body += opt(2, struct.pack(e + "I", flags), be) + opt(0, b"", be)
        out += block(6, body, be)
        ts += 250
    return out


def user_packets(name, mss=10000):
    pk = []
    for d, data in chunks(name):
        for i in range(0, len(data), mss):
            pk.append((0 if d == "D>T" else 1, data[i:i + mss],
                       2 if d == "D>T" else 1))
    return pk


def pcap(frames, linktype, ns=False, be=False):
    e = ">" if be else "<"
    out = struct.pack(e + "IHHiIII", 0xa1b23c4d if ns else 0xa1b2c3d4, 2, 4,
                      0, 0, 262144, linktype)
    t = 0
    for f in frames:
        out += struct.pack(e + "IIII", 1700000000, t, len(f), len(f)) + f
        t += 100
    return out


def tcp_frames(name, wrap, v6=False, mss=1460, retransmit=0, reorder=0,
               port=5800):
    a = {"D>T": (b"\xfd" + b"\0" * 14 + b"\1") if v6 else b"\x0a\0\0\1",
         "T>D": (b"\xfd" + b"\0" * 14 + b"\2") if v6 else b"\x0a\0\0\2"}
    p = {"D>T": 40000, "T>D": port}
    seq = {"D>T": 1000, "T>D": 9000}
    frames = []

    def seg(d, s, flags, payload):
        o = "T>D" if d == "D>T" else "D>T"
        tcp = struct.pack("!HHIIBBHHH", p[d], p[o], s & 0xffffffff, 0,
                          5 << 4, flags, 65535, 0, 0) + payload
        if v6:
            ip = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + a[d] + a[o]
        else:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0,
                             0x4000, 64, 6, 0, a[d], a[o])
        frames.append(wrap(ip + tcp, v6))

    seg("D>T", seq["D>T"], 0x02, b"")
    seg("T>D", seq["T>D"], 0x12, b"")
    seq["D>T"] += 1
    seq["T>D"] += 1
    segs = []
    for d, data in chunks(name):
        for i in range(0, len(data), mss):
            segs.append((d, seq[d], data[i:i + mss]))
            seq[d] += len(data[i:i + mss])
    if reorder and reorder < len(segs):
        for i in range(reorder, len(segs) - 1):
            if segs[i][0] == segs[i + 1][0]:
                segs[i], segs[i + 1] = segs[i + 1], segs[i]
                break
    for n, (d, s, data) in enumerate(segs, 1):
        seg(d, s, 0x18, data)
        if n == retransmit:
            seg(d, s, 0x18, data)
    seg("D>T", seq["D>T"], 0x11, b"")
    seg("T>D", seq["T>D"], 0x04, b"")
    return frames


def eth(ip, v6, vlan=False):
    et = b"\x86\xdd" if v6 else b"\x08\x00"
    tag = b"\x81\x00\x00\x05" if vlan else b""
    return b"\2\0\0\0\0\2\2\0\0\0\0\1" + tag + et + ip


def sll(ip, v6):
    return struct.pack("!HHH8sH", 0, 772, 0, b"", 0x86DD if v6 else 0x0800) + ip


def sll2(ip, v6):
    return struct.pack("!HHIHBB8s", 0x86DD if v6 else 0x0800, 0, 1, 772, 0,
                       0, b"") + ip


def null(ip, v6):
    return struct.pack("<I", 24 if v6 else 2) + ip


def loop(ip, v6):
    return struct.pack(">I", 24 if v6 else 2) + ip


def raw(ip, v6):
    return ip


def frame(ptype, pid, payload, bad_sum=False, bad_trailer=False):
    s = (sum(payload) + (1 if bad_sum else 0)) & 0xffffffff
    return (b"0000" + struct.pack("<HHII", ptype, len(payload), pid, s) +
            payload + (b"\x55" if bad_trailer else b"\xaa"))


def control(ptype, pid=0):
    return b"iiii" + struct.pack("<HHII", ptype, 0, pid, 0)


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = []
    r2 = "reactos-target_radare2-debugger.txt"
    pyk = "reactos-target_pykdclient-debugger.txt"
    xp = "windbg-xp-capture.txt"
    for v in (r2, pyk, xp):
        text = open(os.path.join(VECTORS, v), "rb").read()
        seeds.append(sel(HEX) + text)
        seeds.append(sel(AUTO, JSON, chunk=3) + text)
    seeds.append(sel() + pcapng(user_packets(r2)))
    seeds.append(sel(AUTO, JSON, chunk=2) + pcapng(user_packets(r2, 37)))
    seeds.append(sel(PCAPNG) + pcapng(user_packets(pyk), be=True))
    seeds.append(sel(end=1) + pcapng(user_packets(pyk), names=(b"lo",),
                                     tsresol=b"\x89"))
    seeds.append(sel(end=2, flags=JSON) +
                 pcapng([(0, d, f) for _, d, f in user_packets(r2, 300)],
                        names=(b"x",), tsresol=b"\x09"))
    seeds.append(sel(PCAP) + pcap([d for _, d, _ in user_packets(r2)], 147))
    seeds.append(sel() + pcap(tcp_frames(r2, eth), 1))
    seeds.append(sel(flags=JSON, chunk=5) +
                 pcap(tcp_frames(r2, lambda i, v: eth(i, v, True), mss=200,
                                 retransmit=3, reorder=5), 1, ns=True))
    seeds.append(sel() + pcapng([(0, f, None) for f in
                                 tcp_frames(pyk, sll, v6=True, mss=300,
                                            reorder=2)],
                                linktype=113, names=(b"any",)))
    seeds.append(sel(side=1) + pcap(tcp_frames(pyk, sll2, mss=90), 276,
                                    be=True))
    seeds.append(sel(side=2) + pcap(tcp_frames(r2, null, v6=True), 0))
    seeds.append(sel(flags=ANYPORT) + pcap(tcp_frames(r2, loop, port=6000),
                                           108))
    seeds.append(sel() + pcap(tcp_frames(pyk, raw, mss=64), 101))
    seeds.append(sel() + pcap(tcp_frames(pyk, raw, v6=True, mss=64), 229))
    # raw streams: a session, then damage of every kind
    stream = b"".join(d for _, d in chunks(r2))
    seeds.append(sel(RAW, raw_dir=1) + stream)
    dmg = (b"zz" + frame(2, 0x80800000, bytes(56), bad_sum=True) +
           frame(3, 0x80800001, b"\x30\x32\0\0" + bytes(12) + b"hi\n",
                 bad_trailer=True) + b"000" + b"iii" + control(5) +
           b"0000" + struct.pack("<HHII", 2, 5000, 0x80800000, 0) + b"b" +
           control(9) + frame(11, 0x80800000, struct.pack("<I", 0x3430) +
                              bytes(60) + "a.sys".encode("utf-16-le")) +
           frame(7, 0x80800000, struct.pack("<I", 0x3031) + bytes(0xEC) +
                 b"\\drv.sys\0") + frame(2, 0x80800000, b"\x46\x31") +
           frame(7, 0x80800000, bytes(0xF0)) + b"0000")
    seeds.append(sel(RAW, raw_dir=0) + dmg)
    seeds.append(sel(RAW, JSON, raw_dir=1, chunk=1) + dmg)
    # truncated and corrupt
    good = pcapng(user_packets(r2))
    seeds.append(sel() + good[:len(good) // 2])
    seeds.append(sel() + good[:-1])
    bad = bytearray(pcap(tcp_frames(r2, eth), 1))
    bad[40:44] = b"\xff\xff\xff\x7f"
    seeds.append(sel() + bytes(bad))
    written = 0
    for s in seeds:
        name = os.path.join(OUT, hashlib.sha256(s).hexdigest())
        if not os.path.exists(name):
            with open(name, "wb") as fh:
                fh.write(s)
            written += 1
    print("%d seeds, %d new, in %s" % (len(seeds), written, OUT))


if __name__ == "__main__":
    main()
