# SPDX-License-Identifier: BSD-2-Clause
"""The Python examples and the docs' protocol-test snippet against the
project's own target: kdcom-shim serving kdcom-simkernel-vm over the VM
channel, as a Windows guest would be served, in each state a user finds
it in: booting (nobody attached yet), stopped (a debugger saw it stop and
left) and running (a debugger continued it).  kd_client.py ends by itself
(--max-time).

The programs come from $KDCOM_EX_DIR, else $B/examples (B defaults to
build); without them the tests are skipped with the reason.  `make
check-python` builds them first (tests/python.mk)."""
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

import support
import kdcom

PT = kdcom.PacketType
EV = kdcom.EventKind
K = kdcom.capi
EX_DIR = os.environ.get("KDCOM_EX_DIR") or os.path.join(
    support.ROOT, os.environ.get("B", "build"), "examples")
SHIM = os.path.join(EX_DIR, "kdcom-shim")
SIM = os.path.join(EX_DIR, "kdcom-simkernel-vm")
HAVE = os.access(SHIM, os.X_OK) and os.access(SIM, os.X_OK)
WHY = "no kdcom-shim and kdcom-simkernel-vm in %s (make examples)" % EX_DIR
SANITIZER = ("ERROR: AddressSanitizer", "runtime error:",
             "ERROR: LeakSanitizer")


def docs_snippet():
    """The Python block of docs/python.md's "Writing a protocol test"."""
    with open(os.path.join(support.ROOT, "docs", "python.md")) as f:
        lines = f.read().split("\n")
    start = lines.index("## Writing a protocol test")
    first = next(i for i in range(start, len(lines))
                 if lines[i].startswith("```python"))
    end = next(i for i in range(first + 1, len(lines))
               if lines[i].startswith("```"))
    return "\n".join(lines[first + 1:end]) + "\n"


class Target:
    """kdcom-shim on a free loopback port, kdcom-simkernel-vm behind it."""

    def __init__(self, test, *sim_args):
        self.dir = tempfile.mkdtemp(prefix="kdcom-py-shim-")
        test.addCleanup(self.close)
        self.procs = []
        shm = os.path.join(self.dir, "kd.shm")
        self.shim = self.start("shim", SHIM, "--shm", shm,
                               "tcp-listen:127.0.0.1:0")
        self.port = None
        deadline = time.monotonic() + 10
        while self.port is None and time.monotonic() < deadline:
            if select.select([self.shim.stdout], [], [], 0.5)[0]:
                line = self.shim.stdout.readline()
                if not line:
                    break
                if line.startswith("KDCOM_SHIM_PORT="):
                    self.port = int(line.split("=", 1)[1])
        if self.port is None:
            test.fail("kdcom-shim did not start: %s" % self.log("shim"))
        self.sim = self.start("sim", SIM, *sim_args, shm)
        self.endpoint = "127.0.0.1:%d" % self.port

    def start(self, name, *argv):
        err = open(os.path.join(self.dir, name + ".err"), "w")
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err,
                                stdin=subprocess.DEVNULL, text=True)
        err.close()
        self.procs.append(proc)
        return proc

    def log(self, name):
        try:
            with open(os.path.join(self.dir, name + ".err")) as f:
                return f.read()
        except OSError:
            return ""

    def sanitizer_reports(self):
        return [line for name in ("shim", "sim")
                for line in self.log(name).splitlines()
                if any(s in line for s in SANITIZER)]

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        shutil.rmtree(self.dir, True)


