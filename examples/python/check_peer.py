#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""check_peer.py - a protocol test: does a KDCOM target behave like
Windows kdcom.dll at connect time?  Copy it and add your own checks.

It speaks raw bytes through libkdcom's codec (no link engine on our side,
so every byte sent is chosen here and every byte received is checked):

  1. send RESET (id 0); the target must answer RESET (PROTOCOL-FACTS §2),
     and, unless --any-reset-id, with PacketId 0 (ReactOS; XP sends junk);
  2. its data packets must restart at the reset id 0x80800000 (§1.5,
     §3.4) and alternate from there, with valid checksums and trailers;
     each is ACKed;
  3. it must report a state change: at once when it is stopped in the
     debugger (its wait loop re-sends it), after its DbgPrints when it is
     booting; when none came within --wait-stop seconds it is running,
     and it gets a break-in byte, after which it must stop;
  4. send a GetVersion request (id 0x80800000): the target must ACK
     exactly that id and answer with the id after its state change's;
  5. a target that was running is continued again (Continue2), unless
     --leave-stopped: the test leaves it as it found it.

So it runs against a target in any state: booting, running or stopped
(kdcom-shim serving kdcom-simkernel-vm, sim_target.py, a VM).

    check_peer.py unix:/tmp/kd.sock
    check_peer.py 127.0.0.1:5800 --timeout 5

Prints PASS/FAIL per check.  Exit status: 0 all passed, 1 a check
failed, 2 bad arguments, 3 could not connect.
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
FK = kdcom.FrameKind
DBG_CONTINUE = 0x00010002


class Peer:
    """A socket plus a parser: send bytes, wait for frames, with deadlines.
    Every malformed frame received is kept in self.bad."""

    def __init__(self, sock):
        self.sock = sock
        self.parser = kdcom.Parser()
        self.frames = []
        self.bad = []

    def send(self, data):
        self.sock.setblocking(True)
        self.sock.sendall(data)
        self.sock.setblocking(False)

    def expect(self, match, timeout):
        """Returns the first received frame for which match(frame) is
        true, or None after timeout seconds.  The frames before it are
        dropped; with no match they stay in self.frames."""
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
                got = self.parser.feed(data)
                self.bad += [f for f in got if not f.ok]
                self.frames += got


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


def is_data(f):
    return f.kind == FK.DATA


STATE_CHANGES = (PT.STATE_CHANGE64, PT.STATE_CHANGE32)


def take_data(peer, timeout, until):
    """ACKs and shows the target's data packets until one for which
    until(frame) holds, or until timeout seconds passed.  Returns (the
    packets, repeats left out; the one found or None)."""
    deadline = kdcom.monotonic_ms() + int(timeout * 1000)
    packets = []
    while True:
        left = (deadline - kdcom.monotonic_ms()) / 1000.0
        f = peer.expect(is_data, max(left, 0.0))
        if f is None:
            return packets, None
        peer.send(kdcom.encode_control(PT.ACKNOWLEDGE,
                                       f.id & ~kdcom.SYNC_BIT))
        if packets and f.id == packets[-1].id and \
                f.payload == packets[-1].payload:
            continue            # a repeat: our ACK was late
        packets.append(f)
        print("info: recv id=0x%08x %s" % (f.id, kdcom.kd.describe(
            f.type, f.payload, to_target=False)), flush=True)
        if until(f):
            return packets, f


