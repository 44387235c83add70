# SPDX-License-Identifier: BSD-2-Clause
"""Codec, enums, version and the raw SWIG layer: checksum, encoders,
the streaming parser (split invariance), typemaps and error mapping."""
import random
import struct
import unittest

import support  # noqa: F401  (sets up the import path)
import kdcom
from kdcom import FrameKind, PacketType, capi


class TestVersion(unittest.TestCase):
    def test_version_comes_from_c(self):
        self.assertEqual(kdcom.__version__, capi.kdcom_version_string())
        num = capi.kdcom_version()
        self.assertEqual(kdcom.version_info,
                         (num >> 16, (num >> 8) & 0xFF, num & 0xFF))
        self.assertEqual(kdcom.__version__,
                         "%d.%d.%d" % kdcom.version_info)


class TestEnums(unittest.TestCase):
    def test_values_match_the_header(self):
        self.assertEqual(PacketType.STATE_MANIPULATE, 2)
        self.assertEqual(PacketType.FILE_IO, 11)
        self.assertEqual(kdcom.Role.TARGET, capi.KDCOM_ROLE_TARGET)
        self.assertEqual(kdcom.EventKind.PACKET, capi.KDCOM_EV_PACKET)
        self.assertEqual(kdcom.Error.CLOSED, capi.KDCOM_ERR_CLOSED)
        self.assertEqual(kdcom.Error.OK, 0)
        self.assertEqual(kdcom.ConfigFlag.PASSIVE, capi.KDCOM_CFG_PASSIVE)
        self.assertEqual(FrameKind.BAD_CHECKSUM,
                         capi.KDCOM_FRAME_BAD_CHECKSUM)

    def test_every_error_has_text(self):
        for code in kdcom.Error:
            self.assertNotEqual(kdcom.strerror(code), "unknown error code")
        self.assertEqual(kdcom.strerror(-999), "unknown error code")

    def test_names(self):
        self.assertEqual(kdcom.packet_type_name(PacketType.DEBUG_IO),
                         "DEBUG_IO")
        self.assertTrue(kdcom.is_data_type(PacketType.FILE_IO))
        self.assertFalse(kdcom.is_data_type(PacketType.RESET))


class TestChecksum(unittest.TestCase):
    def test_known_value(self):
        # PROTOCOL-FACTS §6.2: the ReactOS DbgPrint packet sums to 0x0C65.
        head = bytes.fromhex("30320000000000002100000000000000")
        text = b"hello from ReactOS kddll harness\n"
        self.assertEqual(kdcom.checksum(head + text), 0x0C65)
        self.assertEqual(kdcom.checksum(text, kdcom.checksum(head)), 0x0C65)

    def test_buffer_kinds(self):
        data = bytes(range(256)) * 3
        want = sum(data) & 0xFFFFFFFF
        for obj in (data, bytearray(data), memoryview(data)):
            self.assertEqual(kdcom.checksum(obj), want)
        self.assertEqual(kdcom.checksum(b""), 0)
        self.assertEqual(kdcom.checksum(None), 0)

    def test_wraps_modulo_2_32(self):
        self.assertEqual(kdcom.checksum(b"\xff" * 4000), 0xFF * 4000)
        self.assertEqual(capi.kdcom_checksum_update(0xFFFFFFFF, b"\x02"), 1)


class TestEncoders(unittest.TestCase):
    def test_data_packet_bytes(self):
        head = bytes.fromhex("30320000000000002100000000000000")
        text = b"hello from ReactOS kddll harness\n"
        frame = kdcom.encode_data(PacketType.DEBUG_IO, 0x80800000, head,
                                  text)
        self.assertEqual(frame[:16], bytes.fromhex(
            "30303030030031000000808065 0c0000".replace(" ", "")))
        self.assertEqual(frame[16:-1], head + text)
        self.assertEqual(frame[-1], 0xAA)

    def test_control_packet_bytes(self):
        self.assertEqual(
            kdcom.encode_control(PacketType.ACKNOWLEDGE, 0x80800000),
            bytes.fromhex("69696969040000000000808000000000"))
        self.assertEqual(kdcom.encode_control(PacketType.RESET),
                         bytes.fromhex("69696969060000000000000000000000"))

    def test_max_payload(self):
        frame = kdcom.encode_data(PacketType.FILE_IO, 1, b"h" * 64,
                                  b"d" * (4000 - 64))
        self.assertEqual(len(frame), kdcom.MAX_FRAME)
        with self.assertRaises(kdcom.KdcomError) as cm:
            kdcom.encode_data(PacketType.FILE_IO, 1, b"h" * 64,
                              b"d" * (4001 - 64))
        self.assertEqual(cm.exception.code, kdcom.Error.TOO_BIG)

    def test_bad_types(self):
        for t in (PacketType.ACKNOWLEDGE, PacketType.POLL_BREAKIN, 12,
                  0xFFFF):
            with self.assertRaises(kdcom.KdcomError) as cm:
                kdcom.encode_data(t, 0, b"x")
            self.assertEqual(cm.exception.code, kdcom.Error.BAD_TYPE)
        with self.assertRaises(kdcom.KdcomError) as cm:
            kdcom.encode_control(PacketType.DEBUG_IO, 0)
        self.assertEqual(cm.exception.code, kdcom.Error.BAD_TYPE)

    def test_raw_capacity_errors(self):
        with self.assertRaises(kdcom.KdcomError) as cm:
            capi.kdcom_encode_control(15, PacketType.RESET, 0)
        self.assertEqual(cm.exception.code, kdcom.Error.NOBUFS)
        self.assertEqual(capi.kdcom_encode_control(100, PacketType.RESET, 0),
                         kdcom.encode_control(PacketType.RESET))
        # A huge capacity is fine (nothing like it is allocated).
        self.assertEqual(len(capi.kdcom_encode_data(2 ** 31 - 1, 3, 0,
                                                    bytes(4000), None)),
                         kdcom.MAX_FRAME)
        with self.assertRaises(ValueError):
            capi.kdcom_encode_control(2 ** 31, PacketType.RESET, 0)
        with self.assertRaises(ValueError):
            capi.kdcom_encode_control(-1, PacketType.RESET, 0)
        with self.assertRaises(TypeError):
            capi.kdcom_encode_control("16", PacketType.RESET, 0)


