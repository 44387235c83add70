# SPDX-License-Identifier: BSD-2-Clause
"""Error paths: every bad argument from Python is a clean exception
(TypeError / ValueError / KdcomError with the library's code and text),
never a crash, a hang or a silently ignored call."""
import pickle
import unittest

import support  # noqa: F401
import kdcom
from kdcom import Error, KdcomError, Link, PacketType, Role, capi


class TestKdcomError(unittest.TestCase):
    def test_attributes(self):
        e = KdcomError(Error.BUSY)
        self.assertIs(e.code, Error.BUSY)
        self.assertEqual(e.strerror, capi.kdcom_strerror(-10))
        self.assertFalse(e.fatal)
        self.assertIn("BUSY", str(e))
        self.assertTrue(KdcomError(-21).fatal)
        unknown = KdcomError(-99)
        self.assertEqual(unknown.code, -99)
        self.assertEqual(unknown.strerror, "unknown error code")
        again = pickle.loads(pickle.dumps(e))
        self.assertEqual((again.code, again.strerror), (e.code, e.strerror))

    def test_raised_by_raw_calls(self):
        with self.assertRaises(KdcomError) as cm:
            capi.kdcom_feed(None, 0, b"x")
        self.assertEqual(cm.exception.code, Error.INVAL)
        link = capi.kdcom_link()   # never initialised
        with self.assertRaises(KdcomError) as cm:
            capi.kdcom_drain(link, 0, 10)
        self.assertEqual(cm.exception.code, Error.NOT_INIT)
        self.assertTrue(cm.exception.fatal)
        cfg = capi.kdcom_config()
        with self.assertRaises(KdcomError) as cm:
            capi.kdcom_config_init(cfg, 3)
        self.assertEqual(cm.exception.code, Error.ROLE)


