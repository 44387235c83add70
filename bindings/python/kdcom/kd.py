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
import collections.abc
import struct

from . import capi
from .enums import Error, PacketType
from .errors import InvalidArgument, check_int

# {PacketType: message-header size} for every type kdcom_kd.h describes.
# Types not listed have no known split: the whole payload is the header.
HEADER_SIZES = {t: capi.kdcom_kd_header_size(int(t)) for t in PacketType
                if capi.kdcom_kd_header_size(int(t))}

PRINT_STRING = capi.KDCOM_KD_PRINT_STRING
STATE_LOAD_SYMBOLS = capi.KDCOM_KD_STATE_LOAD_SYMBOLS
STATE_EXCEPTION = capi.KDCOM_KD_STATE_EXCEPTION
GET_VERSION = capi.KDCOM_KD_GET_VERSION


def check_header_sizes(header_sizes, name="header_sizes"):
    """Checks a {packet type: message-header size} mapping such as
    HEADER_SIZES and returns it as a new dict keyed by PacketType.  Every
    key must be a data packet type (a PacketType or its int value), every
    size an int in 0..4000 (KDCOM_MAX_PAYLOAD: no payload is longer).
    Raises TypeError for something that is no mapping or a key or size
    that is no int, InvalidArgument (a ValueError) for an unknown or
    non-data packet type or a size out of range; the text names the
    argument and the entry."""
    if not isinstance(header_sizes, collections.abc.Mapping):
        raise TypeError("argument '%s' must be a mapping {packet type: "
                        "header size}, not %s" %
                        (name, type(header_sizes).__name__))
    out = {}
    for key, size in header_sizes.items():
        ptype = check_int(key, name, 0, 2 ** 32 - 1, Error.BAD_TYPE)
        if not capi.kdcom_is_data_type(ptype):
            raise InvalidArgument(
                Error.BAD_TYPE, "argument '%s': %s is not a data packet "
                "type (%s)" % (name, key, ", ".join(
                    t.name for t in PacketType
                    if capi.kdcom_is_data_type(int(t)))), name)
        ptype = PacketType(ptype)
        out[ptype] = check_int(size, "%s[%s]" % (name, ptype), 0,
                               capi.KDCOM_MAX_PAYLOAD)
    return out


def split_payload(type, payload, header_sizes=None):
    """Splits a payload into (message header, message data) at the header
    size for ``type`` (HEADER_SIZES, or the mapping given, which
    check_header_sizes() accepts).  A payload shorter than the header
    size is all header."""
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


def status_name(status):
    """Name of an NTSTATUS a KD message carries ("STATUS_UNSUCCESSFUL",
    "DBG_CONTINUE"; kdcom_kd_status_name()), or None if unknown."""
    return capi.kdcom_kd_status_name(status & 0xFFFFFFFF)


def major_type_name(major):
    """The debugger type in a GetVersion MajorVersion's high byte:
    "kernel" (0, the kernel's own KD), "boot" (4, the boot loaders'
    debugger), "efi", "hypervisor", ... or "unknown"."""
    return capi.kdcom_kd_major_type_name(major & 0xFFFF)


K = capi
_MEMORY_APIS = {K.KDCOM_KD_READ_VIRTUAL_MEMORY, K.KDCOM_KD_WRITE_VIRTUAL_MEMORY,
                K.KDCOM_KD_READ_PHYSICAL_MEMORY,
                K.KDCOM_KD_WRITE_PHYSICAL_MEMORY,
                K.KDCOM_KD_READ_CONTROL_SPACE, K.KDCOM_KD_WRITE_CONTROL_SPACE}
_WRITE_APIS = {K.KDCOM_KD_WRITE_VIRTUAL_MEMORY,
               K.KDCOM_KD_WRITE_PHYSICAL_MEMORY,
               K.KDCOM_KD_WRITE_CONTROL_SPACE}


def _u16(p, off):
    return struct.unpack_from("<H", p, off)[0]


def _u32(p, off):
    return struct.unpack_from("<I", p, off)[0]


def _u64(p, off):
    return struct.unpack_from("<Q", p, off)[0]


def _status(st):
    name = status_name(st)
    return "status=0x%08x%s" % (st, " (%s)" % name if name else "")