class Debugger:
    """A KD debugger on kdcom.Link, to bring the target into a state; it
    does not use the code under test (check_peer.py, the snippet)."""

    def __init__(self, test, port):
        self.test = test
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.link = kdcom.Link(kdcom.Role.DEBUGGER)

    def run(self, on_event, seconds=15):
        """Pumps the link, calling on_event(ev) until it returns True."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            now = kdcom.monotonic_ms()
            for ev in self.link.events():
                if on_event(ev):
                    out = self.link.drain(now)  # the last ACK
                    if out:
                        self.sock.sendall(out)
                    return
            out = self.link.drain(now)
            if out:
                self.sock.sendall(out)
            if select.select([self.sock], [], [], 0.05)[0]:
                data = self.sock.recv(65536)
                self.test.assertTrue(data, "the shim closed the connection")
                self.link.feed(data, kdcom.monotonic_ms())
            self.link.tick(kdcom.monotonic_ms())
        self.test.fail("the target did not get into the state asked for")

    def close(self):
        self.sock.close()


def stopped(test, target):
    """A debugger attaches to the booting target, sees it stop (the
    LoadSymbols state change) and leaves it stopped."""
    dbg = Debugger(test, target.port)
    dbg.run(lambda ev: ev.kind == EV.PACKET and ev.type == PT.STATE_CHANGE64)
    dbg.close()


def running(test, target):
    """A debugger continues every stop until the target says it runs."""
    dbg = Debugger(test, target.port)
    cont = bytearray(K.KDCOM_KD_MS_SIZE)
    struct.pack_into("<I", cont, K.KDCOM_KD_MS_API_NUMBER,
                     K.KDCOM_KD_CONTINUE2)
    struct.pack_into("<I", cont, K.KDCOM_KD_CONTINUE_STATUS, 0x00010002)

    def on_event(ev):
        if ev.kind == EV.PACKET and ev.type == PT.STATE_CHANGE64:
            dbg.link.send(PT.STATE_MANIPULATE, bytes(cont))
        return ev.kind == EV.PACKET and ev.type == PT.DEBUG_IO and \
            b"running" in ev.payload
    dbg.run(on_event)
    dbg.close()


STATES = {"booting": None, "stopped": stopped, "running": running}


@unittest.skipUnless(HAVE, WHY)
class TestAgainstShim(unittest.TestCase):
    def target(self, state, *sim_args):
        t = Target(self, *sim_args)
        if STATES[state]:
            STATES[state](self, t)
        return t

    def no_sanitizer_report(self, t):
        t.close()
        self.assertEqual(t.sanitizer_reports(), [])

    def check_peer(self, t, *args):
        res = support.run_example("check_peer.py", t.endpoint, *args,
                                  timeout=60)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr +
                         t.log("shim") + t.log("sim"))
        self.assertNotIn("FAIL", res.stdout)
        return res.stdout

    def test_check_peer_in_every_state(self):
        for state in STATES:
            with self.subTest(state=state):
                t = self.target(state)
                out = self.check_peer(t)
                self.assertIn("PASS: reports a state change", out)
                self.assertEqual("breaking in" in out, state == "running",
                                 out)
                if state == "running":
                    # Left as found: running, so broken into again.
                    self.assertIn("PASS: ACKs Continue2", out)
                    self.assertIn("breaking in", self.check_peer(t))
                else:
                    # Left stopped, as found or as booting leaves it.
                    self.assertIn("(re-sent after RESET)", self.check_peer(t))
                self.no_sanitizer_report(t)

    def test_check_peer_no_breakin_says_why(self):
        t = self.target("running")
        res = support.run_example("check_peer.py", t.endpoint,
                                  "--no-breakin", "--wait-stop", "0.5",
                                  timeout=60)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertIn("FAIL: reports a state change", res.stdout)
        self.assertIn("--no-breakin: a running target is not stopped",
                      res.stdout)

    def test_docs_snippet_in_every_state(self):
        code = docs_snippet()
        self.assertIn("KDCOM_SHIM_PORT", code)
        for state in STATES:
            with self.subTest(state=state):
                t = self.target(state)
                path = os.path.join(t.dir, "protocol_test.py")
                with open(path, "w") as f:
                    f.write(code)
                env = support.child_env()
                env["KDCOM_SHIM_PORT"] = str(t.port)
                res = subprocess.run([sys.executable, path], env=env,
                                     capture_output=True, text=True,
                                     timeout=60)
                self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
                self.assertIn("PASS: STATE_MANIPULATE GetVersion reply "
                              "status=0x00000000", res.stdout)
                self.no_sanitizer_report(t)

    def test_kd_client_max_time(self):
        # A running target that prints all the time: --idle would never
        # end the run, --max-time does.
        t = self.target("running", "--print-interval", "100")
        start = time.monotonic()
        res = support.run_example("kd_client.py", t.endpoint, "--go",
                                  "--max-time", "1.5", timeout=60)
        took = time.monotonic() - start
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        self.assertIn("error: still running after 1.5 s (--max-time",
                      res.stdout)
        self.assertIn("heartbeat", res.stdout)
        self.assertLess(took, 20)
        self.no_sanitizer_report(t)


class TestKdClientDefaults(unittest.TestCase):
    def test_max_time_has_a_default(self):
        res = support.run_example("kd_client.py", "--help")
        self.assertEqual(res.returncode, 0)
        self.assertIn("--max-time S", res.stdout)
        self.assertIn("default 30", " ".join(res.stdout.split()))
        for bad in (["--max-time", "-1"], ["--max-time", "nan"],
                    ["--idle", "inf"]):
            res = support.run_example("kd_client.py", "127.0.0.1:1", *bad)
            self.assertEqual(res.returncode, 2, (bad, res.stderr))


if __name__ == "__main__":
    unittest.main()
