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

Exit status: 0 done (peer closed, or --count packets seen), 1 connection
or I/O error, 2 bad arguments, 3 timeout (no handshake within --timeout,
or nothing received for --idle seconds).  It never waits forever.
"""
import argparse
import os
import select
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import connect, import_kdcom, parse_endpoint  # noqa: E402

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
        self.requests = []
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
        elif ev.kind == EV.PACKET:
            self.seen += 1
            self.say("recv id=0x%08x %s" %
                     (ev.id, kdcom.kd.describe(ev.type, ev.payload,
                                               to_target=False)))
            if ev.type in (PT.STATE_CHANGE64, PT.STATE_CHANGE32):
                self.on_state_change()

    def on_state_change(self):
        if self.requests:
            return  # a state change resent after a reset: already queued
        if self.args.get_version:
            self.requests.append(manipulate(K.KDCOM_KD_GET_VERSION))
        if self.args.go:
            # ContinueStatus is the first word of the union.
            self.requests.append(manipulate(K.KDCOM_KD_CONTINUE2,
                                            struct.pack("<I", DBG_CONTINUE)))

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
                    not self.requests and self.link.can_send:
                return 0
            if self.requests and self.link.can_send and self.link.synced:
                self.link.send(PT.STATE_MANIPULATE, self.requests.pop(0),
                               now=now)
            pending += self.link.drain(now)
            if not self.link.synced and now - start > a.timeout * 1000:
                self.say("error: no RESET handshake within %g s" % a.timeout)
                return 3
            if a.idle and now - last_rx > a.idle * 1000:
                self.say("error: nothing received for %g s" % a.idle)
                return 3
            wait = 0.1
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
                    last_rx = kdcom.monotonic_ms()
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
    args = ap.parse_args(argv)
    if args.timeout <= 0 or args.idle < 0 or args.count < 0:
        ap.error("--timeout must be > 0, --idle and --count >= 0")
    try:
        parse_endpoint(args.endpoint)
    except ValueError as e:
        ap.error(str(e))
    try:
        sock = connect(args.endpoint, args.timeout)
    except OSError as e:
        print("kd_client: cannot connect to %s: %s" %
              (args.endpoint, e.strerror or e), file=sys.stderr)
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
