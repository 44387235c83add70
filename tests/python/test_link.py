# SPDX-License-Identifier: BSD-2-Clause
"""Link: a DEBUGGER and a TARGET through a seeded lossy pipe exchanging
every data packet type KD-style, with resets and retransmissions; and the
Python layer's queueing (no byte and no event lost when the engine
pauses)."""
import random
import struct
import unittest

import support
import kdcom
from kdcom import EventKind, Link, PacketType, Role

DATA_TYPES = [t for t in PacketType if kdcom.is_data_type(t)]
FAST = dict(ack_timeout_ms=40, byte_timeout_ms=20)


def make_payload(rng, step, ptype, big=False):
    """(header, data) unique to `step`, the header sized for the type."""
    hsize = kdcom.kd.HEADER_SIZES.get(ptype)
    if hsize is None:
        hsize = rng.randint(4, 200)
        dsize = 0                  # unknown split: all header
    else:
        dsize = (kdcom.MAX_PAYLOAD - hsize) if big else rng.randint(0, 300)
    header = struct.pack("<I", step) + bytes(rng.randrange(256)
                                             for _ in range(hsize - 4))
    return header, bytes(rng.randrange(256) for _ in range(dsize))


def pump(a, b, now, pipe_ab=None, pipe_ba=None):
    """Moves bytes both ways once; returns the byte count moved."""
    moved = 0
    for src, dst, pipe in ((a, b, pipe_ab), (b, a, pipe_ba)):
        out = src.drain(now)
        moved += len(out)
        for chunk in (pipe.carry(out) if pipe else [out] if out else []):
            dst.feed(chunk, now)
    return moved


