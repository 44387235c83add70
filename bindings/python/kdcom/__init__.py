# SPDX-License-Identifier: BSD-2-Clause
"""kdcom: Python bindings for libkdcom, the KDCOM framing engine of
Windows kernel debugging (TARGET and DEBUGGER roles).

The same C engine a hypervisor links runs underneath; nothing here
re-implements the protocol.  Layers:

  kdcom.Link, Event, Stats       a link end: feed / drain / send / events
  kdcom.checksum, encode_data,   the codec alone, for exact bytes
  encode_control, Parser, Frame
  kdcom.PacketType, EventKind,   the header's enums as IntEnums
  Role, FrameKind, Error,
  ConfigFlag
  kdcom.KdcomError               every negative return code
  kdcom.InvalidArgument          an impossible argument (a ValueError
                                 and a KdcomError, naming it)
  kdcom.kd                       KD message helpers for decoding
  kdcom.capi                     the raw SWIG module (kdcom.h as is)

See docs/python.md.  __version__ is the C library's version string.
"""
from . import capi, kd
from .codec import (BREAKIN_BYTE, HEADER_SIZE, INITIAL_ID, LEADER_CONTROL,
                    LEADER_DATA, MAX_FRAME, MAX_PAYLOAD, SYNC_BIT,
                    TRAILER_BYTE, Frame, Parser, checksum, encode_control,
                    encode_data, parse)
from .enums import ConfigFlag, Error, EventKind, FrameKind, PacketType, Role
from .errors import InvalidArgument, KdcomError, check_int, check_u32
from .link import STATS_FIELDS, Event, Link, Stats, monotonic_ms

__version__ = capi.kdcom_version_string()
version_info = (capi.KDCOM_VERSION_MAJOR, capi.KDCOM_VERSION_MINOR,
                capi.KDCOM_VERSION_PATCH)
PROTOCOL_REVISION = capi.KDCOM_PROTOCOL_REVISION


def strerror(code):
    """The library's text for an error code (kdcom_strerror())."""
    return capi.kdcom_strerror(check_int(code, "code", -2 ** 31, 2 ** 31 - 1,
                                         func="strerror"))


def packet_type_name(type):
    """The library's name for a packet type ("STATE_MANIPULATE", ...)."""
    return capi.kdcom_packet_type_name(
        check_u32(type, "type", func="packet_type_name"))


def is_data_type(type):
    """True if packets of this type travel with the "0000" leader."""
    return bool(capi.kdcom_is_data_type(
        check_u32(type, "type", func="is_data_type")))


__all__ = ["capi", "kd", "Link", "Event", "Stats", "STATS_FIELDS",
           "monotonic_ms", "Frame", "Parser", "parse", "checksum",
           "encode_data", "encode_control", "ConfigFlag", "Error",
           "EventKind", "FrameKind", "PacketType", "Role", "KdcomError",
           "InvalidArgument",
           "strerror", "packet_type_name", "is_data_type", "__version__",
           "version_info", "PROTOCOL_REVISION", "HEADER_SIZE", "MAX_PAYLOAD",
           "MAX_FRAME", "INITIAL_ID", "SYNC_BIT", "TRAILER_BYTE",
           "BREAKIN_BYTE", "LEADER_DATA", "LEADER_CONTROL"]
