#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""sim_target.py - a tiny simulated Windows kernel behind a KDCOM TARGET
link, for trying debugger tools and protocol tests without a VM.

It behaves like the kernel's debugger core at a breakpoint (KD-style,
request/response): it sends a STATE_CHANGE64 (LoadSymbols), re-sends it
whenever the debugger resets the link, answers STATE_MANIPULATE requests
(GetVersion, ReadVirtualMemory, anything else with STATUS_UNSUCCESSFUL),
prints a DbgPrint and runs on Continue, and stops with an Exception state
change on a break-in while running.

    sim_target.py --unix /tmp/kd.sock      # serve one debugger, then exit
    sim_target.py --tcp 127.0.0.1:0        # port 0: prints the port chosen
    sim_target.py --fd 3                   # an already connected socket

The first line on stdout is "listening on ADDRESS" for --unix/--tcp.
Exit status: 0 when the debugger disconnected, 3 when --timeout expired,
1 on errors.  At exit it prints the link's counters.
"""
import argparse
import os
import select
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import import_kdcom, parse_endpoint  # noqa: E402

kdcom = import_kdcom()
PT = kdcom.PacketType
K = kdcom.capi      # KD message numbers and offsets (include/kdcom_kd.h)

STATUS_SUCCESS = 0
STATUS_UNSUCCESSFUL = 0xC0000001
IMAGE = b"\\SystemRoot\\system32\\ntoskrnl.exe\0"


class Kernel:
    """The simulated KD core: what it sends and how it answers."""

    def __init__(self, link, log):
        self.link = link
        self.log = log
        self.queue = []        # packets waiting for the link to be free
        self.state_change = self.make_state_change(
            K.KDCOM_KD_STATE_LOAD_SYMBOLS)
        self.queue.append((PT.STATE_CHANGE64, self.state_change, b""))
        self.outstanding = None
        self.running = False   # stopped in the debugger until Continue
        self.ignore = 0        # requests still to drop (--ignore-requests)

    @staticmethod
    def make_state_change(new_state):
        head = bytearray(K.KDCOM_KD_SC_SIZE)
        # NewState, ProcessorLevel, Processor, NumberProcessors, Thread, PC
        struct.pack_into("<IHHI", head, K.KDCOM_KD_SC_NEW_STATE, new_state,
                         6, 0, 1)
        struct.pack_into("<QQ", head, K.KDCOM_KD_SC_THREAD,
                         0xFFFFF80000123000, 0xFFFFF80000401000)
        data = IMAGE if new_state == K.KDCOM_KD_STATE_LOAD_SYMBOLS else b""
        return bytes(head) + data

    def answer(self, head, data):
        size = K.KDCOM_KD_MS_SIZE
        api = kdcom.kd.api_number(head)
        reply = bytearray(head[:size].ljust(size, b"\0"))
        status = K.KDCOM_KD_MS_RETURN_STATUS
        out = b""
        if api == K.KDCOM_KD_GET_VERSION:
            struct.pack_into("<I", reply, status, STATUS_SUCCESS)
            # Major, Minor, ProtocolVersion, secondary, Flags, MachineType
            struct.pack_into("<HHBBHH", reply, K.KDCOM_KD_MS_UNION, 15,
                             19041, 6, 2, 0x6, 0x8664)
        elif api == K.KDCOM_KD_READ_VIRTUAL_MEMORY:
            addr = struct.unpack_from("<Q", reply, K.KDCOM_KD_MEM_ADDRESS)[0]
            want = struct.unpack_from("<I", reply, K.KDCOM_KD_MEM_COUNT)[0]
            want = min(want, K.KDCOM_KD_MAX_TRANSFER)
            out = bytes((addr + i) & 0xFF for i in range(want))
            struct.pack_into("<I", reply, status, STATUS_SUCCESS)
            struct.pack_into("<I", reply, K.KDCOM_KD_MEM_ACTUAL, len(out))
        elif api in (K.KDCOM_KD_CONTINUE, K.KDCOM_KD_CONTINUE2):
            text = b"hello from sim_target\n"
            dbgio = struct.pack("<IHHII", K.KDCOM_KD_PRINT_STRING, 6, 0,
                                len(text), 0)
            self.queue.append((PT.DEBUG_IO, dbgio, text))
            self.running = True
            return
        else:
            struct.pack_into("<I", reply, status, STATUS_UNSUCCESSFUL)
        self.queue.append((PT.STATE_MANIPULATE, bytes(reply), out))

    def on_event(self, ev):
        EV = kdcom.EventKind
        if ev.kind == EV.PACKET:
            self.log("packet %s" % kdcom.kd.describe(ev.type, ev.payload,
                                                     to_target=True))
            if ev.type == PT.STATE_MANIPULATE and self.ignore > 0:
                # Acknowledged by the link, then dropped: what a kernel
                # does with a packet that is not the type it waits for
                # (a request whose type the line damaged).
                self.ignore -= 1
                self.log("request ignored")
            elif ev.type == PT.STATE_MANIPULATE:
                self.answer(ev.header, ev.data)
        elif ev.kind == EV.ACKED:
            self.outstanding = None
        elif ev.kind == EV.RESET:
            # KdpSendWaitContinue re-sends its state change (§3.4); an
            # outstanding packet is retransmitted by the link itself.
            self.log("reset by debugger")
            if not self.running and self.outstanding is None and \
                    not self.queue:
                self.queue.append((PT.STATE_CHANGE64, self.state_change,
                                   b""))
        elif ev.kind == EV.BREAKIN:
            self.link.take_breakin()
            if not self.running:
                self.log("break-in while stopped: nothing to do")
                return
            self.log("break-in: stopping")
            self.running = False
            self.state_change = self.make_state_change(
                K.KDCOM_KD_STATE_EXCEPTION)
            self.queue.append((PT.STATE_CHANGE64, self.state_change, b""))

    def pump(self, now):
        if self.queue and self.link.can_send:
            ptype, head, data = self.queue.pop(0)
            self.link.send(ptype, head, data, now)
            self.outstanding = ptype


def serve(sock, args, log):
    link = kdcom.Link(kdcom.Role.TARGET, ack_timeout_ms=args.ack_timeout_ms)
    kernel = Kernel(link, log)
    kernel.ignore = args.ignore_requests
    start = kdcom.monotonic_ms()
    sock.setblocking(False)
    pending = b""
    while True:
        now = kdcom.monotonic_ms()
        if args.timeout and now - start > args.timeout * 1000:
            log("timeout after %s s" % args.timeout)
            return 3, link
        for ev in link.events():
            kernel.on_event(ev)
        kernel.pump(now)
        pending += link.drain(now)
        wait = 0.2
        deadline = link.next_deadline
        if deadline is not None:
            wait = max(0.0, min(wait, (deadline - now) / 1000.0))
        rl, wl, _ = select.select([sock], [sock] if pending else [], [],
                                  wait)
        if wl:
            try:
                n = sock.send(pending)
                pending = pending[n:]
            except (BlockingIOError, InterruptedError):
                pass
        if rl:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                log("receive failed: %s" % e)
                return 0, link
            if not data:
                log("debugger disconnected")
                return 0, link
            link.feed(data, kdcom.monotonic_ms())
        link.tick(kdcom.monotonic_ms())


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Simulated KD target (kernel + KDCOM TARGET link).")
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--unix", metavar="PATH",
                       help="listen on a Unix socket path")
    where.add_argument("--tcp", metavar="HOST:PORT",
                       help="listen on TCP (port 0 picks a free port)")
    where.add_argument("--fd", type=int, metavar="N",
                       help="use the connected socket on descriptor N")
    ap.add_argument("--timeout", type=float, default=30.0,
                    help="give up after this many seconds (0: never; "
                         "default 30)")
    ap.add_argument("--ack-timeout-ms", type=int, default=1000)
    ap.add_argument("--ignore-requests", type=int, default=0, metavar="N",
                    help="acknowledge the first N manipulate requests and "
                         "drop them, as a kernel drops a packet whose type "
                         "was damaged on the way")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    def log(msg):
        if not args.quiet:
            print("sim_target: " + msg, flush=True)

    listener = None
    try:
        if args.fd is not None:
            sock = socket.socket(fileno=args.fd)
        else:
            if args.unix:
                family, addr = socket.AF_UNIX, args.unix
            else:
                family, addr = parse_endpoint(args.tcp, listen=True)
            listener = socket.socket(family, socket.SOCK_STREAM)
            if family != socket.AF_UNIX:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR,
                                    1)
            listener.bind(addr)
            listener.listen(1)
            name = listener.getsockname()
            if family != socket.AF_UNIX:
                name = "%s:%d" % name[:2]
            print("listening on %s" % name, flush=True)
            listener.settimeout(args.timeout or None)
            try:
                sock, _ = listener.accept()
            except socket.timeout:
                log("no debugger connected within %s s" % args.timeout)
                return 3
    except (OSError, ValueError) as e:
        print("sim_target: %s" % e, file=sys.stderr)
        return 1
    try:
        status, link = serve(sock, args, log)
        st = link.stats
        log("stats " + " ".join("%s=%d" % kv
                                 for kv in st.as_dict().items()))
        return status
    finally:
        sock.close()
        if listener is not None:
            listener.close()
            if args.unix:
                try:
                    os.unlink(args.unix)
                except OSError:
                    pass


if __name__ == "__main__":
    sys.exit(main())
