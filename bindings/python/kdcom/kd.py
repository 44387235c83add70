# SPDX-License-Identifier: BSD-2-Clause
"""KD message helpers for decoding: where a payload splits into message
header and message data, and names for the KD message numbers a payload
starts with.

The sizes and names come from include/kdcom_kd.h through kdcom.capi, so
C tools and Python scripts decode alike.  A receiver splits a payload at
the size of the message header it expects for the packet type
(PROTOCOL-FACTS §3.6): 56 for STATE_MANIPULATE, 16 for DEBUG_IO, 0xF0 for
STATE_CHANGE64, 64 for FILE_IO, ...
"""
import struct

from . import capi
from .enums import PacketType

# {PacketType: message-header size} for every type kdcom_kd.h describes.
# Types not listed have no known split: the whole payload is the header.
HEADER_SIZES = {t: capi.kdcom_kd_header_size(int(t)) for t in PacketType
                if capi.kdcom_kd_header_size(int(t))}

PRINT_STRING = capi.KDCOM_KD_PRINT_STRING
STATE_LOAD_SYMBOLS = capi.KDCOM_KD_STATE_LOAD_SYMBOLS
STATE_EXCEPTION = capi.KDCOM_KD_STATE_EXCEPTION
GET_VERSION = capi.KDCOM_KD_GET_VERSION


def split_payload(type, payload, header_sizes=None):
    """Splits a payload into (message header, message data) at the header
    size for ``type`` (HEADER_SIZES, or the mapping given).  A payload
    shorter than the header size is all header."""
    sizes = HEADER_SIZES if header_sizes is None else header_sizes
    size = sizes.get(type)
    if size is None:
        return bytes(payload), b""
    return bytes(payload[:size]), bytes(payload[size:])


def api_number(payload):
    """The first little-endian 32-bit word of a payload (NewState or
    ApiNumber), or None when the payload is shorter than 4 bytes."""
    if len(payload) < 4:
        return None
    return struct.unpack_from("<I", payload, 0)[0]


def api_name(number, short=True):
    """Name of a KD message number (kdcom_kd_api_name()): with short, the
    bare verb ("GetVersion", "Continue2", "LoadSymbols"), else the full
    name ("DbgKdGetVersionApi").  Unknown numbers give "0x%04x"."""
    if number is None:
        return "(short)"
    name = capi.kdcom_kd_api_name(number)
    if name == "unknown":
        return "0x%04x" % number
    if short:
        if name.startswith("DbgKd"):
            name = name[5:]
        name = name.replace("StateChange", "").replace("Api", "")
    return name


def describe(type, payload):
    """A one-line human description of a data packet's payload:
    state change (NewState, processor, thread, program counter, image
    path), manipulate request/answer (API number, status), DbgPrint text,
    file I/O number; always the payload length."""
    try:
        type = PacketType(type)
    except ValueError:
        pass
    number = api_number(payload)
    tname = getattr(type, "name", str(type))
    text = "%s %s" % (tname, api_name(number))
    if type == PacketType.STATE_CHANGE64 and len(payload) >= 32:
        level, proc, nprocs = struct.unpack_from("<HHI", payload, 4)
        thread, pc = struct.unpack_from("<QQ", payload, 16)
        text += " cpu=%d/%d thread=0x%x pc=0x%x" % (proc, nprocs, thread, pc)
        if number == STATE_LOAD_SYMBOLS and len(payload) > 0xF0:
            path = payload[0xF0:].split(b"\0", 1)[0]
            text += " image=%s" % path.decode("latin-1")
    elif type == PacketType.STATE_MANIPULATE and len(payload) >= 12:
        status = struct.unpack_from("<I", payload, 8)[0]
        text += " status=0x%08x" % status
    elif type == PacketType.DEBUG_IO and len(payload) >= 16:
        if number == PRINT_STRING:
            length = struct.unpack_from("<I", payload, 8)[0]
            msg = payload[16:16 + length]
            text += " %r" % msg.decode("latin-1")
    text += " (%d bytes)" % len(payload)
    return text


def droppable(type, header):
    """True if a target may give up on this packet when nobody ACKs it
    (kdcom.dll drops DbgPrint, LoadSymbols and CreateFile only)."""
    return bool(capi.kdcom_kd_droppable(int(type), header))


__all__ = ["HEADER_SIZES", "split_payload", "api_number", "api_name",
           "describe", "droppable", "PRINT_STRING", "STATE_LOAD_SYMBOLS",
           "STATE_EXCEPTION", "GET_VERSION"]
