#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_peer.py - a protocol test: does a KDCOM target behave like
Windows kdcom.dll at connect time?  Copy it and add your own checks.

It speaks raw bytes through libkdcom's codec (no link engine on our side,
so every byte sent is chosen here and every byte received is checked):

  1. send RESET (id 0); the target must answer RESET (PROTOCOL-FACTS §2),
     and, unless --any-reset-id, with PacketId 0 (ReactOS; XP sends junk);
  2. the target must then re-send its state change with the reset id
     0x80800000 (§1.5, §3.4), with a valid checksum and trailer;
  3. ACK it, send a GetVersion request (id 0x80800000): the target must
     ACK exactly that id and answer with a STATE_MANIPULATE GetVersion
     carrying id 0x80800001.

    check_peer.py unix:/tmp/kd.sock
    check_peer.py 127.0.0.1:5800 --timeout 5

Prints PASS/FAIL per check.  Exit status: 0 all passed, 1 a check
failed, 2 bad arguments, 3 could not connect.
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
FK = kdcom.FrameKind


class Peer:
    """A socket plus a parser: send bytes, wait for frames, with deadlines."""

    def __init__(self, sock):
        self.sock = sock
        self.parser = kdcom.Parser()
        self.frames = []

    def send(self, data):
        self.sock.setblocking(True)
        self.sock.sendall(data)
        self.sock.setblocking(False)

    def expect(self, match, timeout):
        """Returns the first received frame for which match(frame) is
        true, or None after timeout seconds.  Earlier frames are kept in
        self.frames for inspection."""
        deadline = kdcom.monotonic_ms() + int(timeout * 1000)
        while True:
            for i, f in enumerate(self.frames):
                if match(f):
                    del self.frames[:i + 1]
                    return f
            left = deadline - kdcom.monotonic_ms()
            if left <= 0:
                return None
            rl, _, _ = select.select([self.sock], [], [], left / 1000.0)
            if rl:
                data = self.sock.recv(65536)
                if not data:
                    return None
                self.frames += self.parser.feed(data)


class Checks:
    def __init__(self):
        self.failed = 0

    def check(self, ok, what, detail=""):
        print("%s: %s%s" % ("PASS" if ok else "FAIL", what,
                            " (%s)" % detail if detail else ""), flush=True)
        if not ok:
            self.failed += 1
        return ok


def is_ctl(ptype):
    return lambda f: f.kind == FK.CONTROL and f.type == ptype


def run(peer, args):
    c = Checks()
    t = args.timeout
    # Whatever the target sent before we spoke (e.g. its first state change
    # with the SYNC id) is noted, then the test starts from a RESET.
    peer.expect(lambda f: False, args.settle)
    before = list(peer.frames)
    peer.frames.clear()
    if before:
        print("info: %d frame(s) before RESET: %s" %
              (len(before), ", ".join(repr(f) for f in before)))

    peer.send(kdcom.encode_control(PT.RESET, 0))
    echo = peer.expect(is_ctl(PT.RESET), t)
    if not c.check(echo is not None, "answers RESET with RESET"):
        return c
    if not args.any_reset_id:
        c.check(echo.id == 0, "RESET answer carries PacketId 0",
                "got 0x%08x" % echo.id)

    sc = peer.expect(lambda f: f.kind != FK.CONTROL, t)
    ok = sc is not None and sc.kind == FK.DATA and \
        sc.type in (PT.STATE_CHANGE64, PT.STATE_CHANGE32)
    if not c.check(ok, "re-sends its state change after RESET",
                   repr(sc) if sc else "nothing within %g s" % t):
        return c
    c.check(sc.id == kdcom.INITIAL_ID, "state change carries id 0x80800000",
            "got 0x%08x" % sc.id)
    print("info: %s" % kdcom.kd.describe(sc.type, sc.payload,
                                         to_target=False))

    peer.send(kdcom.encode_control(PT.ACKNOWLEDGE,
                                   sc.id & ~kdcom.SYNC_BIT))
    req = bytearray(kdcom.capi.KDCOM_KD_MS_SIZE)
    struct.pack_into("<I", req, kdcom.capi.KDCOM_KD_MS_API_NUMBER,
                     kdcom.kd.GET_VERSION)
    peer.send(kdcom.encode_data(PT.STATE_MANIPULATE, kdcom.INITIAL_ID,
                                bytes(req)))
    ack = peer.expect(is_ctl(PT.ACKNOWLEDGE), t)
    c.check(ack is not None and ack.id == kdcom.INITIAL_ID,
            "ACKs our request with its exact id",
            "got 0x%08x" % ack.id if ack else "no ACK")
    ans = peer.expect(lambda f: f.kind == FK.DATA, t)
    ok = ans is not None and ans.type == PT.STATE_MANIPULATE and \
        kdcom.kd.api_number(ans.payload) == kdcom.kd.GET_VERSION
    if c.check(ok, "answers GetVersion", repr(ans) if ans else "nothing"):
        c.check(ans.id == kdcom.INITIAL_ID ^ 1,
                "answer carries the next id 0x80800001",
                "got 0x%08x" % ans.id)
        peer.send(kdcom.encode_control(PT.ACKNOWLEDGE, ans.id))
    bad = [f for f in peer.frames if not f.ok]
    c.check(not bad and peer.parser.noise_bytes == 0,
            "no malformed bytes from the target",
            "%d bad frames, %d noise bytes" % (len(bad),
                                               peer.parser.noise_bytes))
    return c


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Check that a KDCOM target answers RESET like "
                    "Windows kdcom.dll.",
        epilog="Exit status: 0 pass, 1 fail, 2 usage, 3 no connection.")
    ap.add_argument("endpoint", help="HOST:PORT, unix:PATH or a socket path")
    ap.add_argument("--timeout", type=float, default=5.0, metavar="S",
                    help="seconds to wait for each answer (default 5)")
    ap.add_argument("--settle", type=float, default=0.3, metavar="S",
                    help="seconds to listen before sending RESET "
                         "(default 0.3)")
    ap.add_argument("--any-reset-id", action="store_true",
                    help="accept any PacketId in the RESET answer "
                         "(Windows XP sends junk there)")
    args = ap.parse_args(argv)
    if args.timeout <= 0 or args.settle < 0:
        ap.error("--timeout must be > 0 and --settle >= 0")
    try:
        parse_endpoint(args.endpoint)
    except ValueError as e:
        ap.error(str(e))
    try:
        sock = connect(args.endpoint, args.timeout)
    except OSError as e:
        print("check_peer: cannot connect to %s: %s" %
              (args.endpoint, e.strerror or e), file=sys.stderr)
        return 3
    try:
        result = run(Peer(sock), args)
    except OSError as e:
        print("FAIL: connection error: %s" % e)
        return 1
    finally:
        sock.close()
    print("%s: %d check(s) failed" % ("FAILED" if result.failed else "PASSED",
                                      result.failed))
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
