#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""mkcorpus.py - writes the seed corpus of the fuzz harnesses.

Seeds come from the wire vectors in tests/vectors (recorded from real
peers) and from scenarios written here in each harness's op language
(see the op switch in fuzz_link.c and fuzz_pair.c).  Files are named by
the SHA-256 of their contents, so running this again only adds what is
new.  Usage: fuzz/mkcorpus.py [OUTDIR]   (default: fuzz/corpus)
"""
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.join(HERE, '..', 'tests', 'vectors')
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, 'corpus')

INITIAL = 0x80800000
SYNC = 0x800


def u16(v):
    return struct.pack('<H', v & 0xffff)


def u32(v):
    return struct.pack('<I', v & 0xffffffff)


def data_frame(ptype, pid, payload, bad_sum=False, bad_trailer=False):
    s = (sum(payload) + (1 if bad_sum else 0)) & 0xffffffff
    return (b'0000' + u16(ptype) + u16(len(payload)) + u32(pid) + u32(s) +
            payload + (b'\x55' if bad_trailer else b'\xaa'))


def control_frame(ptype, pid=0):
    return b'iiii' + u16(ptype) + u16(0) + u32(pid) + u32(0)


def read_vectors():
    """{name: [(direction, bytes), ...]}"""
    vecs = {}
    for name in sorted(os.listdir(VECTORS)):
        if not name.endswith('.txt'):
            continue
        chunks = []
        with open(os.path.join(VECTORS, name)) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith('#'):
                    continue
                d, hexes = line.split(None, 1)
                chunks.append((d, bytes(int(x, 16) for x in hexes.split())))
        vecs[name] = chunks
    return vecs


def config(flags=0, ack=9, retries=3, reset=9, byte_to=20):
    return bytes([flags, ack, retries, reset]) + u16(byte_to) + b'\0\0'


# ---- fuzz_link op language ----
class Link:
    def __init__(self):
        self.b = bytearray()

    def raw(self, data):
        for i in range(0, len(data), 255):
            part = data[i:i + 255]
            self.b += bytes([0, len(part)]) + part
        return self

    def data(self, ptype, idsel, payload, any_id=0, flaw=None):
        sel = ptype % 13 if ptype < 13 else 2
        if flaw is not None:
            sel |= 0x80
        self.b += bytes([1, sel, idsel]) + u32(any_id) + u16(len(payload))
        self.b += payload
        if flaw is not None:
            self.b += bytes([flaw])
        return self

    def control(self, ptype, idsel=0, any_id=0):
        if ptype in (4, 5, 6):
            self.b += bytes([2, ptype - 4])
        else:
            self.b += bytes([2, 200]) + u16(ptype)
        self.b += bytes([idsel]) + u32(any_id)
        return self

    def breakin_byte(self):
        self.b += bytes([3])
        return self

    def feed(self, n=0xffff):
        self.b += bytes([4]) + u16(n)
        return self

    def drain(self, cap):
        self.b += bytes([6]) + u16(cap)
        return self

    def drain_all(self):
        self.b += bytes([7])
        return self

    def event(self):
        self.b += bytes([8])
        return self

    def events(self):
        self.b += bytes([9])
        return self

    def send(self, sel, head_len, data_len):
        self.b += bytes([10, sel]) + u16(head_len) + u16(data_len)
        return self

    def time(self, sel, arg=None):
        self.b += bytes([11, sel])
        if 128 <= sel < 192:
            self.b += u16(arg or 0)
        elif sel >= 192:
            self.b += u32(arg or 0)
        return self

    def deadline(self, tick=True):
        return self.time(65 if tick else 64)

    def misc(self, sel):
        self.b += bytes([131, sel])
        return self

    def step(self):
        return self.feed().events().drain_all().events()

    def done(self, cfg):
        return bytes(self.b) + cfg


# ---- fuzz_pair op language ----
class Pair:
    def __init__(self):
        self.b = bytearray()

    def op(self, *xs):
        self.b += bytes(xs)
        return self

    def pump(self):
        return self.op(9)

    def send_d(self, n):
        return self._send(0x87, n)

    def _send(self, op, n):
        self.b += bytes([op, 0x80]) + u16(n)
        return self

    def send_t(self, n):
        return self._send(7, n)

    def drain_d(self):
        return self.op(0x80)

    def drain_t(self):
        return self.op(0x81)

    def deliver_t(self):
        return self.op(0x82)

    def deliver_d(self):
        return self.op(0x83)

    def damage(self, to_target, kind, pos, n, noise=b''):
        self.b += bytes([4 if to_target else 0x84, kind]) + u16(pos)
        self.b += bytes([n]) + noise
        return self

    def deadline(self):
        return self.op(5, 103)  # jump to the next deadline, tick both

    def misc(self, sel):
        return self.op(8, sel)

    def done(self, cfg):
        return bytes(self.b) + cfg


HOLD, RESTARTS = 8, 16   # KDCOM_CFG_HOLD_PACKETS, KDCOM_CFG_REPORT_RESTARTS
DONE = 0x19              # op_misc: kdcom_packet_done()


def hold_seeds(target):
    """Explicit hand-off: a second packet waits in front of the held first
    one until kdcom_packet_done(); a debugger also sees the target restart
    its numbering (INITIAL|SYNC after the handshake)."""
    seeds = []
    s = Link()
    if not target:
        s.drain_all().control(6).step()   # the RESET echo: synchronised
    s.data(2, 0, b'first').data(2, 1, b'second').feed().event()
    s.control(4, 0).feed().drain_all().misc(DONE).feed().event()
    s.misc(DONE).misc(DONE).step()
    seeds.append(s.done(config(flags=HOLD)))
    s = Link()
    if not target:
        s.drain_all().control(6).step()
    s.data(2, 0, b'a').step().data(2, 2, b'restarted').feed().event()
    s.event().raw(b'00').time(64).feed().misc(DONE).step()
    s.data(2, 3, bytes(range(200))).step()
    seeds.append(s.done(config(flags=HOLD | RESTARTS)))
    return seeds


def link_target_seeds(vecs):
    seeds = []
    for name, chunks in vecs.items():
        s = Link()
        for d, data in chunks:
            if d == 'D>T':
                s.raw(data).step()
            else:
                s.drain_all()
        seeds.append(s.done(config()))
    # the usual KD exchange, with the target's state change first
    s = Link().send(0x40 | 7, 16, 40).drain_all().control(6).step()
    s.send(0x40 | 7, 16, 40).drain_all().control(4, 4).step()
    s.data(2, 0, bytes(range(56))).step().send(0x40 | 2, 16, 8).drain(5)
    s.drain(100).data(2, 1, bytes(56)).step().control(4, 4).step()
    seeds.append(s.done(config()))
    # retries until exhausted, then give up
    s = Link().send(0x80, 0, 0).drain_all()
    for _ in range(8):
        s.deadline().drain_all().events()
    s.misc(0).step()
    seeds.append(s.done(config(retries=2)))
    # bad frames of every kind, a stall, unknown control, bad type
    s = Link().control(6).step()
    s.data(2, 0, b'abc', flaw=1).step().data(2, 0, b'abc', flaw=2).step()
    s.data(2, 0, b'abc', flaw=4).step().control(9).step().data(0, 0, b'x')
    s.step().raw(b'0000\x02\x00\x10\x00').feed().time(40, 0).time(64)
    s.step().raw(b'000i0ab0').step()
    seeds.append(s.done(config()))
    # break-in, RESEND with and without a packet outstanding
    s = Link().breakin_byte().raw(b'b0000').step().misc(3).control(5)
    s.step().send(0x80, 0, 10).drain_all().control(5).step()
    s.breakin_byte().step().misc(3).misc(3)
    seeds.append(s.done(config()))
    # implicit ACK: the debugger's next request acknowledges us
    s = Link().control(6).step().send(0x80, 0, 20).drain_all()
    s.data(2, 0, b'request').step().events()
    seeds.append(s.done(config()))
    s = Link().control(6).step().send(0x80, 0, 20).drain_all()
    s.data(2, 0, b'request').step().events()
    seeds.append(s.done(config(flags=4)))
    # floods: ACKs to many ids, RESENDs, events piling up
    s = Link().control(6).step()
    for i in range(12):
        s.data(2, 7, b'q', any_id=INITIAL + 2 * i)
    for _ in range(12):
        s.control(5)
    s.feed().feed().event().feed().drain(3).feed().events().step()
    seeds.append(s.done(config()))
    # RETRIES_EXHAUSTED coalesced while nobody takes events; huge caps
    s = Link().send(0x80, 0, 9).drain_all()
    for _ in range(6):
        s.deadline().misc(0x12).drain_all()
    s.events()
    seeds.append(s.done(config(retries=1)))
    # close, calls on a closed link, re-initialise; time backwards
    s = Link().send(0x80, 0, 5).misc(4).misc(5).misc(8).misc(6).step()
    s.misc(7).step().time(200, 0xffffffff).misc(4).step()
    seeds.append(s.done(config()))
    # big payloads both ways, drained in odd caps
    s = Link().control(6).step().data(2, 0, bytes(4000)).step()
    s.send(0, 2000, 2000).drain(1).drain(15).drain(4000).drain_all()
    s.send(0, 4000, 1).send(0, 0, 4001).step()
    seeds.append(s.done(config()))
    seeds += hold_seeds(True)
    return seeds


def link_debugger_seeds(vecs):
    seeds = []
    for name, chunks in vecs.items():
        for flags in (0, 1, 2):
            s = Link().drain_all()
            for d, data in chunks:
                if d == 'T>D':
                    s.raw(data).step()
                else:
                    s.drain_all()
            seeds.append(s.done(config(flags=flags)))
    # handshake, request/response, duplicates, a SYNC re-base
    s = Link().drain_all().control(6).step().send(0x40 | 2, 16, 40)
    s.drain_all().control(4, 4).step()
    s.data(7, 2, bytes(range(100))).step().data(7, 2, bytes(range(100)))
    s.step().data(7, 0, b'next').step().data(7, 0, b'next').step()
    s.data(3, 1, b'print').step().misc(2).step().control(6).step()
    s.misc(1).misc(1).drain(0).drain_all()
    seeds.append(s.done(config()))
    # RESET repeats while nobody answers; breakin on sync
    s = Link()
    for _ in range(5):
        s.deadline().drain_all()
    s.send(0x80, 0, 3).deadline().drain_all().control(6).step()
    for _ in range(5):
        s.deadline().drain_all().events()
    seeds.append(s.done(config(flags=1, retries=2)))
    # the RESET echo arrives while a break-in and a RESET are still queued
    s = Link().time(1).misc(1).control(6).feed().events().drain_all()
    s.misc(2).misc(1).time(1).control(6).step()
    seeds.append(s.done(config(flags=1)))
    # passive attach, then everything that can go wrong
    s = Link().data(7, 3, b'late').step().data(7, 3, b'late').step()
    s.data(7, 2, b'x', flaw=1).step().data(7, 2, b'x', flaw=4).step()
    s.raw(b'0000\x07\x00\x40\x00').time(64).step().control(5).step()
    s.send(0x80, 1, 1).drain(8).control(4, 4).drain_all().control(5)
    s.step().misc(0).step()
    seeds.append(s.done(config(flags=2)))
    seeds += hold_seeds(False)
    return seeds


def parser_seeds(vecs):
    seeds = []
    for name, chunks in vecs.items():
        for d in ('D>T', 'T>D'):
            stream = b''.join(c for dd, c in chunks if dd == d)
            for plan in (b'', b'\x01', b'\x00\x03\x10\xff', bytes([17, 1])):
                seeds.append(u16(len(plan)) + plan + stream)
    every = (b'xx00b0i' + control_frame(4, INITIAL) + b'iii0000' +
             data_frame(2, INITIAL, b'hello') +
             data_frame(3, INITIAL | 1, b'sum', bad_sum=True) +
             data_frame(3, INITIAL, b'tr', bad_trailer=True) +
             b'0000\x02\x00\xa1\x0f' + u32(0) + u32(0) + b'b' +
             control_frame(6) + control_frame(99, 5) + b'000')
    for plan in (b'', b'\x02\x05', b'\x00\x01'):
        seeds.append(u16(len(plan)) + plan + every)
    big = data_frame(2, INITIAL, bytes(range(256)) * 15 + bytes(160))
    seeds.append(u16(2) + b'\x07\xfe' + big)
    return seeds


def pair_seeds():
    seeds = []
    p = Pair().pump()
    for i in range(4):
        p.send_d(40 + i).pump().send_t(100 * i).pump().deadline().pump()
    seeds.append(p.done(config()))
    for kind in range(7):
        for to_target in (True, False):
            p = Pair().pump().send_d(60).send_t(30)
            p.drain_d().drain_t()
            p.damage(to_target, kind, 20, 5, b'noise' if kind == 2 else b'')
            p.deliver_t().deliver_d().pump().deadline().pump()
            p.send_d(8).pump().deadline().pump()
            seeds.append(p.done(config()))
    p = Pair().pump().misc(0).pump().misc(1).pump().misc(2).send_t(3)
    p.misc(4).pump().send_d(4000).misc(3).pump().deadline().pump()
    seeds.append(p.done(config(flags=1)))
    p = Pair().pump().send_t(10).send_d(10).pump().deadline().pump()
    seeds.append(p.done(config(flags=4)))
    seeds.append(p.done(config(flags=2)))
    seeds.append(p.done(config(flags=HOLD | RESTARTS)))
    p = Pair().pump()
    for i in range(3):
        p.send_d(40 + i).send_t(20 * i).pump().deadline().pump()
    seeds.append(p.done(config(flags=HOLD)))
    return seeds


# ---- fuzz_vm op language ----
class Vm:
    def __init__(self, ack=20, byte_to=20, recv=30, words=0x400):
        self.b = bytearray([ack - 1, byte_to - 1, recv - 1]) + u16(words)

    def header(self):
        self.b += bytes([0, 0])
        return self

    def request(self, op, ptype=0, head=(0, 0), data=(1, 0), arg=None):
        """head/data: (offset selector 0 = default head buffer, 1 = default
        data buffer; length) with lengths < 4001."""
        self.b += bytes([1, (op - 1) % 4, ptype])
        for off_sel, length in (head, data):
            self.b += bytes([off_sel]) + bytes([1]) + u16(length)
        if not (op == 1):
            self.b += bytes([arg or 0])
        return self

    def scribble(self, off, data):
        self.b += bytes([3]) + u16(off) + bytes([len(data)]) + data
        return self

    def poll(self):
        self.b += bytes([4])
        return self

    def ctl(self, ptype, idsel=4):
        self.b += bytes([6, 1 | ((ptype - 4) << 1), idsel]) + u32(0)
        return self

    def breakin(self):
        self.b += bytes([6, 2, 0]) + u32(0)
        return self

    def data(self, payload, idsel=0):
        self.b += bytes([6, 0, idsel]) + u32(0) + u16(len(payload)) + payload
        return self

    def feed(self):
        self.b += bytes([7]) + u16(0xffff)
        return self

    def drain(self):
        self.b += bytes([8]) + u16(4999)
        return self

    def deadline(self):
        self.b += bytes([9, 0])
        return self

    def done(self):
        return bytes(self.b)


def vm_seeds():
    seeds = []
    v = Vm().header().request(1).poll()
    # SEND a state change, the debugger resets, ACKs; RECEIVE a request
    v.scribble(0x1000, bytes(range(48))).request(2, 7, (0, 16), (1, 32), 20)
    v.poll().drain().ctl(6).feed().poll().drain().poll().ctl(4).feed().poll()
    v.request(3, 2, (0, 56), (1, 4000)).poll().data(bytes(56)).feed().poll()
    v.drain().request(4).breakin().feed().poll().drain()
    seeds.append(v.done())
    # a droppable DbgPrint nobody answers, RECEIVE timeouts, RESEND
    v = Vm().header().scribble(0x1000, b'\x30\x32' + bytes(14))
    v.request(2, 3, (0, 16), (1, 5), 2).poll()
    for _ in range(6):
        v.deadline().drain().poll()
    v.request(3, 2, (0, 16), (1, 100)).poll().deadline().poll()
    v.request(3, 2, (0, 16), (1, 100)).poll().ctl(5).feed().poll()
    seeds.append(v.done())
    # a packet longer than the buffers; a previous host's epoch at its end
    v = Vm().scribble(0x84, b'\xff\xff\xff\xff').header()
    v.request(3, 2, (0, 16), (1, 5)).poll().data(bytes(56)).feed().poll()
    v.deadline().poll()
    seeds.append(v.done())
    # malformed requests of every kind, a guest restart
    v = Vm().header()
    v.request(2, 0, (0, 16), (1, 5)).poll()
    v.request(2, 2, (0, 3000), (1, 3000)).poll()
    v.request(3, 2, (0, 0x1800), (1, 16)).poll()
    v.b += bytes([1, 0xf0]) + u32(99) + bytes([2, 0, 0, 0, 0, 0, 0, 0])
    v.poll().header().poll().b += bytes([1, 0x20, 2, 0, 0, 1, 0]) + u32(7)
    v.poll()
    seeds.append(v.done())
    return seeds


def write(harness, seeds):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    new = 0
    for s in seeds:
        path = os.path.join(d, hashlib.sha256(s).hexdigest())
        if not os.path.exists(path):
            with open(path, 'wb') as f:
                f.write(s)
            new += 1
    print('%s: %d seeds (%d new)' % (harness, len(seeds), new))


def main():
    vecs = read_vectors()
    write('parser', parser_seeds(vecs))
    write('link_target', link_target_seeds(vecs))
    write('link_debugger', link_debugger_seeds(vecs))
    write('pair', pair_seeds())
    write('vm', vm_seeds())


if __name__ == '__main__':
    main()
