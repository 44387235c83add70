# SPDX-License-Identifier: BSD-2-Clause
"""The Pythonic link: one end of a KDCOM conversation (struct kdcom_link)
with bytes in, bytes out, events as objects and time as an argument.

How nothing gets lost between C and Python
------------------------------------------
kdcom_feed() stops early while an event waits to be taken (a received
packet's payload lives in the link until then) or while its control queue
is full.  Link.feed() therefore loops: after every partial feed it moves
*all* pending events into a Python-side queue, copying payloads into
bytes at once, and when the engine paused for lack of room in its control
queue it drains the engine's output into a Python-side buffer.  feed()
always takes every byte it is given; events wait in the queue until
events() hands them out, and buffered output goes out first on the next
drain().  Both queues are unbounded on the Python side, bounded in
practice by what the peer sends.  One engine rule remains: a TARGET that
receives a RESET discards the rest of that feed's input (stale bytes
buffered before the RESET was answered; counted in stats.stale_bytes),
PROTOCOL-FACTS §7.
"""
import collections
import dataclasses
import time

from . import capi
from .codec import check_data_type, check_payload, enum_or_int
from .enums import ConfigFlag, Error, EventKind, PacketType, Role
from .errors import (InvalidArgument, KdcomError, check_bytes, check_int,
                     check_u32, check_u64)
from .kd import check_header_sizes, split_payload

U32 = 2 ** 32
U64 = 2 ** 64
_DRAIN_CHUNK = 65536


def monotonic_ms():
    """Milliseconds from the monotonic clock: a ``now`` for real-time use.
    Tests should pass a virtual clock instead."""
    return int(time.monotonic() * 1000)


@dataclasses.dataclass(frozen=True)
class Event:
    """One event of a link (struct kdcom_event), with owned copies of the
    bytes.

    kind: EventKind.  type and id: for PACKET the received packet's, for
    ACKED and RETRIES_EXHAUSTED our own packet's (type is a PacketType
    when known).  retries: RETRIES_EXHAUSTED's timeout count.  payload: the
    whole payload of a PACKET (b"" otherwise); header and data: the same
    bytes split at the KD message-header size for the type (kdcom.kd,
    PROTOCOL-FACTS §3.6).
    """
    kind: EventKind
    type: int = 0
    id: int = 0
    retries: int = 0
    payload: bytes = b""
    header: bytes = b""
    data: bytes = b""

    def __repr__(self):
        if self.kind == EventKind.PACKET:
            return "Event(PACKET %s id=0x%08x %d+%d bytes)" % (
                getattr(self.type, "name", self.type), self.id,
                len(self.header), len(self.data))
        if self.kind in (EventKind.ACKED, EventKind.RETRIES_EXHAUSTED):
            return "Event(%s %s id=0x%08x retries=%d)" % (
                self.kind.name, getattr(self.type, "name", self.type),
                self.id, self.retries)
        return "Event(%s)" % getattr(self.kind, "name", self.kind)


def _stats_fields():
    # The counters of struct kdcom_stats from the library's own table
    # (kdcom_stats_name(), the order of KDCOM_STATS_FIELDS): no name is
    # copied by hand.
    names, i = [], 0
    while True:
        name = capi.kdcom_stats_name(i)
        if name is None:
            return names
        names.append(name)
        i += 1


STATS_FIELDS = tuple(_stats_fields())

def _stats_as_dict(self):
    """The counters as a plain {name: int} dict."""
    return dataclasses.asdict(self)


Stats = dataclasses.make_dataclass(
    "Stats", [(name, int, dataclasses.field(default=0))
              for name in STATS_FIELDS],
    frozen=True, namespace={"as_dict": _stats_as_dict})
Stats.__module__ = __name__
Stats.__doc__ = """A snapshot of a link's counters (struct kdcom_stats):
one int per counter, named as in include/kdcom.h (bytes_in, acks_sent,
retransmits, bad_checksum, stale_bytes, ...).  as_dict() gives a dict."""


