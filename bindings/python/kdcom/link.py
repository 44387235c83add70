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
from .codec import enum_or_int
from .enums import ConfigFlag, Error, EventKind, PacketType, Role
from .errors import KdcomError
from .kd import split_payload

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
    # The counters of struct kdcom_stats, in header order, as SWIG exposes
    # them: no name is copied by hand.
    return [name for name, value in vars(capi.kdcom_stats).items()
            if isinstance(value, property) and name not in ("this",
                                                            "thisown")]


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


def _u32(value, what, err):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" %
                        (what, type(value).__name__))
    if not 0 <= value < U32:
        raise KdcomError(err)
    return value


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
    payloads.  ``now`` is the starting time in ms.

    Every method taking ``now`` accepts None for "the latest time this
    link has seen"; time never goes backwards (a smaller value means no
    time passed).  Bad arguments raise TypeError or KdcomError with the
    library's code; a closed link raises KdcomError(Error.CLOSED).

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
        if isinstance(role, str):
            try:
                role = Role[role.upper()]
            except KeyError:
                raise KdcomError(Error.ROLE) from None
        role = _u32(role, "role", Error.ROLE)
        cfg = capi.kdcom_config()
        capi.kdcom_config_init(cfg, role)  # KdcomError(ROLE)
        flags = _u32(flags, "flags", Error.CONFIG)
        if passive:
            flags |= ConfigFlag.PASSIVE
        if breakin_on_sync:
            flags |= ConfigFlag.BREAKIN_ON_SYNC
        if no_implicit_ack:
            flags |= ConfigFlag.NO_IMPLICIT_ACK
        cfg.flags = int(flags)
        timing = {"ack_timeout_ms": ack_timeout_ms,
                  "retry_limit": retry_limit,
                  "reset_interval_ms": reset_interval_ms,
                  "byte_timeout_ms": byte_timeout_ms}
        for name, value in timing.items():
            if value is not None:  # None keeps the library default
                setattr(cfg, name, _u32(value, name, Error.CONFIG))
        self._now = self._check_now(now)
        self._link = capi.kdcom_link()
        capi.kdcom_link_init(self._link, cfg)  # KdcomError(CONFIG)
        self.role = Role(role)
        self.config = {"flags": ConfigFlag(cfg.flags),
                       "ack_timeout_ms": cfg.ack_timeout_ms,
                       "retry_limit": cfg.retry_limit,
                       "reset_interval_ms": cfg.reset_interval_ms,
                       "byte_timeout_ms": cfg.byte_timeout_ms}
        self.header_sizes = header_sizes
        self._events = collections.deque()
        self._out = bytearray()
        self._closed = False

    # -- helpers ----------------------------------------------------------

    @staticmethod
    def _check_now(now):
        if isinstance(now, bool) or not isinstance(now, int):
            raise TypeError("now must be an int (milliseconds), not %s" %
                            type(now).__name__)
        if not 0 <= now < U64:
            raise ValueError("now must be in 0..2**64-1, got %d" % now)
        return now

    def _time(self, now):
        if self._closed:
            raise KdcomError(Error.CLOSED)
        if now is not None:
            self._now = max(self._now, self._check_now(now))
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
                                             self.header_sizes)
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
        now = self._time(now)
        view = memoryview(data).cast("B")
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
        now = self._time(now)
        if cap is None:
            cap = U32
        elif isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
            raise ValueError("cap must be a non-negative int")
        head = bytes(self._out[:cap])
        del self._out[:cap]
        return head + self._drain_engine(now, cap - len(head))

    def send(self, type, header=b"", data=b"", now=None):
        """Queues a data packet: payload = header + data, as KdSendPacket
        gets them.  One packet is outstanding at a time: raises
        KdcomError(BUSY) until its ACKED event (or cancel_send());
        KdcomError(BAD_TYPE) for a non-data type, (TOO_BIG) beyond 4000
        bytes.  A DEBUGGER holds it until the RESET handshake is done."""
        now = self._time(now)
        type = _u32(type, "type", Error.BAD_TYPE)
        capi.kdcom_send(self._link, now, type, header, data)

    def tick(self, now=None):
        """Runs expired timers (retransmission, RESET repeat, byte
        timeout).  Call it at next_deadline or whenever convenient."""
        capi.kdcom_tick(self._link, self._time(now))

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
        return Stats(**{name: getattr(s, name) for name in STATS_FIELDS})

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
        capi.kdcom_resync(self._link, self._time(now))

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
        capi.kdcom_expect_header(self._link,
                                 _u32(length, "length", Error.INVAL))

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
