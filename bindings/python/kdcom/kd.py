# SPDX-License-Identifier: BSD-2-Clause
"""KD message helpers for decoding: where a payload splits into message
header and message data, and names for the KD API numbers a KDCOM
payload starts with.

Only what tools need to print a packet is here; the structures behind
the numbers belong to the KD protocol above KDCOM.  Header sizes follow
PROTOCOL-FACTS §3.6: the receiver splits the payload at the size of the
message header it expects for the packet type.
"""
import struct

from .enums import PacketType

# Size of the message header per packet type (DBGKD_MANIPULATE_STATE64 56,
# DBGKD_DEBUG_IO 16, DBGKD_WAIT_STATE_CHANGE64 0xF0, DBGKD_FILE_IO 64).
# Types not listed have no known split: the whole payload is the header.
HEADER_SIZES = {
    PacketType.STATE_MANIPULATE: 56,
    PacketType.DEBUG_IO: 16,
    PacketType.STATE_CHANGE64: 0xF0,
    PacketType.FILE_IO: 64,
}


def split_payload(type, payload, header_sizes=None):
    """Splits a payload into (message header, message data) at the header
    size for ``type`` (HEADER_SIZES, or the mapping given).  A payload
    shorter than the header size is all header."""
    sizes = HEADER_SIZES if header_sizes is None else header_sizes
    size = sizes.get(type)
    if size is None:
        return bytes(payload), b""
    return bytes(payload[:size]), bytes(payload[size:])


# STATE_CHANGE: NewState (first 32-bit word of the header).
STATE_CHANGE_NAMES = {
    0x3030: "Exception",
    0x3031: "LoadSymbols",
    0x3032: "CommandString",
}

# STATE_MANIPULATE: ApiNumber (first word).
MANIPULATE_NAMES = {
    0x3130: "ReadVirtualMemory",
    0x3131: "WriteVirtualMemory",
    0x3132: "GetContext",
    0x3133: "SetContext",
    0x3134: "WriteBreakPoint",
    0x3135: "RestoreBreakPoint",
    0x3136: "Continue",
    0x3137: "ReadControlSpace",
    0x3138: "WriteControlSpace",
    0x3139: "ReadIoSpace",
    0x313A: "WriteIoSpace",
    0x313B: "Reboot",
    0x313C: "Continue2",
    0x313D: "ReadPhysicalMemory",
    0x313E: "WritePhysicalMemory",
    0x313F: "QuerySpecialCalls",
    0x3140: "SetSpecialCall",
    0x3141: "ClearSpecialCalls",
    0x3142: "SetInternalBreakPoint",
    0x3143: "GetInternalBreakPoint",
    0x3144: "ReadIoSpaceExtended",
    0x3145: "WriteIoSpaceExtended",
    0x3146: "GetVersion",
    0x3147: "WriteBreakPointEx",
    0x3148: "RestoreBreakPointEx",
    0x3149: "CauseBugCheck",
    0x3150: "SwitchProcessor",
    0x3151: "PageIn",
    0x3152: "ReadMachineSpecificRegister",
    0x3153: "WriteMachineSpecificRegister",
    0x3156: "SearchMemory",
    0x3157: "GetBusData",
    0x3158: "SetBusData",
    0x3159: "CheckLowMemory",
    0x315A: "ClearAllInternalBreakpoints",
    0x315B: "FillMemory",
    0x315C: "QueryMemory",
    0x315D: "SwitchPartition",
}

# DEBUG_IO: ApiNumber.
DEBUG_IO_NAMES = {0x3230: "PrintString", 0x3231: "GetString"}

# FILE_IO: ApiNumber.
FILE_IO_NAMES = {0x3430: "CreateFile", 0x3431: "ReadFile",
                 0x3432: "WriteFile", 0x3433: "CloseFile"}

_NAMES = {
    PacketType.STATE_CHANGE32: STATE_CHANGE_NAMES,
    PacketType.STATE_CHANGE64: STATE_CHANGE_NAMES,
    PacketType.STATE_MANIPULATE: MANIPULATE_NAMES,
    PacketType.DEBUG_IO: DEBUG_IO_NAMES,
    PacketType.FILE_IO: FILE_IO_NAMES,
}


def api_number(payload):
    """The first little-endian 32-bit word of a payload (NewState or
    ApiNumber), or None when the payload is shorter than 4 bytes."""
    if len(payload) < 4:
        return None
    return struct.unpack_from("<I", payload, 0)[0]


def api_name(type, number):
    """Name of an API number / NewState for a packet type, or a hex
    string when unknown."""
    if number is None:
        return "(short)"
    name = _NAMES.get(type, {}).get(number)
    return name if name else "0x%04x" % number


def describe(type, payload):
    """A one-line human description of a data packet's payload:
    state change (NewState, processor, program counter), manipulate
    request/answer (API number, status), DbgPrint text, file I/O."""
    number = api_number(payload)
    try:
        type = PacketType(type)
    except ValueError:
        pass
    tname = getattr(type, "name", str(type))
    text = "%s %s" % (tname, api_name(type, number))
    if type == PacketType.STATE_CHANGE64 and len(payload) >= 32:
        level, proc, nprocs = struct.unpack_from("<HHI", payload, 4)
        thread, pc = struct.unpack_from("<QQ", payload, 16)
        text += " cpu=%d/%d thread=0x%x pc=0x%x" % (proc, nprocs, thread, pc)
        if number == 0x3031 and len(payload) > 0xF0:
            path = payload[0xF0:].split(b"\0", 1)[0]
            text += " image=%s" % path.decode("latin-1")
    elif type == PacketType.STATE_MANIPULATE and len(payload) >= 12:
        status = struct.unpack_from("<I", payload, 8)[0]
        text += " status=0x%08x" % status
    elif type == PacketType.DEBUG_IO and len(payload) >= 16:
        if number == 0x3230:
            length = struct.unpack_from("<I", payload, 8)[0]
            msg = payload[16:16 + length]
            text += " %r" % msg.decode("latin-1")
    text += " (%d bytes)" % len(payload)
    return text


__all__ = ["HEADER_SIZES", "split_payload", "api_number", "api_name",
           "describe", "STATE_CHANGE_NAMES", "MANIPULATE_NAMES",
           "DEBUG_IO_NAMES", "FILE_IO_NAMES"]