class TestParser(unittest.TestCase):
    def stream(self):
        rng = random.Random(7)
        parts, expect = [], []
        for i in range(40):
            r = rng.random()
            if r < 0.5:
                t = rng.choice([PacketType.STATE_MANIPULATE,
                                PacketType.DEBUG_IO, PacketType.FILE_IO])
                pay = bytes(rng.randrange(256)
                            for _ in range(rng.randrange(300)))
                parts.append(kdcom.encode_data(t, 0x80800000 | (i & 1), pay))
                expect.append((FrameKind.DATA, t, pay))
            elif r < 0.8:
                t = rng.choice([PacketType.ACKNOWLEDGE, PacketType.RESEND,
                                PacketType.RESET])
                parts.append(kdcom.encode_control(t, i))
                expect.append((FrameKind.CONTROL, t, b""))
            else:
                parts.append(b"\x13\x00" + b"00\x13")  # noise, partial leader
        return b"".join(parts), expect

    def test_same_frames_for_every_split(self):
        data, expect = self.stream()
        whole = [(f.kind, f.type, f.payload) for f in kdcom.parse(data)]
        self.assertEqual(whole, expect)
        for step in (1, 2, 3, 7, 16, 17, 100):
            p = kdcom.Parser()
            got = []
            for i in range(0, len(data), step):
                got += [(f.kind, f.type, f.payload)
                        for f in p.feed(data[i:i + step])]
            self.assertEqual(got, expect, "split %d" % step)
            self.assertEqual(p.bytes_in, len(data))
        p = kdcom.Parser()
        got = [(f.kind, f.type, f.payload) for f in
               p.frames(memoryview(data)[i:i + 5]
                        for i in range(0, len(data), 5))]
        self.assertEqual(got, expect)

    def test_bad_frames(self):
        good = kdcom.encode_data(PacketType.DEBUG_IO, 0x80800000, b"abcd")
        bad_sum = bytearray(good)
        bad_sum[17] ^= 1
        bad_trailer = bytearray(good)
        bad_trailer[-1] = 0xAB
        too_big = bytearray(good[:16])
        too_big[6:8] = (4001).to_bytes(2, "little")
        p = kdcom.Parser()
        kinds = [f.kind for f in p.feed(bytes(bad_sum) + bytes(bad_trailer))]
        self.assertEqual(kinds, [FrameKind.BAD_CHECKSUM,
                                 FrameKind.BAD_TRAILER])
        frames = p.feed(bytes(too_big))
        self.assertEqual([f.kind for f in frames], [FrameKind.BAD_SIZE])
        self.assertEqual(frames[0].byte_count, 4001)
        self.assertFalse(frames[0].ok)

    def test_noise_is_counted(self):
        p = kdcom.Parser()
        frames = p.feed(b"\x00\x13" + b"00" + b"iii" + b"x" + b"b")
        self.assertEqual([f.kind for f in frames], [FrameKind.BREAKIN])
        self.assertGreater(p.noise_bytes, 0)
        self.assertEqual(p.partial_leaders, 2)

    def test_payload_survives_the_parser(self):
        # The payload is copied out: parsing more must not change it.
        p = kdcom.Parser()
        f1 = p.feed(kdcom.encode_data(3, 0, b"first"))[0]
        p.feed(kdcom.encode_data(3, 1, b"SECOND"))
        self.assertEqual(f1.payload, b"first")

    def test_half_packet_and_reset(self):
        p = kdcom.Parser()
        frame = kdcom.encode_data(3, 0, b"payload")
        self.assertEqual(p.feed(frame[:10]), [])
        self.assertTrue(p.busy)
        p.reset()
        self.assertFalse(p.busy)
        self.assertEqual(len(p.feed(frame)), 1)