def manipulate(api, body=b""):
    """A DBGKD_MANIPULATE_STATE64 request header: the API number, then
    body in the per-API union."""
    req = bytearray(kdcom.capi.KDCOM_KD_MS_SIZE)
    struct.pack_into("<I", req, kdcom.capi.KDCOM_KD_MS_API_NUMBER, api)
    off = kdcom.capi.KDCOM_KD_MS_UNION
    req[off:off + len(body)] = body
    return bytes(req)


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

    # Stopped: the state change comes at once.  Booting: after DbgPrints.
    # Running: not at all, until a break-in.
    packets, sc = take_data(peer, args.wait_stop,
                            lambda f: f.type in STATE_CHANGES)
    broke_in = False
    if sc is None and not args.no_breakin:
        print("info: no state change within %g s: the target runs; "
              "breaking in" % args.wait_stop, flush=True)
        peer.send(bytes([kdcom.BREAKIN_BYTE]))
        broke_in = True
        more, sc = take_data(peer, t, lambda f: f.type in STATE_CHANGES)
        packets += more
    waited = args.wait_stop + (t if broke_in else 0)
    how = "after a break-in" if broke_in else \
        "after %d other packet(s)" % (len(packets) - 1) if len(packets) > 1 \
        else "re-sent after RESET"
    if not c.check(sc is not None, "reports a state change%s" % (
            " (%s)" % how if sc else ""),
            "" if sc else "none within %g s, %d other packet(s)%s" % (
                waited, len(packets),
                "" if broke_in or not args.no_breakin else
                "; --no-breakin: a running target is not stopped")):
        return c
    c.check(packets[0].id == kdcom.INITIAL_ID,
            "first packet after RESET carries id 0x80800000",
            "got 0x%08x" % packets[0].id)
    ids = [f.id for f in packets]
    c.check(all(b == a ^ 1 for a, b in zip(ids, ids[1:])),
            "packet ids alternate", " ".join("0x%08x" % i for i in ids))

    # Our first packet since the RESET: id 0x80800000.
    peer.send(kdcom.encode_data(PT.STATE_MANIPULATE, kdcom.INITIAL_ID,
                                manipulate(kdcom.kd.GET_VERSION)))
    ack = peer.expect(is_ctl(PT.ACKNOWLEDGE), t)
    c.check(ack is not None and ack.id == kdcom.INITIAL_ID,
            "ACKs our request with its exact id",
            "got 0x%08x" % ack.id if ack else "no ACK")
    _, ans = take_data(peer, t, lambda f: f.type == PT.STATE_MANIPULATE)
    ok = ans is not None and \
        kdcom.kd.api_number(ans.payload) == kdcom.kd.GET_VERSION
    if c.check(ok, "answers GetVersion", repr(ans) if ans else "nothing"):
        c.check(ans.id == sc.id ^ 1,
                "answer carries the id after the state change's (0x%08x)" %
                (sc.id ^ 1), "got 0x%08x" % ans.id)

    if broke_in and not args.leave_stopped:
        # Leave it as found: running.  Continue2 with DBG_CONTINUE; no
        # reply, the ACK is the answer.
        cont = manipulate(kdcom.capi.KDCOM_KD_CONTINUE2,
                          struct.pack("<I", DBG_CONTINUE))
        peer.send(kdcom.encode_data(PT.STATE_MANIPULATE,
                                    kdcom.INITIAL_ID ^ 1, cont))
        ack = peer.expect(is_ctl(PT.ACKNOWLEDGE), t)
        c.check(ack is not None and ack.id == kdcom.INITIAL_ID ^ 1,
                "ACKs Continue2: the target runs again, as it was found",
                "got 0x%08x" % ack.id if ack else "no ACK")
    peer.expect(lambda f: False, 0.1)   # late bytes, for the check below
    c.check(not peer.bad and peer.parser.noise_bytes == 0,
            "no malformed bytes from the target",
            "%d bad frames, %d noise bytes" % (len(peer.bad),
                                               peer.parser.noise_bytes))
    return c


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Check that a KDCOM target answers RESET like "
                    "Windows kdcom.dll.  Works with the target in any "
                    "state: stopped, booting (its DbgPrints are ACKed) or "
                    "running (it is broken into, and continued again at "
                    "the end).",
        epilog="Exit status: 0 pass, 1 fail, 2 usage, 3 no connection.")
    ap.add_argument("endpoint", help="HOST:PORT, unix:PATH or a socket path")
    ap.add_argument("--timeout", type=float, default=5.0, metavar="S",
                    help="seconds to wait for each answer (default 5)")
    ap.add_argument("--settle", type=float, default=0.3, metavar="S",
                    help="seconds to listen before sending RESET "
                         "(default 0.3)")
    ap.add_argument("--wait-stop", type=float, default=1.0, metavar="S",
                    help="seconds to wait for the state change after RESET "
                         "before taking the target for running and breaking "
                         "in (default 1)")
    ap.add_argument("--no-breakin", action="store_true",
                    help="never break in: a running target fails the test")
    ap.add_argument("--leave-stopped", action="store_true",
                    help="do not continue a target that was broken into")
    ap.add_argument("--any-reset-id", action="store_true",
                    help="accept any PacketId in the RESET answer "
                         "(Windows XP sends junk there)")
    args = ap.parse_args(argv)
    times = (args.timeout, args.settle, args.wait_stop)
    if not all(math.isfinite(x) for x in times) or args.timeout <= 0 or \
            args.settle < 0 or args.wait_stop <= 0:
        ap.error("--timeout and --wait-stop must be > 0, --settle >= 0")
    sock = open_endpoint(ap, "check_peer", args.endpoint, args.timeout)
    if sock is None:
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