def _text(raw, wide=False):
    if wide:
        raw = raw.decode("utf-16-le", "replace")
    else:
        raw = raw.decode("latin-1")
    return repr(raw.split("\0", 1)[0])


def _manipulate(number, p, to_target):
    """Fields of a DBGKD_MANIPULATE_STATE64: a request (to the target)
    shows what the debugger fills, a reply (from it) the status and what
    the target filled; direction unknown, the fields both carry."""
    req, rep = to_target is True, to_target is False
    data = len(p) - K.KDCOM_KD_MS_SIZE
    out = ["request" if req else "reply" if rep else None]
    if not req:
        out.append(_status(_u32(p, K.KDCOM_KD_MS_RETURN_STATUS)))
    if number in _MEMORY_APIS:
        write = number in _WRITE_APIS
        out.append("addr=0x%x count=%d" % (_u64(p, K.KDCOM_KD_MEM_ADDRESS),
                                           _u32(p, K.KDCOM_KD_MEM_COUNT)))
        if not req:
            out.append("actual=%d" % _u32(p, K.KDCOM_KD_MEM_ACTUAL))
        if data or (req and write) or (rep and not write):
            out.append("data=%d" % data)
    elif number == K.KDCOM_KD_GET_VERSION:
        if not req:
            major = _u16(p, K.KDCOM_KD_VERSION_MAJOR)
            build = {K.KDCOM_KD_BUILD_FREE: "free",
                     K.KDCOM_KD_BUILD_CHECKED: "checked"}.get(
                         major & 0xFF, "unknown")
            out.append(
                "major=0x%x (%s debugger, %s build) build=%d protocol=%d "
                "flags=0x%x machine=0x%04x kernbase=0x%x" % (
                    major, major_type_name(major), build,
                    _u16(p, K.KDCOM_KD_VERSION_MINOR),
                    p[K.KDCOM_KD_VERSION_PROTOCOL],
                    _u16(p, K.KDCOM_KD_VERSION_FLAGS),
                    _u16(p, K.KDCOM_KD_VERSION_MACHINE),
                    _u64(p, K.KDCOM_KD_VERSION_KERN_BASE)))
    elif number == K.KDCOM_KD_CONTINUE:
        out.append("continue_status=0x%08x" %
                   _u32(p, K.KDCOM_KD_CONTINUE_STATUS))
    elif number == K.KDCOM_KD_CONTINUE2:
        out.append("continue_status=0x%08x trace=%d dr7=0x%x" % (
            _u32(p, K.KDCOM_KD_CONTINUE_STATUS),
            _u32(p, K.KDCOM_KD_CONTINUE2_TRACE_FLAG),
            _u64(p, K.KDCOM_KD_CONTINUE2_DR7)))
    elif number in (K.KDCOM_KD_GET_CONTEXT_EX, K.KDCOM_KD_SET_CONTEXT_EX):
        out.append("offset=%d count=%d" % (
            _u32(p, K.KDCOM_KD_CONTEXT_EX_OFFSET),
            _u32(p, K.KDCOM_KD_CONTEXT_EX_COUNT)))
        if not req:
            out.append("copied=%d" % _u32(p, K.KDCOM_KD_CONTEXT_EX_COPIED))
        if data:
            out.append("data=%d" % data)
    elif number == K.KDCOM_KD_WRITE_BREAKPOINT:
        out.append("addr=0x%x" % _u64(p, K.KDCOM_KD_BP_ADDRESS))
        if not req:
            out.append("handle=%d" % _u32(p, K.KDCOM_KD_BP_HANDLE))
    elif number == K.KDCOM_KD_RESTORE_BREAKPOINT:
        out.append("handle=%d" % _u32(p, K.KDCOM_KD_BP_RESTORE_HANDLE))
    elif number in (K.KDCOM_KD_READ_IO_SPACE, K.KDCOM_KD_WRITE_IO_SPACE):
        out.append("addr=0x%x size=%d" % (_u64(p, K.KDCOM_KD_IO_ADDRESS),
                                          _u32(p, K.KDCOM_KD_IO_SIZE)))
        if number == K.KDCOM_KD_WRITE_IO_SPACE or not req:
            out.append("value=0x%x" % _u32(p, K.KDCOM_KD_IO_VALUE))
    elif number in (K.KDCOM_KD_READ_IO_SPACE_EXTENDED,
                    K.KDCOM_KD_WRITE_IO_SPACE_EXTENDED):
        out.append("interface=%d bus=%d space=%d addr=0x%x size=%d" % (
            _u32(p, K.KDCOM_KD_IOX_INTERFACE_TYPE),
            _u32(p, K.KDCOM_KD_IOX_BUS_NUMBER),
            _u32(p, K.KDCOM_KD_IOX_ADDRESS_SPACE),
            _u64(p, K.KDCOM_KD_IOX_ADDRESS), _u32(p, K.KDCOM_KD_IOX_SIZE)))
        if number == K.KDCOM_KD_WRITE_IO_SPACE_EXTENDED or not req:
            out.append("value=0x%x" % _u32(p, K.KDCOM_KD_IOX_VALUE))
    elif number in (K.KDCOM_KD_READ_MSR, K.KDCOM_KD_WRITE_MSR):
        out.append("msr=0x%x" % _u32(p, K.KDCOM_KD_MSR_INDEX))
        if number == K.KDCOM_KD_WRITE_MSR or not req:
            out.append("value=0x%x" % (_u32(p, K.KDCOM_KD_MSR_LOW) |
                                       _u32(p, K.KDCOM_KD_MSR_HIGH) << 32))
    elif number == K.KDCOM_KD_QUERY_MEMORY:
        out.append("addr=0x%x space=%d" % (
            _u64(p, K.KDCOM_KD_QUERY_ADDRESS),
            _u32(p, K.KDCOM_KD_QUERY_ADDRESS_SPACE)))
        if not req:
            out.append("flags=0x%x" % _u32(p, K.KDCOM_KD_QUERY_FLAGS))
    else:
        if number in (K.KDCOM_KD_GET_CONTEXT, K.KDCOM_KD_SET_CONTEXT,
                      K.KDCOM_KD_SWITCH_PROCESSOR):
            out.append("cpu=%d" % _u16(p, K.KDCOM_KD_MS_PROCESSOR))
        if data:
            out.append("data=%d" % data)
    return [x for x in out if x]


