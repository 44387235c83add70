# SPDX-License-Identifier: BSD-2-Clause
"""Conformance of the C engine, driven from Python, against byte vectors
recorded from real peers (tests/vectors/): our link replays one side of
each conversation and must put exactly the recorded bytes on the wire,
where PROTOCOL-FACTS §7 says libkdcom behaves like that peer."""
import unittest

import support
import kdcom
from kdcom import EventKind, FrameKind, Link, PacketType, Role

RESET = kdcom.encode_control(PacketType.RESET, 0)


def frame_bytes(f):
    """Re-encodes a parsed frame: the exact wire bytes of a valid one."""
    if f.kind == FrameKind.BREAKIN:
        return b"b"
    if f.kind == FrameKind.CONTROL:
        return kdcom.encode_control(f.type, f.id)
    return kdcom.encode_data(f.type, f.id, f.payload)


class TestTargetReplay(unittest.TestCase):
    """Our TARGET in place of ReactOS kddll: fed the debugger's bytes, and
    sending the same KD payloads the ReactOS kernel sent, it must answer
    with the recorded bytes exactly (RESET echo with id 0, the state
    change resent with id 0x80800000, ACK ids, packet ids)."""

    def replay(self, name):
        tgt = Link(Role.TARGET)
        events = []
        for n, (direction, chunk) in enumerate(support.load_vector(name)):
            if direction == "D>T":
                self.assertEqual(tgt.feed(chunk, n), len(chunk))
                events += list(tgt.events())
                tgt.take_breakin()
                continue
            for f in kdcom.parse(chunk):
                # A data packet while nothing is outstanding is the kernel
                # sending something new; otherwise it is the link's own
                # retransmission and must come out by itself.
                if f.kind == FrameKind.DATA and tgt.can_send:
                    tgt.send(f.type, f.payload, now=n)
            self.assertEqual(tgt.drain(n).hex(" "), chunk.hex(" "),
                             "%s line %d" % (name, n + 1))
        self.assertEqual(tgt.stats.bad_checksum, 0)
        return tgt, events

    def test_reactos_vs_pykdclient(self):
        tgt, events = self.replay("reactos-target_pykdclient-debugger.txt")
        kinds = [e.kind for e in events]
        self.assertIn(EventKind.RESET, kinds)
        pkts = [e for e in events if e.kind == EventKind.PACKET]
        self.assertEqual([(p.type, p.id) for p in pkts],
                         [(PacketType.STATE_MANIPULATE, 0x80800000)])
        self.assertEqual(kdcom.kd.api_number(pkts[0].header), 0x313C)

    def test_reactos_vs_radare2(self):
        tgt, events = self.replay("reactos-target_radare2-debugger.txt")
        kinds = [e.kind for e in events]
        self.assertEqual(kinds.count(EventKind.BREAKIN), 2)
        apis = [kdcom.kd.api_number(e.header) for e in events
                if e.kind == EventKind.PACKET]
        self.assertEqual(apis[0], 0x3146)           # GetVersion
        self.assertIn(0x3130, apis)                 # ReadVirtualMemory
        self.assertEqual(apis[-1], 0x313C)          # Continue2
        # radare2 ACKs twice: the second one matches nothing.
        self.assertGreater(tgt.stats.acks_ignored, 0)

    def test_windbg_xp_reset_storm(self):
        # WinDbg's five RESETs against a target whose LoadSymbols state
        # change (0x10F bytes) is pending: one RESET echo (id 0 by choice,
        # §7; XP's garbage id is not copied), then the state change again
        # under id 0x80800000 with the header the capture shows.
        vec = support.load_vector("windbg-xp-capture.txt")
        resets = b"".join(c for d, c in vec if d == "D>T")
        sc_hdr = [c for d, c in vec if d == "T>D"]
        payload = bytearray(0x10F)
        payload[0:4] = (0x3031).to_bytes(4, "little")
        path = b"\\WINDOWS\\system32\\ntkrnlpa.exe\0"
        payload[0xF0:0xF0 + len(path)] = path
        tgt = Link(Role.TARGET)
        tgt.send(PacketType.STATE_CHANGE64, bytes(payload), now=0)
        first = tgt.drain(0)
        self.assertEqual(first[:12], sc_hdr[0][:12])     # id 0x80800800
        tgt.feed(resets, 1)
        out = tgt.drain(1)
        self.assertEqual(out[:16], RESET)
        self.assertEqual(out[16:28], sc_hdr[2][:12])     # id 0x80800000
        self.assertEqual(out[16:], first[:8] + bytes.fromhex("00008080") +
                         first[12:])
        self.assertEqual(tgt.stats.resets_sent, 1)
        self.assertEqual(tgt.stats.stale_bytes, len(resets) - 16)


