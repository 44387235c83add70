# SPDX-License-Identifier: BSD-2-Clause
"""The KDCOM codec without a link: checksum, frame encoders and a
streaming frame parser, for decoders, dissectors and protocol tests that
want to build or read exact bytes (PROTOCOL-FACTS §1).
"""
import dataclasses

from . import capi
from .enums import Error, FrameKind, PacketType
from .errors import (InvalidArgument, KdcomError, check_bytes, check_u32)

HEADER_SIZE = capi.KDCOM_HEADER_SIZE
MAX_PAYLOAD = capi.KDCOM_MAX_PAYLOAD
MAX_FRAME = capi.KDCOM_MAX_FRAME
INITIAL_ID = capi.KDCOM_INITIAL_ID
SYNC_BIT = capi.KDCOM_SYNC_BIT
TRAILER_BYTE = capi.KDCOM_TRAILER_BYTE
BREAKIN_BYTE = capi.KDCOM_BREAKIN_BYTE
LEADER_DATA = capi.KDCOM_LEADER_DATA
LEADER_CONTROL = capi.KDCOM_LEADER_CONTROL


def enum_or_int(cls, value):
    """cls(value) when value is a member of the IntEnum cls, else int."""
    try:
        return cls(value)
    except ValueError:
        return int(value)


def checksum(data, initial=0):
    """The KDCOM checksum of a bytes-like object: the sum of its bytes
    modulo 2**32 (PROTOCOL-FACTS §1.4).  ``initial`` continues an earlier
    sum, so ``checksum(b, checksum(a)) == checksum(a + b)``.  TypeError
    for data that is no bytes-like object (None counts as no bytes),
    ValueError (InvalidArgument) for ``initial`` outside 0..2**32-1."""
    check_bytes(data, "data", "checksum")
    initial = check_u32(initial, "initial", func="checksum")
    if initial:
        return capi.kdcom_checksum_update(initial, data)
    return capi.kdcom_checksum(data)


def check_data_type(type, func, argument="type"):
    """A packet type a data packet can carry, as an int; else
    InvalidArgument (a ValueError and KdcomError(BAD_TYPE)) naming it."""
    value = check_u32(type, argument, Error.BAD_TYPE, func)
    if not capi.kdcom_is_data_type(value):
        raise InvalidArgument(
            Error.BAD_TYPE, "%s() argument '%s': %s is not a data packet "
            "type" % (func, argument, enum_or_int(PacketType, value)),
            argument)
    return value


def check_payload(header, data, func):
    """Lengths of a data packet's header and data (bytes-like or None);
    TypeError naming the wrong one, InvalidArgument (TOO_BIG) when they
    add up to more than MAX_PAYLOAD."""
    hl = check_bytes(header, "header", func)
    dl = check_bytes(data, "data", func)
    if hl + dl > MAX_PAYLOAD:
        raise InvalidArgument(
            Error.TOO_BIG, "%s() arguments 'header' and 'data': %d + %d = "
            "%d bytes, more than a packet carries (%d)" %
            (func, hl, dl, hl + dl, MAX_PAYLOAD), "data")
    return hl, dl


def encode_data(type, id, header=b"", data=b""):
    """Returns a complete data packet as bytes: the 16-byte header, the
    message header and data bytes (the payload, whose checksum the header
    carries) and the 0xAA trailer.

    Raises TypeError for a non-bytes header/data (None is no bytes) or a
    non-int type/id, and InvalidArgument, which is a ValueError naming
    the argument and a KdcomError: BAD_TYPE for a type that is no data
    type, TOO_BIG when the payload exceeds 4000 bytes, INVAL for an id
    outside 0..2**32-1."""
    type = check_data_type(type, "encode_data")
    id = check_u32(id, "id", func="encode_data")
    hl, dl = check_payload(header, data, "encode_data")
    return capi.kdcom_encode_data(HEADER_SIZE + hl + dl + 1, type, id,
                                  header, data)


def encode_control(type, id=0):
    """Returns a 16-byte control packet (ACKNOWLEDGE, RESEND or RESET)
    carrying ``id``; ByteCount and Checksum are 0.  Raises
    InvalidArgument (a ValueError and KdcomError(BAD_TYPE)) for any other
    type, InvalidArgument (INVAL) for an id outside 0..2**32-1."""
    type = check_u32(type, "type", Error.BAD_TYPE, "encode_control")
    id = check_u32(id, "id", func="encode_control")
    try:
        return capi.kdcom_encode_control(HEADER_SIZE, type, id)
    except KdcomError as e:
        if e.code != Error.BAD_TYPE:
            raise
        raise InvalidArgument(
            Error.BAD_TYPE, "encode_control() argument 'type': %s is not "
            "a control packet type (ACKNOWLEDGE, RESEND, RESET)" %
            enum_or_int(PacketType, type), "type") from None