def _state_change(number, p):
    level, proc, nprocs = struct.unpack_from("<HHI", p, 4)
    thread, pc = struct.unpack_from("<QQ", p, 16)
    out = []
    if number == STATE_EXCEPTION:
        code = _u32(p, K.KDCOM_KD_EXC_CODE)
        name = status_name(code)
        out.append("code=0x%08x%s exception_addr=0x%x first_chance=%d" % (
            code, " (%s)" % name if name else "",
            _u64(p, K.KDCOM_KD_EXC_ADDRESS),
            _u32(p, K.KDCOM_KD_EXC_FIRST_CHANCE)))
    out.append("cpu=%d/%d thread=0x%x pc=0x%x" % (proc, nprocs, thread, pc))
    if number == STATE_LOAD_SYMBOLS:
        base = _u64(p, K.KDCOM_KD_LS_BASE_OF_DLL)
        if p[K.KDCOM_KD_LS_UNLOAD]:
            out.append("unload base=0x%x%s" % (
                base, " (all modules)" if base == K.KDCOM_KD_LS_BASE_ALL
                else ""))
        else:
            out.append("load base=0x%x size=0x%x" % (
                base, _u32(p, K.KDCOM_KD_LS_SIZE_OF_IMAGE)))
        if len(p) > K.KDCOM_KD_SC_SIZE:
            path = p[K.KDCOM_KD_SC_SIZE:].split(b"\0", 1)[0]
            out.append("image=%s" % path.decode("latin-1"))
    return out


def _debug_io(number, p, to_target):
    out = []
    if number == PRINT_STRING:
        length = _u32(p, K.KDCOM_KD_DIO_LENGTH)
        out.append(_text(p[16:16 + length]))
    elif number == K.KDCOM_KD_GET_STRING:
        # The prompt's length, and the answer's: the most the target
        # takes (prompt) or what the debugger gives (reply).
        if to_target:
            out.append("reply read=%d" % _u32(p, K.KDCOM_KD_DIO_STRING_READ))
        else:
            out.append("%slen=%d read=%d" % (
                "prompt " if to_target is False else "",
                _u32(p, K.KDCOM_KD_DIO_LENGTH),
                _u32(p, K.KDCOM_KD_DIO_STRING_READ)))
        if len(p) > K.KDCOM_KD_DIO_SIZE:
            out.append(_text(p[K.KDCOM_KD_DIO_SIZE:]))
    return out


