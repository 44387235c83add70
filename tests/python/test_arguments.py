# SPDX-License-Identifier: BSD-2-Clause
"""Arguments as a Python user meets them: an impossible value is a
ValueError whose text names the argument (never SWIG's OverflowError
about "argument 4 of type 'uint32_t'"), a wrong type a TypeError naming
it, in the Pythonic layer and in the raw module alike; header_sizes is
checked when it is given; enums print as names."""
import pickle
import unittest

import support  # noqa: F401
import kdcom
from kdcom import (ConfigFlag, Error, EventKind, FrameKind, KdcomError, Link,
                   PacketType, Role, capi)

U32 = 2 ** 32


class Names:
    """assertRaises that also checks the argument's name is in the text."""

    def assertNames(self, exc, name, call, *args, **kw):
        with self.assertRaises(exc) as cm:
            call(*args, **kw)
        self.assertNotIsInstance(cm.exception, OverflowError)
        self.assertIn("'%s'" % name, str(cm.exception))
        return cm.exception


class TestCodecArguments(unittest.TestCase, Names):
    def test_encode_data_id_out_of_range(self):
        for bad in (-1, U32, 2 ** 64):
            with self.subTest(id=bad):
                e = self.assertNames(ValueError, "id", kdcom.encode_data,
                                     PacketType.DEBUG_IO, bad, b"x")
                self.assertIn(str(bad), str(e))
        # The largest id is fine.
        kdcom.encode_data(PacketType.DEBUG_IO, U32 - 1, b"x")

    def test_encode_data_type(self):
        for bad in (-1, U32, PacketType.ACKNOWLEDGE, 99):
            with self.subTest(type=bad):
                e = self.assertNames(ValueError, "type", kdcom.encode_data,
                                     bad, 0, b"x")
                # Still the library's code for code written against it.
                self.assertIsInstance(e, KdcomError)
                self.assertEqual(e.code, Error.BAD_TYPE)

    def test_encode_data_too_big_names_the_payload(self):
        e = self.assertNames(ValueError, "data", kdcom.encode_data,
                             PacketType.FILE_IO, 0, bytes(64), bytes(4000))
        self.assertEqual(e.code, Error.TOO_BIG)
        self.assertIn("4064", str(e))

    def test_encode_data_wrong_types(self):
        self.assertNames(TypeError, "header", kdcom.encode_data,
                         PacketType.DEBUG_IO, 0, "text")
        self.assertNames(TypeError, "data", kdcom.encode_data,
                         PacketType.DEBUG_IO, 0, b"", 5)
        self.assertNames(TypeError, "id", kdcom.encode_data,
                         PacketType.DEBUG_IO, 1.5, b"")
        self.assertNames(TypeError, "type", kdcom.encode_data,
                         "DEBUG_IO", 0, b"")

    def test_encode_control(self):
        self.assertNames(ValueError, "id", kdcom.encode_control,
                         PacketType.RESET, -1)
        e = self.assertNames(ValueError, "type", kdcom.encode_control,
                             PacketType.DEBUG_IO, 0)
        self.assertEqual(e.code, Error.BAD_TYPE)
        self.assertNames(ValueError, "type", kdcom.encode_control, -3)

    def test_module_functions(self):
        self.assertNames(ValueError, "type", kdcom.packet_type_name, -1)
        self.assertNames(ValueError, "type", kdcom.is_data_type, U32)
        self.assertNames(ValueError, "code", kdcom.strerror, 2 ** 31)
        self.assertNames(TypeError, "code", kdcom.strerror, "BUSY")
        self.assertEqual(kdcom.strerror(Error.BUSY),
                         capi.kdcom_strerror(-10))

    def test_checksum_initial(self):
        self.assertNames(ValueError, "initial", kdcom.checksum, b"x", -1)
        self.assertNames(ValueError, "initial", kdcom.checksum, b"x", U32)
        self.assertNames(TypeError, "data", kdcom.checksum, 7)
        self.assertEqual(kdcom.checksum(b"\x01", U32 - 1), 0)

    def test_raw_module_names_arguments(self):
        # The SWIG layer itself: the C parameter's name, not its position.
        e = self.assertNames(ValueError, "id", capi.kdcom_encode_data, 100,
                             PacketType.DEBUG_IO, -1, b"x", None)
        self.assertEqual(str(e), "kdcom_encode_data() argument 'id' must "
                         "be in 0..0xffffffff, got -1")
        self.assertNames(ValueError, "type", capi.kdcom_encode_data, 100,
                         -1, 0, b"x", None)
        self.assertNames(ValueError, "type", capi.kdcom_packet_type_name,
                         U32)
        self.assertNames(TypeError, "type", capi.kdcom_packet_type_name,
                         "STATE_MANIPULATE")
        link = capi.kdcom_link()
        cfg = capi.kdcom_config()
        capi.kdcom_config_init(cfg, Role.TARGET)
        capi.kdcom_link_init(link, cfg)
        self.assertNames(ValueError, "now", capi.kdcom_feed, link, -1, b"")
        self.assertNames(ValueError, "now", capi.kdcom_tick, link, 2 ** 64)
        self.assertNames(ValueError, "role", capi.kdcom_config_init, cfg, -2)
        with self.assertRaises(ValueError) as cm:
            cfg.ack_timeout_ms = -1
        self.assertIn("ack_timeout_ms", str(cm.exception))
        self.assertEqual(cfg.ack_timeout_ms, 1000)   # unchanged