@dataclasses.dataclass(frozen=True)
class Frame:
    """One item the parser found.

    kind: FrameKind.  For every kind but BREAKIN the header fields hold
    what the wire carried: leader, type (a PacketType when known),
    byte_count, id, checksum; computed_checksum is the sum of the payload
    received and trailer the byte after it.  payload holds the bytes
    (a copy) for DATA, BAD_TRAILER and BAD_CHECKSUM, b"" otherwise.
    """
    kind: FrameKind
    leader: int = 0
    type: int = 0
    byte_count: int = 0
    id: int = 0
    checksum: int = 0
    computed_checksum: int = 0
    trailer: int = 0
    payload: bytes = b""

    @property
    def ok(self):
        """True for a frame a receiver accepts (DATA, CONTROL, BREAKIN)."""
        return self.kind in (FrameKind.DATA, FrameKind.CONTROL,
                             FrameKind.BREAKIN)

    def __repr__(self):
        if self.kind == FrameKind.BREAKIN:
            return "Frame(BREAKIN)"
        tname = getattr(self.type, "name", str(self.type))
        return ("Frame(%s %s id=0x%08x len=%d%s)" %
                (self.kind.name, tname, self.id, self.byte_count,
                 "" if self.kind != FrameKind.BAD_CHECKSUM else
                 " sum=0x%x!=0x%x" % (self.checksum, self.computed_checksum)))


def _frame(f, payload):
    return Frame(kind=enum_or_int(FrameKind, f.kind), leader=f.leader,
                 type=enum_or_int(PacketType, f.type),
                 byte_count=f.byte_count, id=f.id, checksum=f.checksum,
                 computed_checksum=f.computed_checksum, trailer=f.trailer,
                 payload=payload)


class Parser:
    """A streaming KDCOM frame parser (struct kdcom_parser).

    Feed it a byte stream in any split; it returns the same frames for
    every split.  Noise and partial leaders are skipped and counted;
    a ByteCount above 4000 yields a BAD_SIZE frame and never a buffer
    overrun.

        p = kdcom.Parser()
        for frame in p.feed(chunk):
            print(frame)
    """

    def __init__(self):
        self._p = capi.kdcom_parser()
        capi.kdcom_parser_init(self._p)

    def feed(self, data):
        """Parses a bytes-like chunk; returns the list of frames it
        completed (possibly empty: a frame may need more bytes)."""
        return list(self.iter_feed(data))

    def iter_feed(self, data):
        """Like feed(), as a generator.  The chunk is parsed only as far
        as the generator is consumed."""
        view = memoryview(data).cast("B") if data is not None else b""
        off = 0
        while off < len(view):
            n, f, payload = capi.kdcom_parse(self._p, view[off:])
            off += n
            if f.kind != FrameKind.NONE:
                yield _frame(f, payload)
            elif n == 0:  # cannot happen: NONE means input used up
                break

    def frames(self, chunks):
        """Yields every frame found in an iterable of bytes-like chunks
        (for example a socket reader or a capture file)."""
        for chunk in chunks:
            yield from self.iter_feed(chunk)

    def reset(self):
        """Abandons a half-parsed packet and hunts for a leader again."""
        capi.kdcom_parser_reset(self._p)

    @property
    def busy(self):
        """True while inside a packet (past or inside a leader run)."""
        return bool(capi.kdcom_parser_busy(self._p))

    @property
    def bytes_in(self):
        """Bytes consumed since the parser was created."""
        return self._p.bytes_in

    @property
    def noise_bytes(self):
        """Bytes that belonged to no packet."""
        return self._p.noise_bytes

    @property
    def partial_leaders(self):
        """Leader runs broken before reaching 4 bytes."""
        return self._p.partial_leaders


def parse(data):
    """Returns the frames in one complete bytes-like buffer."""
    return Parser().feed(data)


__all__ = ["checksum", "encode_data", "encode_control", "Frame", "Parser",
           "parse", "HEADER_SIZE", "MAX_PAYLOAD", "MAX_FRAME", "INITIAL_ID",
           "SYNC_BIT", "TRAILER_BYTE", "BREAKIN_BYTE", "LEADER_DATA",
           "LEADER_CONTROL", "KdcomError"]
