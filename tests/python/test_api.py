# SPDX-License-Identifier: BSD-2-Clause
"""The package surface: everything public is documented, importable from
the top level, and the raw module exposes kdcom.h without its private
members."""
import inspect
import unittest

import support  # noqa: F401
import kdcom
from kdcom import capi


class TestSurface(unittest.TestCase):
    def test_everything_public_has_a_docstring(self):
        missing = []
        for name in kdcom.__all__:
            obj = getattr(kdcom, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj) or
                    inspect.ismodule(obj)):
                continue
            if not (obj.__doc__ or "").strip():
                missing.append(name)
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if (inspect.isfunction(member) or
                            isinstance(member, property)) and \
                            not (member.__doc__ or "").strip():
                        missing.append("%s.%s" % (name, attr))
        self.assertEqual(missing, [])

    def test_private_members_are_hidden(self):
        link = capi.kdcom_link()
        public = [n for n in dir(link) if not n.startswith("_")]
        self.assertEqual(sorted(public), ["this", "thisown"])
        parser = capi.kdcom_parser()
        self.assertFalse(hasattr(parser, "payload"))
        self.assertFalse(hasattr(parser, "state"))
        self.assertTrue(hasattr(parser, "noise_bytes"))
        self.assertFalse(hasattr(capi.kdcom_event(), "payload"))
        # The public structures keep their fields.
        cfg = capi.kdcom_config()
        capi.kdcom_config_init(cfg, kdcom.Role.DEBUGGER)
        self.assertEqual(cfg.ack_timeout_ms, 1000)

    def test_raw_api_round_trip(self):
        # The C API one to one, as a C program would use it.
        dbg, tgt = capi.kdcom_link(), capi.kdcom_link()
        for link, role in ((dbg, kdcom.Role.DEBUGGER),
                           (tgt, kdcom.Role.TARGET)):
            cfg = capi.kdcom_config()
            capi.kdcom_config_init(cfg, role)
            capi.kdcom_link_init(link, cfg)
        capi.kdcom_send(tgt, 0, kdcom.PacketType.DEBUG_IO, bytes(16), b"hi")
        for _ in range(3):
            capi.kdcom_feed(tgt, 0, capi.kdcom_drain(dbg, 0, 4096))
            capi.kdcom_feed(dbg, 0, capi.kdcom_drain(tgt, 0, 4096))
        kinds = []
        while True:
            kind, ev, payload = capi.kdcom_next_event(dbg)
            if kind == capi.KDCOM_EV_NONE:
                break
            kinds.append(kind)
            if kind == capi.KDCOM_EV_PACKET:
                self.assertEqual(payload, bytes(16) + b"hi")
                self.assertEqual(ev.len, 18)
        self.assertEqual(kinds, [capi.KDCOM_EV_SYNCED, capi.KDCOM_EV_PACKET])
        self.assertEqual(capi.kdcom_get_stats(dbg).syncs, 1)
        self.assertIsNone(capi.kdcom_get_stats(None))
        self.assertEqual(capi.kdcom_next_deadline(dbg), 2 ** 64 - 1)


if __name__ == "__main__":
    unittest.main()