class TestLinkArguments(unittest.TestCase):
    def test_bad_roles(self):
        for role, exc, code in ((0, KdcomError, Error.ROLE),
                                (3, KdcomError, Error.ROLE),
                                (-1, KdcomError, Error.ROLE),
                                (2 ** 40, KdcomError, Error.ROLE),
                                ("kernel", KdcomError, Error.ROLE),
                                (None, TypeError, None),
                                (1.5, TypeError, None),
                                (True, TypeError, None)):
            with self.subTest(role=role):
                with self.assertRaises(exc) as cm:
                    Link(role)
                if code is not None:
                    self.assertEqual(cm.exception.code, code)
        self.assertEqual(Link("TARGET").role, Role.TARGET)
        self.assertEqual(Link(2).role, Role.DEBUGGER)

    def test_bad_config(self):
        for kw in ({"ack_timeout_ms": 0}, {"ack_timeout_ms": 3600001},
                   {"reset_interval_ms": -5}, {"byte_timeout_ms": 2 ** 32},
                   {"flags": 0x80}):
            with self.subTest(**kw):
                with self.assertRaises(KdcomError) as cm:
                    Link(Role.DEBUGGER, **kw)
                self.assertEqual(cm.exception.code, Error.CONFIG)
        with self.assertRaises(TypeError):
            Link(Role.DEBUGGER, ack_timeout_ms="100")
        with self.assertRaises(TypeError):
            Link(Role.DEBUGGER, now=1.0)

    def test_wrong_types(self):
        link = Link(Role.TARGET)
        for bad in ("text", 12, 1.0, object(), [1, 2]):
            with self.subTest(data=bad):
                with self.assertRaises(TypeError):
                    link.feed(bad, 0)
        with self.assertRaises(TypeError):
            link.send(PacketType.DEBUG_IO, "header")
        with self.assertRaises(TypeError):
            link.send(PacketType.DEBUG_IO, b"h", data=3)
        with self.assertRaises(TypeError):
            link.send("DEBUG_IO", b"h")
        with self.assertRaises(TypeError):
            link.feed(b"", now="5")
        with self.assertRaises(ValueError):
            link.feed(b"", now=-1)
        with self.assertRaises(ValueError):
            link.drain(0, cap=-1)
        with self.assertRaises(TypeError):
            kdcom.checksum("abc")
        with self.assertRaises(TypeError):
            kdcom.Parser().feed("0000")
        # Nothing above reached the engine.
        self.assertEqual(link.stats.bytes_in, 0)

    def test_buffers_of_every_kind(self):
        tgt = Link(Role.TARGET)
        frame = kdcom.encode_control(PacketType.RESET)
        for obj in (frame, bytearray(frame), memoryview(frame),
                    memoryview(b"xx" + frame)[2:]):
            self.assertEqual(tgt.feed(obj, 0), 16)
        tgt.send(PacketType.DEBUG_IO, bytearray(16), memoryview(b"text"))
        strided = memoryview(b"abcdef")[::2]      # not contiguous
        with self.assertRaises(TypeError):
            tgt.feed(strided, 0)
        with self.assertRaises(BufferError):
            capi.kdcom_checksum(strided)

    def test_oversize_and_bad_types(self):
        link = Link(Role.TARGET)
        with self.assertRaises(KdcomError) as cm:
            link.send(PacketType.FILE_IO, bytes(64), bytes(4000 - 63))
        self.assertEqual(cm.exception.code, Error.TOO_BIG)
        with self.assertRaises(KdcomError) as cm:
            link.send(PacketType.STATE_MANIPULATE, bytes(1 << 20))
        self.assertEqual(cm.exception.code, Error.TOO_BIG)
        for t in (PacketType.RESET, PacketType.POLL_BREAKIN, 99, -1,
                  2 ** 32):
            with self.subTest(type=t):
                with self.assertRaises(KdcomError) as cm:
                    link.send(t, b"x")
                self.assertEqual(cm.exception.code, Error.BAD_TYPE)
        self.assertTrue(link.can_send)   # nothing was queued
        link.send(PacketType.FILE_IO, bytes(64), bytes(4000 - 64))
        with self.assertRaises(KdcomError) as cm:
            link.send(PacketType.FILE_IO, b"x")
        self.assertEqual(cm.exception.code, Error.BUSY)

    def test_wrong_role_calls(self):
        tgt, dbg = Link(Role.TARGET), Link(Role.DEBUGGER)
        for call in (tgt.breakin, tgt.resync, dbg.take_breakin):
            with self.subTest(call=call.__name__):
                with self.assertRaises(KdcomError) as cm:
                    call()
                self.assertEqual(cm.exception.code, Error.WRONG_ROLE)
        with self.assertRaises(KdcomError) as cm:
            tgt.cancel_send()
        self.assertEqual(cm.exception.code, Error.NO_PACKET)

    def test_closed_link(self):
        link = Link(Role.DEBUGGER)
        link.drain(0)
        link.close()
        link.close()   # twice is fine
        calls = [lambda: link.feed(b"x", 1), lambda: link.drain(1),
                 lambda: link.send(PacketType.STATE_MANIPULATE, bytes(56)),
                 lambda: link.tick(1), lambda: link.next_deadline,
                 lambda: list(link.events()), lambda: link.next_event(),
                 lambda: link.stats, lambda: link.can_send,
                 lambda: link.want_write, lambda: link.synced,
                 lambda: link.tx_id, link.cancel_send, link.breakin,
                 link.resync]
        for call in calls:
            with self.assertRaises(KdcomError) as cm:
                call()
            self.assertEqual(cm.exception.code, Error.CLOSED)
            self.assertTrue(cm.exception.fatal)
        # The C engine refuses too, not only the Python layer.
        with self.assertRaises(KdcomError) as cm:
            capi.kdcom_feed(link._link, 0, b"x")
        self.assertEqual(cm.exception.code, Error.CLOSED)

    def test_garbage_is_not_an_error(self):
        # Bad input on the wire is counted and answered, never raised.
        tgt = Link(Role.TARGET)
        junk = bytes(range(256)) * 20 + b"0000\xff\xff\xff\xff" + bytes(40)
        self.assertEqual(tgt.feed(junk, 0), len(junk))
        st = tgt.stats
        self.assertEqual(st.bytes_in, len(junk))
        self.assertGreater(st.noise_bytes + st.bad_size + st.rx_stalls, 0)
        tgt.tick(10 ** 6)
        self.assertIsNotNone(tgt.drain(10 ** 6))


if __name__ == "__main__":
    unittest.main()