def _bad_config(role, values):
    """The name of the configuration value the library refuses: each one
    set alone on the role's defaults, the first refused is named (the
    library says only CONFIG, and its limits are not repeated here)."""
    for name, value in values.items():
        cfg = capi.kdcom_config()
        capi.kdcom_config_init(cfg, role)
        setattr(cfg, name, value)
        try:
            capi.kdcom_link_init(capi.kdcom_link(), cfg)
        except KdcomError:
            return name
    return None


class Link:
    """One end of a KDCOM link, TARGET or DEBUGGER (struct kdcom_link).

    Link(role=Role.DEBUGGER, *, passive=False, breakin_on_sync=False,
         no_implicit_ack=False, flags=0, ack_timeout_ms=None,
         retry_limit=None, reset_interval_ms=None, byte_timeout_ms=None,
         header_sizes=None, now=0)

    role is a Role, its int value or its name ("debugger").  The boolean
    options set ConfigFlag bits (flags may give them directly); None keeps
    the library default for a timing value (1000 ms, 20 retries).
    header_sizes overrides kdcom.kd.HEADER_SIZES for splitting received
    payloads ({data packet type: size 0..4000}, checked when given or
    assigned).  ``now`` is the starting time in ms.

    Every method taking ``now`` accepts None for "the latest time this
    link has seen"; time never goes backwards (a smaller value means no
    time passed).  A wrong type raises TypeError, an impossible value
    InvalidArgument (a ValueError and a KdcomError with the library's
    code: ROLE, CONFIG, BAD_TYPE, TOO_BIG, INVAL), both naming the
    argument; a closed link raises KdcomError(Error.CLOSED).

        dbg = kdcom.Link(kdcom.Role.DEBUGGER)
        sock.sendall(dbg.drain(now))           # RESET
        dbg.feed(sock.recv(4096), now)
        for ev in dbg.events():
            ...
    """

    def __init__(self, role=Role.DEBUGGER, *, passive=False,
                 breakin_on_sync=False, no_implicit_ack=False, flags=0,
                 ack_timeout_ms=None, retry_limit=None,
                 reset_interval_ms=None, byte_timeout_ms=None,
                 header_sizes=None, now=0):
        self._closed = True  # until initialised
        roles = " or ".join("%s (%d)" % (r.name, r) for r in Role)
        if isinstance(role, str):
            try:
                role = Role[role.upper()]
            except KeyError:
                raise InvalidArgument(
                    Error.ROLE, "Link() argument 'role' must be %s, got %r"
                    % (roles, role), "role") from None
        role = check_u32(role, "role", Error.ROLE, "Link")
        cfg = capi.kdcom_config()
        try:
            capi.kdcom_config_init(cfg, role)
        except KdcomError as e:
            if e.code != Error.ROLE:
                raise
            raise InvalidArgument(
                Error.ROLE, "Link() argument 'role' must be %s, got %d" %
                (roles, role), "role") from None
        flags = check_u32(flags, "flags", Error.CONFIG, "Link")
        if passive:
            flags |= ConfigFlag.PASSIVE
        if breakin_on_sync:
            flags |= ConfigFlag.BREAKIN_ON_SYNC
        if no_implicit_ack:
            flags |= ConfigFlag.NO_IMPLICIT_ACK
        values = {"flags": int(flags)}
        timing = {"ack_timeout_ms": ack_timeout_ms,
                  "retry_limit": retry_limit,
                  "reset_interval_ms": reset_interval_ms,
                  "byte_timeout_ms": byte_timeout_ms}
        for name, value in timing.items():
            if value is not None:  # None keeps the library default
                values[name] = check_u32(value, name, Error.CONFIG, "Link")
        for name, value in values.items():
            setattr(cfg, name, value)
        self._now = self._check_now(now, "Link")
        self.header_sizes = header_sizes
        self._link = capi.kdcom_link()
        try:
            capi.kdcom_link_init(self._link, cfg)
        except KdcomError as e:
            name = _bad_config(role, values) if e.code == Error.CONFIG \
                else None
            if name is None:
                raise
            if name == "flags":
                text = "0x%x has bits no flag names (ConfigFlag: %s)" % (
                    values[name],
                    ", ".join(f.name for f in ConfigFlag))
            else:
                text = "%d is out of the range libkdcom accepts (struct " \
                    "kdcom_config in kdcom.h)" % values[name]
            raise InvalidArgument(Error.CONFIG, "Link() argument '%s': %s" %
                                  (name, text), name) from None
        self.role = Role(role)
        self.config = {"flags": ConfigFlag(cfg.flags),
                       "ack_timeout_ms": cfg.ack_timeout_ms,
                       "retry_limit": cfg.retry_limit,
                       "reset_interval_ms": cfg.reset_interval_ms,
                       "byte_timeout_ms": cfg.byte_timeout_ms}
        self._events = collections.deque()
        self._out = bytearray()
        self._closed = False

    @property
    def header_sizes(self):
        """{PacketType: message-header size} used to split received
        payloads into Event.header and Event.data, or None for
        kdcom.kd.HEADER_SIZES.  Assigning checks the mapping
        (kdcom.kd.check_header_sizes()): data packet types only, sizes
        0..4000."""
        return self._header_sizes

    @header_sizes.setter
    def header_sizes(self, value):
        self._header_sizes = None if value is None else \
            check_header_sizes(value)

    # -- helpers ----------------------------------------------------------

    @staticmethod
    def _check_now(now, func):
        """A time in ms: an int in 0..2**64-1 (milliseconds)."""
        return check_u64(now, "now", func=func)

    def _time(self, now, func):
        if self._closed:
            raise KdcomError(Error.CLOSED)
        if now is not None:
            self._now = max(self._now, self._check_now(now, func))
        return self._now

    def _check_open(self):
        if self._closed:
            raise KdcomError(Error.CLOSED)

    def _pull(self):
        """Moves every event the engine holds into the Python queue,
        copying payloads.  Returns how many."""
        count = 0
        while True:
            kind, ev, payload = capi.kdcom_next_event(self._link)
            if kind == EventKind.NONE:
                return count
            ptype = enum_or_int(PacketType, ev.type)
            header, data = b"", b""
            if kind == EventKind.PACKET:
                header, data = split_payload(ptype, payload,
                                             self._header_sizes)
            self._events.append(Event(
                kind=enum_or_int(EventKind, kind), type=ptype, id=ev.id,
                retries=ev.retries, payload=payload, header=header,
                data=data))
            count += 1

    def _drain_engine(self, now, cap):
        out = []
        while cap > 0:
            chunk = capi.kdcom_drain(self._link, now,
                                     min(cap, _DRAIN_CHUNK))
            if not chunk:
                break
            out.append(chunk)
            cap -= len(chunk)
        return b"".join(out)

    # -- bytes in, bytes out --------------------------------------------

    def feed(self, data, now=None):
        """Gives received bytes (any bytes-like object) to the link and
        returns how many were taken: always all of them (see the module
        docstring).  Events become available through events()."""
        now = self._time(now, "feed")
        check_bytes(data, "data", "feed", none=False)
        try:
            view = memoryview(data).cast("B")
        except TypeError as e:
            raise TypeError("feed() argument 'data': %s" % e) from None
        total, off = len(view), 0
        while off < total:
            n = capi.kdcom_feed(self._link, now, view[off:])
            off += n
            if self._pull() == 0 and n == 0:
                # Paused on a full control queue: make room.
                out = self._drain_engine(now, _DRAIN_CHUNK)
                if not out:
                    raise RuntimeError("libkdcom feed made no progress")
                self._out += out
        return total

    def drain(self, now=None, cap=None):
        """Returns the bytes to send now (b"" if none), at most cap bytes
        when cap is given.  Runs expired timers first, like tick().
        Frames are never interleaved, whatever cap is."""
        now = self._time(now, "drain")
        cap = U32 if cap is None else \
            check_int(cap, "cap", 0, U64 - 1, func="drain")
        head = bytes(self._out[:cap])
        del self._out[:cap]
        return head + self._drain_engine(now, cap - len(head))

    def send(self, type, header=b"", data=b"", now=None):
        """Queues a data packet: payload = header + data, as KdSendPacket
        gets them.  One packet is outstanding at a time: raises
        KdcomError(BUSY) until its ACKED event (or cancel_send()).  A
        non-data type raises InvalidArgument with BAD_TYPE, a payload
        beyond 4000 bytes with TOO_BIG (a ValueError and a KdcomError,
        naming the argument); header and data are bytes-like or None.  A
        DEBUGGER holds the packet until the RESET handshake is done."""
        now = self._time(now, "send")
        type = check_data_type(type, "send")
        check_payload(header, data, "send")
        capi.kdcom_send(self._link, now, type, header, data)

    def tick(self, now=None):
        """Runs expired timers (retransmission, RESET repeat, byte
        timeout).  Call it at next_deadline or whenever convenient."""
        capi.kdcom_tick(self._link, self._time(now, "tick"))

    @property
    def next_deadline(self):
        """When tick() has work to do (ms), or None when no timer runs."""
        self._check_open()
        value = capi.kdcom_next_deadline(self._link)
        return None if value == U64 - 1 else value

    # -- events -----------------------------------------------------------

    def events(self):
        """Iterates over pending events, oldest first, removing each one
        as it is yielded; ends when none is left."""
        while True:
            self._check_open()
            self._pull()
            if not self._events:
                return
            yield self._events.popleft()

    def next_event(self):
        """The oldest pending Event, or None."""
        return next(self.events(), None)

    # -- state and control -----------------------------------------------

    @property
    def stats(self):
        """A Stats snapshot of the link's counters."""
        self._check_open()
        s = capi.kdcom_get_stats(self._link)
        return Stats(**{name: capi.kdcom_stats_value(s, i)
                        for i, name in enumerate(STATS_FIELDS)})

    @property
    def can_send(self):
        """True if send() would accept a packet now."""
        self._check_open()
        return bool(capi.kdcom_can_send(self._link))

    @property
    def want_write(self):
        """True if drain() would return bytes now."""
        self._check_open()
        return bool(self._out) or bool(capi.kdcom_want_write(self._link))

    @property
    def synced(self):
        """DEBUGGER: the RESET handshake completed.  TARGET: the debugger
        acknowledged a packet since the last give-up (SYNC bit clear)."""
        self._check_open()
        return bool(capi.kdcom_is_synced(self._link))

    @property
    def tx_id(self):
        """The id the next (or outstanding) data packet carries."""
        self._check_open()
        return capi.kdcom_tx_id(self._link)

    @property
    def closed(self):
        """True after close()."""
        return self._closed

    def cancel_send(self):
        """Gives up on the outstanding packet (KdcomError(NO_PACKET) if
        none).  A TARGET re-arms SYNC and resets its ids."""
        self._check_open()
        capi.kdcom_cancel_send(self._link)

    def breakin(self):
        """DEBUGGER: queues a break-in byte ('b').  KdcomError(WRONG_ROLE)
        on a TARGET."""
        self._check_open()
        capi.kdcom_send_breakin(self._link)

    def resync(self, now=None):
        """DEBUGGER: starts a new RESET handshake (Ctrl+R in KD)."""
        capi.kdcom_resync(self._link, self._time(now, "resync"))

    def take_breakin(self):
        """TARGET: True (and cleared) if a break-in request is pending."""
        self._check_open()
        return bool(capi.kdcom_take_breakin(self._link))

    def expect_header(self, length):
        """TARGET: the message-header length the next packet is received
        into (KdReceivePacket's MessageHeader.MaximumLength).  A new data
        packet shorter than that gets RESEND, not an ACK, and is not
        delivered (stats.bad_short; docs/protocol.md 5.8).  0, the
        initial value, accepts every length."""
        self._check_open()
        capi.kdcom_expect_header(
            self._link, check_u32(length, "length", func="expect_header"))

    def close(self):
        """Closes the link; every later call raises KdcomError(CLOSED).
        Pending events and output are dropped.  Closing twice is fine."""
        if not self._closed:
            capi.kdcom_link_close(self._link)
            self._closed = True
            self._events.clear()
            self._out.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        if self._closed:
            return "<kdcom.Link closed>"
        return "<kdcom.Link %s %s tx_id=0x%08x>" % (
            self.role.name, "synced" if self.synced else "unsynced",
            self.tx_id)


__all__ = ["Link", "Event", "Stats", "STATS_FIELDS", "monotonic_ms"]
