#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""kd_client.py - a minimal KD debugger client on libkdcom's DEBUGGER
role: connect to a KDCOM endpoint, perform the RESET handshake and print
every packet received, decoded by type.

Endpoints: a TCP HOST:PORT (QEMU -serial tcp:127.0.0.1:5800,server=on,
wait=off; the project's shim) or a Unix socket path (QEMU -chardev
socket,path=kd.sock,server=on).

    kd_client.py 127.0.0.1:5800
    kd_client.py unix:/tmp/kd.sock --breakin --get-version --go

A request that wants an answer (GetVersion) is sent again when the target
acknowledged it but did not answer within --reply-timeout: a target ACKs a
packet whose type was damaged into another data type and then ignores it
(docs/protocol.md 5.3), and an answer can be lost on its way back.  It goes
out as a new packet (the link gives it the next id), --retries times; then
the link is resynchronised and the request follows the target's state
change, as kdcom-client does.

Exit status: 0 done (peer closed, or --count packets seen), 1 connection
or I/O error, 2 bad arguments, 3 timeout (no handshake within --timeout,
nothing received for --idle seconds, or still running after --max-time
seconds, 30 unless given).  It never waits forever: only --max-time 0
lets it run until the peer closes or Ctrl-C.
"""
import argparse
import math
import os
import select
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import import_kdcom, open_endpoint  # noqa: E402

kdcom = import_kdcom()
PT = kdcom.PacketType
EV = kdcom.EventKind
K = kdcom.capi      # KD message numbers and offsets (include/kdcom_kd.h)
DBG_CONTINUE = 0x00010002


def manipulate(api, body=b""):
    """A DBGKD_MANIPULATE_STATE64 request header (56 bytes): the API
    number, then `body` in the per-API union."""
    head = bytearray(K.KDCOM_KD_MS_SIZE)
    struct.pack_into("<I", head, K.KDCOM_KD_MS_API_NUMBER, api)
    head[K.KDCOM_KD_MS_UNION:K.KDCOM_KD_MS_UNION + len(body)] = body
    return bytes(head)


class Client:
    """The debugger loop: a Link, a socket and the user's requests."""

    def __init__(self, sock, args, out):
        self.sock = sock
        self.args = args
        self.out = out
        self.link = kdcom.Link(kdcom.Role.DEBUGGER,
                               breakin_on_sync=args.breakin)
        self.requests = []     # (header, wants a reply), not sent yet
        self.waiting = None    # the request sent whose reply is awaited
        self.acked_at = None   # when the link saw it acknowledged
        self.tries = 0         # re-sends of it since the last resync
        self.last_rx = 0
        self.seen = 0

    def say(self, text):
        print(text, file=self.out, flush=True)

    def on_event(self, ev):
        if ev.kind == EV.SYNCED:
            self.say("synced: RESET handshake complete")
        elif ev.kind == EV.RESET:
            self.say("target reset the link")
        elif ev.kind == EV.RESEND:
            self.say("target asked for a resend")
        elif ev.kind == EV.RETRIES_EXHAUSTED:
            self.say("no ACK for our %s after %d tries" %
                     (getattr(ev.type, "name", ev.type), ev.retries))
        elif ev.kind == EV.ACKED:
            if ev.type == PT.STATE_MANIPULATE and self.waiting is not None:
                self.acked_at = kdcom.monotonic_ms()
        elif ev.kind == EV.PACKET:
            self.seen += 1
            self.say("recv id=0x%08x %s" %
                     (ev.id, kdcom.kd.describe(ev.type, ev.payload,
                                               to_target=False)))
            if ev.type in (PT.STATE_CHANGE64, PT.STATE_CHANGE32):
                self.on_state_change()
            elif ev.type == PT.STATE_MANIPULATE and self.waiting and \
                    kdcom.kd.api_number(ev.payload) == \
                    kdcom.kd.api_number(self.waiting):
                self.waiting = None     # answered
                self.tries = 0

    def on_state_change(self):
        if self.waiting is not None:
            # The target restarted its wait loop (a RESET or RESEND made
            # it report again) and may never have seen the request.
            self.requests.insert(0, (self.waiting, True))
            self.waiting = None
            return
        if self.requests:
            return  # a state change resent after a reset: already queued
        if self.args.get_version:
            self.requests.append((manipulate(K.KDCOM_KD_GET_VERSION), True))
        if self.args.go:
            # ContinueStatus is the first word of the union; no reply.
            self.requests.append((manipulate(
                K.KDCOM_KD_CONTINUE2, struct.pack("<I", DBG_CONTINUE)),
                False))

    def check_reply(self, now):
        """A request acknowledged but unanswered for --reply-timeout (and
        nothing else heard meanwhile): send it again, --retries times,
        then resynchronise."""
        a = self.args
        if self.waiting is None or self.acked_at is None or \
                not self.link.can_send or not self.link.synced:
            return
        if now - max(self.acked_at, self.last_rx) < a.reply_timeout * 1000:
            return
        name = kdcom.kd.api_name(kdcom.kd.api_number(self.waiting))
        self.acked_at = None
        if self.tries < a.retries:
            self.tries += 1
            self.say("no reply to %s in %g s: sending it again (%d of %d)" %
                     (name, a.reply_timeout, self.tries, a.retries))
            self.link.send(PT.STATE_MANIPULATE, self.waiting, now=now)
        else:
            self.tries = 0
            self.say("no reply to %s after %d re-sends: resynchronising" %
                     (name, a.retries))
            self.link.resync(now)

    def run(self):
        a = self.args
        start = kdcom.monotonic_ms()
        last_rx = start
        pending = b""
        while True:
            now = kdcom.monotonic_ms()
            for ev in self.link.events():
                self.on_event(ev)
            if a.count and self.seen >= a.count and not pending and \
                    not self.requests and self.waiting is None and \
                    self.link.can_send:
                return 0
            self.check_reply(now)
            if self.requests and self.waiting is None and \
                    self.link.can_send and self.link.synced:
                head, wants_reply = self.requests.pop(0)
                self.link.send(PT.STATE_MANIPULATE, head, now=now)
                if wants_reply:
                    self.waiting, self.acked_at = head, None
            pending += self.link.drain(now)
            if not self.link.synced and now - start > a.timeout * 1000:
                self.say("error: no RESET handshake within %g s" % a.timeout)
                return 3
            if a.idle and now - last_rx > a.idle * 1000:
                self.say("error: nothing received for %g s" % a.idle)
                return 3
            if a.max_time and now - start > a.max_time * 1000:
                self.say("error: still running after %g s (--max-time; 0 "
                         "for no limit)" % a.max_time)
                return 3
            wait = 0.05 if self.waiting is not None else 0.1
            if a.max_time:
                wait = max(0.0, min(wait, start / 1000.0 + a.max_time -
                                    now / 1000.0))
            deadline = self.link.next_deadline
            if deadline is not None:
                wait = max(0.0, min(wait, (deadline - now) / 1000.0))
            rl, wl, _ = select.select([self.sock],
                                      [self.sock] if pending else [], [],
                                      wait)
            try:
                if wl:
                    pending = pending[self.sock.send(pending):]
                if rl:
                    data = self.sock.recv(65536)
                    if not data:
                        self.say("peer closed the connection")
                        return 0
                    last_rx = self.last_rx = kdcom.monotonic_ms()
                    self.link.feed(data, last_rx)
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as e:
                self.say("error: %s" % e)
                return 1
            self.link.tick(kdcom.monotonic_ms())


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Minimal KD debugger client over KDCOM (libkdcom "
                    "DEBUGGER role).",
        epilog="Exit status: 0 done, 1 connection error, 2 usage, "
               "3 timeout.")
    ap.add_argument("endpoint",
                    help="HOST:PORT, tcp:HOST:PORT, unix:PATH or a socket "
                         "path")
    ap.add_argument("--breakin", action="store_true",
                    help="send a break-in byte before the RESET handshake")
    ap.add_argument("--get-version", action="store_true",
                    help="ask for the version at each stop (GetVersion)")
    ap.add_argument("--go", action="store_true",
                    help="let the target continue after each stop "
                         "(Continue2)")
    ap.add_argument("--count", type=int, default=0, metavar="N",
                    help="exit after N packets (default: run until the "
                         "peer closes)")
    ap.add_argument("--timeout", type=float, default=10.0, metavar="S",
                    help="seconds allowed for connecting and the handshake "
                         "(default 10)")
    ap.add_argument("--idle", type=float, default=0.0, metavar="S",
                    help="exit with status 3 after S seconds without data "
                         "(default: no limit)")
    ap.add_argument("--max-time", type=float, default=30.0, metavar="S",
                    help="exit with status 3 when still running after S "
                         "seconds (default 30; 0: no limit, run until the "
                         "peer closes or Ctrl-C)")
    ap.add_argument("--reply-timeout", type=float, default=1.0, metavar="S",
                    help="send a request again when it was acknowledged "
                         "but not answered for S seconds (default 1)")
    ap.add_argument("--retries", type=int, default=3, metavar="N",
                    help="re-sends of an unanswered request before the "
                         "link is resynchronised (default 3)")
    args = ap.parse_args(argv)
    times = (args.timeout, args.idle, args.reply_timeout, args.max_time)
    if not all(math.isfinite(t) for t in times):
        ap.error("times must be finite numbers of seconds")
    if args.timeout <= 0 or args.idle < 0 or args.count < 0 or \
            args.reply_timeout <= 0 or args.retries < 0 or \
            args.max_time < 0:
        ap.error("--timeout and --reply-timeout must be > 0, --idle, "
                 "--max-time, --count and --retries >= 0")
    sock = open_endpoint(ap, "kd_client", args.endpoint, args.timeout)
    if sock is None:
        return 1
    print("connected to %s" % args.endpoint, flush=True)
    try:
        return Client(sock, args, sys.stdout).run()
    except KeyboardInterrupt:
        return 130
    finally:
        sock.close()


if __name__ == "__main__":
    sys.exit(main())