def _file_io(number, p, to_target):
    """DBGKD_FILE_IO: the target asks (to_target False), the debugger
    answers (True) with the status and what it filled in."""
    req, rep = to_target is False, to_target is True
    data = len(p) - K.KDCOM_KD_FIO_SIZE
    out = ["request" if req else "reply" if rep else None]
    if not req:
        out.append(_status(_u32(p, K.KDCOM_KD_FIO_STATUS)))
    if number == K.KDCOM_KD_CREATE_FILE:
        if not rep:
            out.append("access=0x%x disposition=%d file=%s" % (
                _u32(p, K.KDCOM_KD_FIO_CREATE_ACCESS),
                _u32(p, K.KDCOM_KD_FIO_CREATE_DISPOSITION),
                _text(p[K.KDCOM_KD_FIO_SIZE:], wide=True)))
        if not req:
            out.append("handle=0x%x file_size=%d" % (
                _u64(p, K.KDCOM_KD_FIO_CREATE_HANDLE),
                _u64(p, K.KDCOM_KD_FIO_CREATE_LENGTH)))
        data = 0
    elif number in (K.KDCOM_KD_READ_FILE, K.KDCOM_KD_WRITE_FILE):
        out.append("handle=0x%x offset=0x%x length=%d" % (
            _u64(p, K.KDCOM_KD_FIO_HANDLE), _u64(p, K.KDCOM_KD_FIO_OFFSET),
            _u32(p, K.KDCOM_KD_FIO_LENGTH)))
    elif number == K.KDCOM_KD_CLOSE_FILE:
        out.append("handle=0x%x" % _u64(p, K.KDCOM_KD_FIO_HANDLE))
    if data:
        out.append("data=%d" % data)
    return [x for x in out if x]


def describe(type, payload, to_target=None):
    """A one-line human description of a data packet's payload, the same
    fields the C tools' decoded traces show: state change (NewState,
    exception code and address, processor, thread, program counter, a
    load or an unload and the image path), manipulate request or reply
    (API, status by name, address/count/actual of memory operations,
    the GetVersion fields with the debugger type), DbgPrint text, file
    I/O (status, handle, offset, length); always the payload length.

    to_target is True for a packet the debugger sent, False for one the
    target sent: a manipulate request goes to the target and its reply
    comes back, a FILE_IO request comes from the target.  A request shows
    only the fields its sender fills (not a reply's, which it leaves
    uninitialised).  None (unknown) shows the fields both carry."""
    try:
        type = PacketType(type)
    except ValueError:
        pass
    payload = bytes(payload)
    number = api_number(payload)
    tname = getattr(type, "name", str(type))
    parts = ["%s %s" % (tname, api_name(number))]
    size = HEADER_SIZES.get(type)
    if number is not None and size and len(payload) < size:
        parts.append("(short: %d of %d header bytes)" % (len(payload), size))
    elif number is not None and size:
        if type == PacketType.STATE_CHANGE64:
            parts += _state_change(number, payload)
        elif type == PacketType.STATE_MANIPULATE:
            parts += _manipulate(number, payload, to_target)
        elif type == PacketType.DEBUG_IO:
            parts += _debug_io(number, payload, to_target)
        elif type == PacketType.FILE_IO:
            parts += _file_io(number, payload, to_target)
    parts.append("(%d bytes)" % len(payload))
    return " ".join(parts)


def droppable(type, header):
    """True if a target may give up on this packet when nobody ACKs it
    (kdcom.dll drops DbgPrint, LoadSymbols and CreateFile only)."""
    return bool(capi.kdcom_kd_droppable(int(type), header))


__all__ = ["HEADER_SIZES", "check_header_sizes", "split_payload", "api_number", "api_name",
           "describe", "droppable", "status_name", "major_type_name", "PRINT_STRING", "STATE_LOAD_SYMBOLS",
           "STATE_EXCEPTION", "GET_VERSION"]