class TestDebuggerReplay(unittest.TestCase):
    """Our DEBUGGER in place of radare2 / pykdclient: fed the target's
    bytes and sending the same requests, it must write the same frames.
    Deviations by design: one ACK per packet (both tools ACK twice), and
    RESET carries id 0 (pykdclient sends 0x80800800), §7."""

    def normalise(self, chunk):
        out, last = [], None
        for f in kdcom.parse(chunk):
            b = frame_bytes(f)
            if f.kind == FrameKind.CONTROL and f.type == PacketType.RESET:
                b = RESET
            if f.kind == FrameKind.CONTROL and b == last:
                continue   # the double ACK
            out.append(b)
            last = b
        return b"".join(out)

    def replay(self, name, **kw):
        dbg = Link(Role.DEBUGGER, **kw)
        events = []
        for n, (direction, chunk) in enumerate(support.load_vector(name)):
            if direction == "T>D":
                dbg.feed(chunk, n)
                events += list(dbg.events())
                continue
            frames = kdcom.parse(chunk)
            for i, f in enumerate(frames):
                if f.kind == FrameKind.DATA:
                    self.assertTrue(dbg.can_send, "line %d" % (n + 1))
                    dbg.send(f.type, f.payload, now=n)
                elif f.kind == FrameKind.BREAKIN and i == len(frames) - 1:
                    dbg.breakin()
            self.assertEqual(dbg.drain(n).hex(" "),
                             self.normalise(chunk).hex(" "),
                             "%s line %d" % (name, n + 1))
        return dbg, events

    def test_radare2_side(self):
        dbg, events = self.replay("reactos-target_radare2-debugger.txt",
                                  breakin_on_sync=True)
        kinds = [e.kind for e in events]
        self.assertEqual(kinds[0], EventKind.SYNCED)
        # The state change sent before the handshake is not ACKed (its
        # numbering is unknown); it comes again after the RESET.
        self.assertEqual(dbg.stats.dropped_unsynced, 1)
        self.assertEqual(dbg.stats.duplicates, 0)

    def test_pykdclient_side(self):
        dbg, events = self.replay("reactos-target_pykdclient-debugger.txt")
        pkts = [e for e in events if e.kind == EventKind.PACKET]
        self.assertEqual([p.type for p in pkts],
                         [PacketType.STATE_CHANGE64, PacketType.DEBUG_IO])
        self.assertEqual(pkts[1].data, b"hello from ReactOS kddll harness\n")

    def test_xp_reset_echo_with_garbage_id_syncs(self):
        # Receivers ignore PacketId on RESET (§1.5): XP's echo carries
        # 0x0005F863 and must still complete the handshake.  The state
        # change headers in the capture have no payload: the byte timeout
        # abandons them.
        dbg = Link(Role.DEBUGGER, byte_timeout_ms=10)
        self.assertEqual(dbg.drain(0), RESET)
        now = 0
        for direction, chunk in support.load_vector("windbg-xp-capture.txt"):
            if direction == "T>D":
                dbg.feed(chunk, now)
                now += 20
                dbg.tick(now)
        self.assertIn(EventKind.SYNCED, [e.kind for e in dbg.events()])
        self.assertGreaterEqual(dbg.stats.rx_stalls, 1)
        self.assertEqual(dbg.stats.packets_received, 0)


if __name__ == "__main__":
    unittest.main()
