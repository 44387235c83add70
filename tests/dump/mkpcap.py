#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""mkpcap.py - turns a --trace hex log (lines "D>T 30 30 ..." / "T>D ...",
each the bytes of one read or write) into a capture file, for the
kdcom-dump and dissector tests.

  --link tcp   a TCP session: handshake, the chunks as segments of at most
               --mss bytes (the target is the server on --port, the
               debugger the client), an ACK for each, FIN at the end;
               IPv4 over Ethernet, or IPv6 over Linux cooked capture
               (SLL) with --ipv6.  --retransmit K sends the Kth data
               segment twice; --reorder K swaps the Kth data segment with
               the next one of the same direction.
  --link user  the chunks on LINKTYPE_USER0, interface 0 "debugger" and 1
               "target", as kdcom-shim --pcap writes them; --mss splits
               chunks into several blocks (packets across blocks).

  --format pcap|pcapng   the file format (default pcapng)

Timestamps start at 1700000000 s and advance 100 microseconds per packet.
usage: mkpcap.py [options] TRACE OUTPUT
"""
import argparse
import struct
import sys

T0 = 1700000000 * 1000000


def read_trace(path):
    chunks = []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line.startswith("D>T") or line.startswith("T>D"):
                data = bytes(int(t, 16) for t in line[3:].split())
                if data:
                    chunks.append((line[:3], data))
    return chunks


def split(chunks, mss):
    out = []
    for d, data in chunks:
        for i in range(0, len(data), mss):
            out.append((d, data[i:i + mss]))
    return out


# ---------------------------------------------------------------- writers

class Pcap:
    def __init__(self, fh, linktype):
        self.fh = fh
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144,
                             linktype))

    def packet(self, ts, data, iface=0, flags=None):
        self.fh.write(struct.pack("<IIII", ts // 1000000, ts % 1000000,
                                  len(data), len(data)) + data)


def opt(code, value):
    pad = (4 - len(value) % 4) % 4
    return struct.pack("<HH", code, len(value)) + value + b"\0" * pad


def block(btype, body):
    total = 12 + len(body)
    return struct.pack("<II", btype, total) + body + struct.pack("<I", total)


class Pcapng:
    def __init__(self, fh, linktype, names):
        self.fh = fh
        shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + \
            opt(4, b"mkpcap.py") + opt(0, b"")
        fh.write(block(0x0A0D0D0A, shb))
        for name in names:
            idb = struct.pack("<HHI", linktype, 0, 262144) + \
                opt(2, name.encode()) + opt(9, b"\x06") + opt(0, b"")
            fh.write(block(1, idb))

    def packet(self, ts, data, iface=0, flags=None):
        pad = (4 - len(data) % 4) % 4
        body = struct.pack("<IIIII", iface, ts >> 32, ts & 0xffffffff,
                           len(data), len(data)) + data + b"\0" * pad
        if flags is not None:
            body += opt(2, struct.pack("<I", flags)) + opt(0, b"")
        self.fh.write(block(6, body))


# -------------------------------------------------------------------- TCP

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Tcp:
    def __init__(self, ipv6, port):
        self.ipv6 = ipv6
        if ipv6:
            self.addr = {"D>T": b"\xfd" + b"\0" * 14 + b"\x01",
                         "T>D": b"\xfd" + b"\0" * 14 + b"\x02"}
        else:
            self.addr = {"D>T": bytes([10, 0, 0, 1]),
                         "T>D": bytes([10, 0, 0, 2])}
        self.port = {"D>T": 40000, "T>D": port}
        self.seq = {"D>T": 1000, "T>D": 500000}

    def segment(self, d, seq, ack, flags, payload):
        other = "T>D" if d == "D>T" else "D>T"
        src, dst = self.addr[d], self.addr[other]
        tcp = struct.pack("!HHIIBBHHH", self.port[d], self.port[other],
                          seq & 0xffffffff, ack & 0xffffffff, 5 << 4, flags,
                          65535, 0, 0) + payload
        if self.ipv6:
            pseudo = src + dst + struct.pack("!I3xB", len(tcp), 6)
            c = csum(pseudo + tcp)
            tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
            ip = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src + dst
            # Linux cooked capture: packet type, ARPHRD, address, protocol
            sll = struct.pack("!HHH8sH", 4 if d == "D>T" else 0, 772, 0,
                              b"", 0x86DD)
            return sll + ip + tcp
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        c = csum(pseudo + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000,
                         64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
        if d == "T>D":
            eth = b"\x02\0\0\0\0\x01" + b"\x02\0\0\0\0\x02" + b"\x08\x00"
        return eth + ip + tcp


def write_tcp(args, chunks, w):
    t = Tcp(args.ipv6, args.port)
    ts = [T0]

    def emit(frame):
        w.packet(ts[0], frame)
        ts[0] += 100

    SYN, ACK, FIN, PSH = 0x02, 0x10, 0x01, 0x08
    emit(t.segment("D>T", t.seq["D>T"], 0, SYN, b""))
    emit(t.segment("T>D", t.seq["T>D"], t.seq["D>T"] + 1, SYN | ACK, b""))
    t.seq["D>T"] += 1
    t.seq["T>D"] += 1
    emit(t.segment("D>T", t.seq["D>T"], t.seq["T>D"], ACK, b""))
    start = dict(t.seq)
    segs = []
    for d, data in split(chunks, args.mss):
        segs.append([d, t.seq[d], data])
        t.seq[d] += len(data)
    if args.reorder:
        k = args.reorder - 1
        for i in range(k, len(segs) - 1):
            if segs[i][0] == segs[i + 1][0]:
                segs[i], segs[i + 1] = segs[i + 1], segs[i]
                break
    high = dict(start)  # next sequence number of each side so far
    for n, (d, seq, data) in enumerate(segs, 1):
        other = "T>D" if d == "D>T" else "D>T"
        emit(t.segment(d, seq, high[other], PSH | ACK, data))
        if n == args.retransmit:
            emit(t.segment(d, seq, high[other], PSH | ACK, data))
        high[d] = max(high[d], seq + len(data))
        emit(t.segment(other, high[other], high[d], ACK, b""))
    emit(t.segment("D>T", t.seq["D>T"], t.seq["T>D"], FIN | ACK, b""))
    emit(t.segment("T>D", t.seq["T>D"], t.seq["D>T"] + 1, FIN | ACK, b""))
    emit(t.segment("D>T", t.seq["D>T"] + 1, t.seq["T>D"] + 1, ACK, b""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--link", choices=["tcp", "user"], default="tcp")
    ap.add_argument("--format", choices=["pcap", "pcapng"], default="pcapng")
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--port", type=int, default=5800)
    ap.add_argument("--mss", type=int, default=1460)
    ap.add_argument("--retransmit", type=int, default=0)
    ap.add_argument("--reorder", type=int, default=0)
    ap.add_argument("trace")
    ap.add_argument("output")
    args = ap.parse_args()
    chunks = read_trace(args.trace)
    if not chunks:
        sys.exit("mkpcap.py: no trace lines in %s" % args.trace)
    with open(args.output, "wb") as fh:
        if args.link == "user":
            w = (Pcapng(fh, 147, ["debugger", "target"])
                 if args.format == "pcapng" else Pcap(fh, 147))
            ts = T0
            for d, data in split(chunks, args.mss):
                iface = 0 if d == "D>T" else 1
                # written as the debugger's end saw it
                w.packet(ts, data, iface, 2 if d == "D>T" else 1)
                ts += 100
        else:
            lt = 113 if args.ipv6 else 1
            w = Pcapng(fh, lt, ["lo"]) if args.format == "pcapng" \
                else Pcap(fh, lt)
            write_tcp(args, chunks, w)


if __name__ == "__main__":
    main()
