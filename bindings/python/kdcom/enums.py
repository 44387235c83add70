# SPDX-License-Identifier: BSD-2-Clause
"""IntEnums for libkdcom's constants.

The members are read from the C module (``kdcom.capi``), which SWIG builds
from include/kdcom.h, so they can never drift from the header: a code
added there appears here on the next build.

They print as names on every Python version (``print(PacketType(2))``
shows ``PacketType.STATE_MANIPULATE``; Python 3.11 made plain IntEnums
print as numbers), and format as numbers with a format spec
(``"%d" % t``, ``f"{t:#x}"``).
"""
import enum

from . import capi


class NamedIntEnum(enum.IntEnum):
    """An IntEnum whose str() and format() give ``Class.NAME``; with a
    format spec (``f"{x:d}"``) it formats as the int."""

    def __str__(self):
        return "%s.%s" % (type(self).__name__, self.name)

    def __format__(self, spec):
        return str(self) if not spec else int.__format__(int(self), spec)


class NamedIntFlag(enum.IntFlag):
    """An IntFlag that prints as ``Class.A|B`` (the set bits by name, any
    unnamed bits in hex), ``Class(0)`` when none is set."""

    def __str__(self):
        cls, value = type(self), int(self)
        names, rest = [], value
        for member in sorted(cls.__members__.values(), key=int):
            bit = int(member)
            if bit and bit & (bit - 1) == 0 and value & bit:
                names.append(member._name_)
                rest &= ~bit
        if rest:
            names.append("0x%x" % rest)
        if not names:
            return "%s(0)" % cls.__name__
        return "%s.%s" % (cls.__name__, "|".join(names))

    def __format__(self, spec):
        return str(self) if not spec else int.__format__(int(self), spec)


def _members(prefix, skip=()):
    """Constants of capi named PREFIX<NAME>, as {NAME: value}."""
    out = {}
    for name, value in vars(capi).items():
        if name.startswith(prefix) and isinstance(value, int):
            short = name[len(prefix):]
            if short not in skip:
                out[short] = value
    return dict(sorted(out.items(), key=lambda kv: (kv[1], kv[0])))


def _make(cls_name, base, prefix, doc, skip=()):
    cls = base(cls_name, _members(prefix, skip), module=__name__)
    cls.__doc__ = doc
    return cls


PacketType = _make(
    "PacketType", NamedIntEnum, "KDCOM_TYPE_",
    """KDCOM PacketType values (header offset 4).

    Data types travel with the "0000" leader, ACKNOWLEDGE, RESEND and
    RESET with "iiii"; POLL_BREAKIN never appears on the wire and MAX is
    the bound (PROTOCOL-FACTS §1.3).""")

EventKind = _make(
    "EventKind", NamedIntEnum, "KDCOM_EV_",
    """What kdcom_next_event() reports: PACKET (a new data packet),
    ACKED (ours was acknowledged), RESEND, RESET, SYNCED (DEBUGGER
    handshake done), BREAKIN (TARGET), RETRIES_EXHAUSTED.""")

Role = _make(
    "Role", NamedIntEnum, "KDCOM_ROLE_",
    """Which end of the wire a link plays: TARGET (kdcom.dll's side) or
    DEBUGGER (WinDbg's side).""")

FrameKind = _make(
    "FrameKind", NamedIntEnum, "KDCOM_FRAME_",
    """What the streaming parser found: NONE, DATA, CONTROL, BREAKIN, or a
    refused data packet (BAD_SIZE, BAD_TRAILER, BAD_CHECKSUM).""")

Error = NamedIntEnum(
    "Error", dict([("OK", capi.KDCOM_OK)] +
                  list(_members("KDCOM_ERR_").items())),
    module=__name__)
Error.__doc__ = """libkdcom's error codes (enum kdcom_err): OK (0) and the
negative values calls return.  Codes at or below FATAL (-20, also named
NOT_INIT) mean the object must be initialised again (kdcom_is_fatal())."""

ConfigFlag = _make(
    "ConfigFlag", NamedIntFlag, "KDCOM_CFG_",
    """Bits of the link configuration's ``flags``: BREAKIN_ON_SYNC and
    PASSIVE (DEBUGGER), NO_IMPLICIT_ACK (TARGET).""")

__all__ = ["PacketType", "EventKind", "Role", "FrameKind", "Error",
           "ConfigFlag"]