class TestLinkArguments(unittest.TestCase, Names):
    def test_feed_none_names_data(self):
        link = Link(Role.TARGET)
        for bad in (None, "text", 12):
            with self.subTest(data=bad):
                e = self.assertNames(TypeError, "data", link.feed, bad, 0)
                self.assertIn(type(bad).__name__, str(e))
        self.assertEqual(link.stats.bytes_in, 0)

    def test_send_arguments(self):
        link = Link(Role.TARGET)
        for bad in (-1, U32, PacketType.RESET, 99):
            with self.subTest(type=bad):
                e = self.assertNames(ValueError, "type", link.send, bad, b"x")
                self.assertEqual(e.code, Error.BAD_TYPE)
        self.assertNames(TypeError, "header", link.send,
                         PacketType.DEBUG_IO, "text")
        self.assertNames(TypeError, "data", link.send, PacketType.DEBUG_IO,
                         b"", "text")
        e = self.assertNames(ValueError, "data", link.send,
                             PacketType.DEBUG_IO, bytes(16), bytes(3985))
        self.assertEqual(e.code, Error.TOO_BIG)
        self.assertTrue(link.can_send)   # nothing was queued

    def test_time_and_capacity(self):
        link = Link(Role.DEBUGGER)
        self.assertNames(ValueError, "now", link.feed, b"", -1)
        self.assertNames(ValueError, "now", link.tick, 2 ** 64)
        self.assertNames(TypeError, "now", link.drain, 1.5)
        self.assertNames(ValueError, "cap", link.drain, 0, -1)
        self.assertNames(TypeError, "cap", link.drain, 0, "16")
        self.assertNames(ValueError, "now", Link, Role.DEBUGGER, now=-5)
        self.assertNames(ValueError, "length", Link(Role.TARGET).expect_header,
                         -1)

    def test_config_values_are_named(self):
        for kw in ({"ack_timeout_ms": -1}, {"ack_timeout_ms": 0},
                   {"ack_timeout_ms": 3600001}, {"retry_limit": U32},
                   {"reset_interval_ms": -5}, {"byte_timeout_ms": U32},
                   {"flags": 0x80}, {"flags": -1}):
            (name, _), = kw.items()
            with self.subTest(**kw):
                e = self.assertNames(ValueError, name, Link, Role.DEBUGGER,
                                     **kw)
                self.assertEqual(e.code, Error.CONFIG)
        self.assertNames(TypeError, "ack_timeout_ms", Link, Role.DEBUGGER,
                         ack_timeout_ms="100")

    def test_role_is_named(self):
        for bad in (0, 3, -1, 2 ** 40, "kernel"):
            with self.subTest(role=bad):
                e = self.assertNames(ValueError, "role", Link, bad)
                self.assertEqual(e.code, Error.ROLE)
        self.assertNames(TypeError, "role", Link, 1.5)

    def test_exception_classes(self):
        try:
            kdcom.encode_data(PacketType.DEBUG_IO, -1)
        except kdcom.InvalidArgument as e:
            self.assertEqual(e.argument, "id")
            self.assertEqual(e.code, Error.INVAL)
            again = pickle.loads(pickle.dumps(e))
            self.assertEqual((type(again), again.argument, str(again)),
                             (type(e), e.argument, str(e)))
        else:
            self.fail("no exception")