class TestKdHelpers(unittest.TestCase):
    def test_split_and_describe(self):
        head = bytes.fromhex("30320000000000002100000000000000")
        text = b"hello from ReactOS kddll harness\n"
        h, d = kdcom.kd.split_payload(PacketType.DEBUG_IO, head + text)
        self.assertEqual((h, d), (head, text))
        desc = kdcom.kd.describe(PacketType.DEBUG_IO, head + text)
        self.assertIn("PrintString", desc)
        self.assertIn("hello from ReactOS", desc)
        self.assertIn("GetVersion", kdcom.kd.describe(
            PacketType.STATE_MANIPULATE, b"\x46\x31" + bytes(54)))
        self.assertIn("(short)", kdcom.kd.describe(PacketType.DEBUG_IO, b""))

    def test_describe_request_and_reply(self):
        K = kdcom.capi
        MS = PacketType.STATE_MANIPULATE
        # A GetVersion request: the union is the debugger's, not a reply's
        # fields (here filled with what a stack might hold).
        req = struct.pack("<I", K.KDCOM_KD_GET_VERSION) + bytes(12) + \
            b"\xaa" * 40
        text = kdcom.kd.describe(MS, req, to_target=True)
        self.assertEqual(text, "STATE_MANIPULATE GetVersion request "
                               "(56 bytes)")
        rep = bytearray(56)
        struct.pack_into("<I", rep, 0, K.KDCOM_KD_GET_VERSION)
        struct.pack_into("<HHBBHHBBB", rep, K.KDCOM_KD_VERSION_MAJOR, 0x000F,
                         19041, 6, 2, 7, 0x8664, 12, 3, 0x31)
        text = kdcom.kd.describe(MS, rep, to_target=False)
        self.assertIn("GetVersion reply status=0x00000000 (STATUS_SUCCESS)",
                      text)
        self.assertIn("major=0xf (kernel debugger, free build) build=19041", text)
        struct.pack_into("<H", rep, K.KDCOM_KD_VERSION_MAJOR, 0x040F)
        self.assertIn("major=0x40f (boot debugger, free build)",
                      kdcom.kd.describe(MS, rep, to_target=False))
        self.assertEqual(kdcom.kd.major_type_name(0x000F), "kernel")
        # Memory: address and count in both, actual and status in replies.
        read = bytearray(56)
        struct.pack_into("<I", read, 0, K.KDCOM_KD_READ_VIRTUAL_MEMORY)
        struct.pack_into("<QII", read, K.KDCOM_KD_MEM_ADDRESS,
                         0xfffff80000400000, 16, 0)
        self.assertEqual(kdcom.kd.describe(MS, read, to_target=True),
                         "STATE_MANIPULATE ReadVirtualMemory request "
                         "addr=0xfffff80000400000 count=16 (56 bytes)")
        struct.pack_into("<I", read, K.KDCOM_KD_MS_RETURN_STATUS,
                         K.KDCOM_KD_STATUS_UNSUCCESSFUL)
        self.assertIn("reply status=0xc0000001 (STATUS_UNSUCCESSFUL) "
                      "addr=0xfffff80000400000 count=16 actual=0 data=0",
                      kdcom.kd.describe(MS, read, to_target=False))

    def test_describe_unload_and_file_io(self):
        K = kdcom.capi
        sc = bytearray(K.KDCOM_KD_SC_SIZE)
        struct.pack_into("<I", sc, 0, K.KDCOM_KD_STATE_LOAD_SYMBOLS)
        struct.pack_into("<Q", sc, K.KDCOM_KD_LS_BASE_OF_DLL,
                         0xFFFFFFFFFFFFFFFF)
        sc[K.KDCOM_KD_LS_UNLOAD] = 1
        text = kdcom.kd.describe(PacketType.STATE_CHANGE64, sc)
        self.assertIn("LoadSymbols", text)
        self.assertIn("unload base=0xffffffffffffffff (all modules)", text)
        self.assertNotIn(" load base", text)
        fio = bytearray(K.KDCOM_KD_FIO_SIZE)
        struct.pack_into("<I", fio, 0, K.KDCOM_KD_READ_FILE)
        struct.pack_into("<QQI", fio, K.KDCOM_KD_FIO_HANDLE, 5, 4096, 512)
        self.assertIn("ReadFile request handle=0x5 offset=0x1000 length=512",
                      kdcom.kd.describe(PacketType.FILE_IO, fio,
                                        to_target=False))
        struct.pack_into("<I", fio, K.KDCOM_KD_FIO_STATUS,
                         K.KDCOM_KD_STATUS_NO_SUCH_FILE)
        self.assertIn("ReadFile reply status=0xc000000f "
                      "(STATUS_NO_SUCH_FILE) handle=0x5",
                      kdcom.kd.describe(PacketType.FILE_IO, fio,
                                        to_target=True))


if __name__ == "__main__":
    unittest.main()