class Exchange:
    """A scripted KD-style conversation: steps alternate TARGET, DEBUGGER,
    each side sends only after it has received every earlier step (so a
    TARGET's implicit ACK is always right), and the debugger resyncs at
    quiet points every `reset_every` steps."""

    def __init__(self, seed, rounds=3, reset_every=5, lossy=True):
        self.rng = random.Random(seed)
        self.dbg = Link(Role.DEBUGGER, reset_interval_ms=40, **FAST)
        self.tgt = Link(Role.TARGET, **FAST)
        self.pipes = ((support.LossyPipe(seed * 2 + 1),
                       support.LossyPipe(seed * 2 + 2)) if lossy
                      else (None, None))
        self.steps = []
        for r in range(rounds):
            for i, t in enumerate(DATA_TYPES):
                for sender in (self.tgt, self.dbg):
                    n = len(self.steps)
                    head, data = make_payload(self.rng, n, t,
                                              big=(r == 0 and i == 1))
                    self.steps.append((sender, t, head, data))
        self.reset_every = reset_every
        self.sent = 0          # steps handed to send()
        self.delivered = 0     # steps received by their receiver
        self.duplicates = 0    # app-level repeats caused by a RESET
        self.resyncs = 0
        self.other = {self.tgt: self.dbg, self.dbg: self.tgt}
        self.renumbered = {self.tgt: 0, self.dbg: 0}

    def on_packet(self, receiver, ev):
        step = struct.unpack_from("<I", ev.header)[0]
        if step < self.delivered:
            # A RESET renumbers both directions, so a retransmission that
            # crosses it looks new to the receiver (also a late RESET echo
            # after the handshake: the debugger re-bases on it).  Allowed
            # only after the receiver saw a RESET or SYNCED event.
            assert self.renumbered[receiver], (step, self.delivered)
            self.duplicates += 1
            return
        assert step == self.delivered, (step, self.delivered)
        sender, t, head, data = self.steps[step]
        assert self.other[sender] is receiver
        assert ev.type == t, (ev.type, t)
        assert (ev.header, ev.data) == (head, data), step
        assert ev.payload == head + data
        self.delivered += 1

    def run(self, max_iters=200000):
        now = 0
        for _ in range(max_iters):
            for side in (self.tgt, self.dbg):
                for ev in side.events():
                    if ev.kind == EventKind.PACKET:
                        self.on_packet(side, ev)
                    elif ev.kind in (EventKind.RESET, EventKind.SYNCED):
                        self.renumbered[side] += 1
            quiet = (self.sent == self.delivered and self.tgt.can_send and
                     self.dbg.can_send)
            if quiet and self.sent == len(self.steps):
                return now
            if (quiet and self.sent and self.sent % self.reset_every == 0 and
                    self.resyncs < self.sent // self.reset_every):
                self.dbg.resync(now)
                self.resyncs += 1
            if self.sent < len(self.steps) and self.sent == self.delivered:
                sender, t, head, data = self.steps[self.sent]
                if sender.can_send:
                    sender.send(t, head, data, now)
                    self.sent += 1
            moved = pump(self.tgt, self.dbg, now, *self.pipes)
            if moved:
                now += 1
            else:
                deadlines = [d for d in (self.tgt.next_deadline,
                                         self.dbg.next_deadline)
                             if d is not None]
                now = max(now + 1, min(deadlines)) if deadlines else now + 1
        raise AssertionError("exchange did not finish: %d/%d delivered" %
                             (self.delivered, len(self.steps)))


class TestLossyExchange(unittest.TestCase):
    def test_every_type_both_ways_through_loss_and_resets(self):
        for seed in (1, 2, 3, 4, 5):
            with self.subTest(seed=seed):
                ex = Exchange(seed)
                ex.run()
                self.assertEqual(ex.delivered, len(ex.steps))
                self.assertGreater(ex.resyncs, 0)
                # Exactly once: resyncs happen at quiet points and the
                # pipe spares the unprotected header fields.
                self.assertEqual(ex.duplicates, 0)
                dst, tst = ex.dbg.stats, ex.tgt.stats
                pipe_a, pipe_b = ex.pipes
                damage = sum(p.dropped + p.corrupted + p.deleted
                             for p in ex.pipes)
                self.assertGreater(damage, 10)
                self.assertGreater(dst.retransmits + tst.retransmits, 0)
                self.assertGreaterEqual(tst.resets_received, ex.resyncs)
                self.assertGreaterEqual(dst.syncs, 1 + ex.resyncs)
                self.assertGreater(
                    dst.bad_checksum + tst.bad_checksum + dst.rx_stalls +
                    tst.rx_stalls + dst.noise_bytes + tst.noise_bytes, 0)

    def test_clean_line_has_no_repeats_or_retransmits(self):
        ex = Exchange(9, reset_every=10 ** 6, lossy=False)
        ex.run()
        self.assertEqual(ex.delivered, len(ex.steps))
        self.assertEqual(ex.duplicates, 0)
        self.assertEqual(ex.dbg.stats.retransmits, 0)
        # Only the first state change, sent before the handshake and
        # sent again under the reset id (PROTOCOL-FACTS §6.1).
        self.assertEqual(ex.tgt.stats.retransmits, 1)


class TestFreeRunning(unittest.TestCase):
    """Both sides send on their own, not KD-style: the TARGET needs
    KDCOM_CFG_NO_IMPLICIT_ACK, else a debugger packet that crosses its own
    would count as the ACK for it."""

    def test_streams_cross_through_loss(self):
        rng = random.Random(11)
        dbg = Link(Role.DEBUGGER, reset_interval_ms=40, **FAST)
        tgt = Link(Role.TARGET, no_implicit_ack=True, **FAST)
        pipes = (support.LossyPipe(21), support.LossyPipe(22))
        want = {tgt: [], dbg: []}     # what each side must receive
        todo = {tgt: [], dbg: []}     # what each side still has to send
        for side in (tgt, dbg):
            for n in range(25):
                t = rng.choice(DATA_TYPES)
                todo[side].append((t,) + make_payload(rng, n, t))
        for receiver, sender in ((tgt, dbg), (dbg, tgt)):
            want[receiver] = [(t, h + d) for t, h, d in todo[sender]]
        got = {tgt: [], dbg: []}
        now = 0
        for _ in range(100000):
            for side in (tgt, dbg):
                if todo[side] and side.can_send and dbg.synced:
                    t, h, d = todo[side].pop(0)
                    side.send(t, h, d, now)
                for ev in side.events():
                    if ev.kind == EventKind.PACKET:
                        got[side].append((ev.type, ev.payload))
            if got == want and tgt.can_send and dbg.can_send:
                break
            if pump(tgt, dbg, now, *pipes):
                now += 1
            else:
                d = [x for x in (tgt.next_deadline, dbg.next_deadline)
                     if x is not None]
                now = max(now + 1, min(d)) if d else now + 1
        self.assertEqual(got[tgt], want[tgt])
        self.assertEqual(got[dbg], want[dbg])
        self.assertEqual(tgt.stats.implicit_acks, 0)
        self.assertGreater(tgt.stats.retransmits + dbg.stats.retransmits, 0)


class TestLinkBasics(unittest.TestCase):
    def synced_pair(self, **kw):
        dbg = Link(Role.DEBUGGER, **kw)
        tgt = Link(Role.TARGET, **kw)
        for _ in range(3):
            pump(dbg, tgt, 0)
        kinds = [e.kind for e in dbg.events()]
        self.assertEqual(kinds, [EventKind.SYNCED])
        self.assertEqual([e.kind for e in tgt.events()], [EventKind.RESET])
        self.assertTrue(dbg.synced)
        return dbg, tgt

    def test_handshake_bytes(self):
        dbg = Link("debugger")
        self.assertEqual(dbg.drain(0), kdcom.encode_control(PacketType.RESET))
        self.assertEqual(dbg.drain(0), b"")
        # Repeated once a second (the default interval) until answered.
        self.assertEqual(dbg.next_deadline, 1000)
        self.assertEqual(dbg.drain(999), b"")
        self.assertEqual(dbg.drain(1000),
                         kdcom.encode_control(PacketType.RESET))
        dbg.feed(kdcom.encode_control(PacketType.RESET, 0x1234), 1001)
        self.assertEqual([e.kind for e in dbg.events()], [EventKind.SYNCED])
        self.assertIsNone(dbg.next_deadline)

    def test_breakin_on_sync_and_breakin(self):
        dbg = Link(Role.DEBUGGER, breakin_on_sync=True)
        self.assertEqual(dbg.drain(0),
                         b"b" + kdcom.encode_control(PacketType.RESET))
        tgt = Link(Role.TARGET)
        tgt.feed(b"b", 0)
        self.assertEqual([e.kind for e in tgt.events()],
                         [EventKind.BREAKIN])
        self.assertTrue(tgt.take_breakin())
        self.assertFalse(tgt.take_breakin())

    def test_many_packets_in_one_feed_lose_nothing(self):
        # 40 packets in one buffer: the engine pauses on every PACKET
        # event and on its queues; Link.feed takes everything and keeps
        # every event and every ACK.
        dbg, tgt = self.synced_pair()
        stream = b"".join(
            kdcom.encode_data(PacketType.STATE_MANIPULATE,
                              0x80800000 | (i & 1),
                              struct.pack("<I", i) + bytes(52))
            for i in range(40))
        self.assertEqual(tgt.feed(stream, 5), len(stream))
        evs = [e for e in tgt.events() if e.kind == EventKind.PACKET]
        self.assertEqual([struct.unpack_from("<I", e.header)[0]
                          for e in evs], list(range(40)))
        # Every packet was acknowledged; identical ACKs waiting in the
        # engine's control queue at the same time go out once (link_tx.c).
        acks = kdcom.parse(tgt.drain(5))
        self.assertTrue(acks)
        self.assertEqual({f.type for f in acks}, {PacketType.ACKNOWLEDGE})
        self.assertEqual({f.id for f in acks}, {0x80800000, 0x80800001})
        self.assertEqual(tgt.stats.packets_received, 40)

    def test_full_control_queue_is_drained_not_lost(self):
        # Four data packets that need four different answers (identical
        # control packets waiting together go out once): two new ones
        # (ACK each), a duplicate with SYNC set (ACKed with its exact id)
        # and one with an id no sender uses (RESEND).  The control queue
        # reaches its high mark and kdcom_feed() pauses; Link.feed()
        # drains into its own buffer and goes on, so the answers to the
        # two duplicates after them come out too, in order, on the next
        # drain().
        tgt = Link(Role.TARGET)
        ids = [0x80800000, 0x80800800, 0x1000, 0x80800001,
               0x80800801, 0x80800001]
        stream = b"".join(kdcom.encode_data(PacketType.STATE_MANIPULATE, i,
                                            bytes(56)) for i in ids)
        self.assertEqual(tgt.feed(stream, 0), len(stream))
        self.assertTrue(tgt._out, "the engine never paused")  # white box
        self.assertTrue(tgt.want_write)
        out = kdcom.parse(tgt.drain(0))
        A, R = PacketType.ACKNOWLEDGE, PacketType.RESEND
        self.assertEqual([(f.type, f.id) for f in out],
                         [(A, 0x80800000), (A, 0x80800800), (R, 0),
                          (A, 0x80800001), (A, 0x80800801),
                          (A, 0x80800001)])
        self.assertEqual(tgt.stats.packets_received, 2)
        self.assertEqual(tgt.stats.duplicates, 3)
        self.assertEqual(tgt.stats.bad_id, 1)
        self.assertEqual(len([e for e in tgt.events()
                              if e.kind == EventKind.PACKET]), 2)

    def test_short_packet_gets_resend(self):
        # docs/protocol.md 5.8: the bytes of the issue, to a target that
        # receives into a 56-byte header.
        dbg, tgt = self.synced_pair()
        tgt.expect_header(56)
        short = bytes.fromhex("303030300200040000008080770000004631"
                              "0000aa")
        tgt.feed(short, 1)
        self.assertEqual([(f.type, f.id) for f in kdcom.parse(tgt.drain(1))],
                         [(PacketType.RESEND, 0)])
        self.assertEqual(list(tgt.events()), [])
        self.assertEqual(tgt.stats.bad_short, 1)
        # The expected id stayed: the whole request under it is taken.
        tgt.feed(kdcom.encode_data(PacketType.STATE_MANIPULATE, 0x80800000,
                                   bytes(56)), 2)
        self.assertEqual([e.kind for e in tgt.events()], [EventKind.PACKET])
        with self.assertRaises(kdcom.KdcomError) as cm:
            dbg.expect_header(56)
        self.assertEqual(cm.exception.code, kdcom.Error.WRONG_ROLE)

    def test_event_payload_is_a_copy(self):
        dbg, tgt = self.synced_pair()
        tgt.send(PacketType.DEBUG_IO, b"H" * 16, b"first", 1)
        dbg.feed(tgt.drain(1), 1)
        first = dbg.next_event()
        tgt.feed(dbg.drain(1), 1)
        list(tgt.events())
        tgt.send(PacketType.DEBUG_IO, b"h" * 16, b"second", 2)
        dbg.feed(tgt.drain(2), 2)
        second = dbg.next_event()
        self.assertEqual((first.header, first.data), (b"H" * 16, b"first"))
        self.assertEqual((second.header, second.data),
                         (b"h" * 16, b"second"))

    def test_drain_cap_keeps_frames_whole(self):
        dbg, tgt = self.synced_pair()
        tgt.send(PacketType.FILE_IO, bytes(64), bytes(1000), 1)
        got = b""
        while True:
            part = tgt.drain(1, cap=7)
            self.assertLessEqual(len(part), 7)
            if not part:
                break
            got += part
        frames = kdcom.parse(got)
        self.assertEqual([f.kind for f in frames], [kdcom.FrameKind.DATA])

    def test_retransmit_on_timeout_and_exhausted(self):
        tgt = Link(Role.TARGET, ack_timeout_ms=10, retry_limit=3)
        tgt.send(PacketType.STATE_CHANGE64, bytes(0xF0), now=0)
        first = tgt.drain(0)
        self.assertEqual(tgt.next_deadline, 10)
        for t in (10, 20, 30):
            self.assertEqual(tgt.drain(t), first)  # same id, SYNC set
        evs = list(tgt.events())
        self.assertEqual([e.kind for e in evs],
                         [EventKind.RETRIES_EXHAUSTED])
        self.assertEqual(evs[0].retries, 3)
        self.assertEqual(tgt.stats.retransmits, 3)
        tgt.cancel_send()
        self.assertTrue(tgt.can_send)

    def test_stats_snapshot(self):
        dbg, tgt = self.synced_pair()
        st = dbg.stats
        self.assertIsInstance(st, kdcom.Stats)
        self.assertEqual(st.syncs, 1)
        self.assertEqual(set(st.as_dict()), set(kdcom.STATS_FIELDS))
        self.assertIn("stale_bytes", kdcom.STATS_FIELDS)
        with self.assertRaises(Exception):
            st.syncs = 5  # frozen snapshot

    def test_time_never_goes_backwards(self):
        dbg = Link(Role.DEBUGGER)
        dbg.drain(5000)
        self.assertEqual(dbg.drain(10), b"")   # "no time has passed"
        self.assertEqual(dbg.next_deadline, 6000)

    def test_context_manager_closes(self):
        with Link(Role.TARGET) as tgt:
            tgt.tick(1)
        self.assertTrue(tgt.closed)
        self.assertEqual(repr(tgt), "<kdcom.Link closed>")


if __name__ == "__main__":
    unittest.main()