class TestHeaderSizes(unittest.TestCase, Names):
    def test_unknown_types_and_big_sizes_are_refused(self):
        for bad in ({99: 10}, {PacketType.ACKNOWLEDGE: 0},
                    {PacketType.DEBUG_IO: 4001}, {PacketType.DEBUG_IO: -1},
                    {PacketType.DEBUG_IO: 1.5}, {-1: 16}, {"DEBUG_IO": 16},
                    {PacketType.POLL_BREAKIN: 8}):
            with self.subTest(header_sizes=bad):
                with self.assertRaises((ValueError, TypeError)) as cm:
                    Link(Role.DEBUGGER, header_sizes=bad)
                self.assertIn("header_sizes", str(cm.exception))
        self.assertNames(TypeError, "header_sizes", Link, Role.DEBUGGER,
                         header_sizes=[(2, 56)])

    def test_assignment_is_checked_too(self):
        link = Link(Role.DEBUGGER)
        with self.assertRaises(ValueError):
            link.header_sizes = {PacketType.FILE_IO: 5000}
        self.assertIsNone(link.header_sizes)

    def test_good_mapping_is_used(self):
        sizes = {int(PacketType.DEBUG_IO): 4, PacketType.FILE_IO: 4000}
        tgt = Link(Role.TARGET)
        dbg = Link(Role.DEBUGGER, header_sizes=sizes)
        self.assertEqual(dbg.header_sizes,
                         {PacketType.DEBUG_IO: 4, PacketType.FILE_IO: 4000})
        tgt.send(PacketType.DEBUG_IO, b"abcd", b"efgh", now=0)
        for _ in range(3):
            tgt.feed(dbg.drain(0), 0)
            dbg.feed(tgt.drain(0), 0)
        packets = [e for e in dbg.events() if e.kind == EventKind.PACKET]
        self.assertEqual([(e.header, e.data) for e in packets],
                         [(b"abcd", b"efgh")])

    def test_check_header_sizes(self):
        self.assertEqual(kdcom.kd.check_header_sizes(kdcom.kd.HEADER_SIZES),
                         kdcom.kd.HEADER_SIZES)
        with self.assertRaises(ValueError):
            kdcom.kd.check_header_sizes({PacketType.RESET: 0})


class TestEnumsPrintNames(unittest.TestCase):
    def test_str_and_format(self):
        cases = [(PacketType.STATE_MANIPULATE, "PacketType.STATE_MANIPULATE"),
                 (EventKind.PACKET, "EventKind.PACKET"),
                 (Role.DEBUGGER, "Role.DEBUGGER"),
                 (FrameKind.BAD_CHECKSUM, "FrameKind.BAD_CHECKSUM"),
                 (Error.BUSY, "Error.BUSY"),
                 (ConfigFlag.PASSIVE, "ConfigFlag.PASSIVE")]
        for member, text in cases:
            with self.subTest(member=text):
                self.assertEqual(str(member), text)
                self.assertEqual("%s" % member, text)
                self.assertEqual("{}".format(member), text)
                self.assertEqual(f"{member}", text)
                # Numbers still format as numbers.
                self.assertEqual("%d" % member, str(int(member)))
                self.assertEqual(format(member, "d"), str(int(member)))
                self.assertEqual("%x" % member, "%x" % int(member))

    def test_flags(self):
        both = ConfigFlag.PASSIVE | ConfigFlag.BREAKIN_ON_SYNC
        self.assertIn("PASSIVE", str(both))
        self.assertIn("BREAKIN_ON_SYNC", str(both))
        self.assertTrue(str(both).startswith("ConfigFlag."))
        self.assertEqual(str(ConfigFlag(0)), "ConfigFlag(0)")
        self.assertEqual(int(both), 3)

    def test_printed_by_the_library(self):
        self.assertIn("PacketType.DEBUG_IO", "%s" % (PacketType.DEBUG_IO,))
        e = KdcomError(Error.BUSY)
        self.assertIn("Error.BUSY", str(e.code))
        link = Link(Role.DEBUGGER)
        self.assertEqual(str(link.role), "Role.DEBUGGER")
        self.assertEqual(pickle.loads(pickle.dumps(PacketType.FILE_IO)),
                         PacketType.FILE_IO)


if __name__ == "__main__":
    unittest.main()
