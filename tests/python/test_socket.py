# SPDX-License-Identifier: BSD-2-Clause
"""A DEBUGGER Link in this process talking over a real socketpair to a
TARGET Link in a second process (examples/python/sim_target.py): the
RESET handshake, a request/answer and a continue, on real time but with
every wait bounded."""
import select
import socket
import struct
import subprocess
import sys
import unittest

import support
import kdcom
from kdcom import EventKind, Link, PacketType, Role


class TestSocketPair(unittest.TestCase):
    def setUp(self):
        self.ours, theirs = socket.socketpair()
        self.addCleanup(self.ours.close)
        self.proc = subprocess.Popen(
            [sys.executable, support.EXAMPLES + "/sim_target.py",
             "--fd", str(theirs.fileno()), "--timeout", "20"],
            pass_fds=[theirs.fileno()], env=support.child_env(),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        theirs.close()
        self.ours.setblocking(False)

    def finish(self):
        self.ours.shutdown(socket.SHUT_RDWR)
        rc, out, err = support.stop(self.proc)
        return rc, out, err

    def tearDown(self):
        support.reap(self.proc)

    def run_until(self, dbg, want, limit_ms=10000):
        """Pumps until want(events_so_far) is true; returns the events."""
        start = kdcom.monotonic_ms()
        seen = []
        while kdcom.monotonic_ms() - start < limit_ms:
            now = kdcom.monotonic_ms()
            out = dbg.drain(now)
            if out:
                self.ours.sendall(out)   # small frames: never blocks long
            seen += list(dbg.events())
            if want(seen):
                return seen
            rl, _, _ = select.select([self.ours], [], [], 0.05)
            if rl:
                data = self.ours.recv(65536)
                self.assertTrue(data, "target closed the connection")
                dbg.feed(data, kdcom.monotonic_ms())
            dbg.tick(kdcom.monotonic_ms())
        self.fail("timed out; events so far: %r" % seen)

    def packets(self, seen):
        return [e for e in seen if e.kind == EventKind.PACKET]

    def test_handshake_request_continue(self):
        dbg = Link(Role.DEBUGGER, ack_timeout_ms=200, reset_interval_ms=200)
        seen = self.run_until(dbg, lambda s: self.packets(s))
        self.assertEqual(seen[0].kind, EventKind.SYNCED)
        sc = self.packets(seen)[0]
        self.assertEqual(sc.type, PacketType.STATE_CHANGE64)
        self.assertEqual(sc.id, kdcom.INITIAL_ID)     # resent after RESET
        self.assertEqual(len(sc.header), 0xF0)
        self.assertEqual(kdcom.kd.api_number(sc.header), 0x3031)
        self.assertIn(b"ntoskrnl.exe", sc.data)

        # ReadVirtualMemory of 100 bytes at 0x1000.
        req = bytearray(56)
        struct.pack_into("<I", req, 0, 0x3130)
        struct.pack_into("<QI", req, 16, 0x1000, 100)
        dbg.send(PacketType.STATE_MANIPULATE, bytes(req))
        seen = self.run_until(dbg, lambda s: self.packets(s))
        ans = self.packets(seen)[0]
        self.assertEqual(ans.type, PacketType.STATE_MANIPULATE)
        self.assertEqual(kdcom.kd.api_number(ans.header), 0x3130)
        self.assertEqual(ans.data, bytes(range(100)))
        self.assertIn(EventKind.ACKED, [e.kind for e in seen])

        # Continue2: the kernel prints and runs.
        cont = bytearray(56)
        struct.pack_into("<II", cont, 0, 0x313C, 0)
        struct.pack_into("<I", cont, 16, 0x00010002)
        dbg.send(PacketType.STATE_MANIPULATE, bytes(cont))
        seen = self.run_until(dbg, lambda s: self.packets(s))
        dbgio = self.packets(seen)[0]
        self.assertEqual(dbgio.type, PacketType.DEBUG_IO)
        self.assertEqual(dbgio.data, b"hello from sim_target\n")
        # Let the ACK of the DbgPrint reach the target before hanging up.
        self.run_until(dbg, lambda s: not dbg.want_write)

        rc, out, err = self.finish()
        self.assertEqual(rc, 0, err)
        self.assertIn("reset by debugger", out)
        self.assertIn("debugger disconnected", out)
        self.assertEqual(dbg.stats.syncs, 1)
        self.assertEqual(dbg.stats.bad_checksum, 0)

    def test_breakin_while_running(self):
        dbg = Link(Role.DEBUGGER, ack_timeout_ms=200, reset_interval_ms=200)
        self.run_until(dbg, lambda s: self.packets(s))
        cont = bytearray(56)
        struct.pack_into("<I", cont, 0, 0x313C)
        dbg.send(PacketType.STATE_MANIPULATE, bytes(cont))
        self.run_until(dbg, lambda s: self.packets(s))       # DbgPrint
        dbg.breakin()
        seen = self.run_until(dbg, lambda s: self.packets(s))
        sc = self.packets(seen)[0]
        self.assertEqual(sc.type, PacketType.STATE_CHANGE64)
        self.assertEqual(kdcom.kd.api_number(sc.header), 0x3030)
        self.assertEqual(dbg.stats.breakins_sent, 1)
        rc, out, _ = self.finish()
        self.assertIn("break-in: stopping", out)


if __name__ == "__main__":
    unittest.main()
