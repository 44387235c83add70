# SPDX-License-Identifier: BSD-2-Clause
"""The example scripts against real peers over Unix sockets: kd_client.py
performs the RESET handshake with a Python TARGET in another process
(examples/python/sim_target.py) and decodes what it sends; check_peer.py
passes against it and fails, within its timeout, against a silent peer;
bad arguments and unreachable endpoints give clean exit codes."""
import os
import shutil
import socket
import tempfile
import threading
import unittest

import support


class Endpoint:
    """A temporary directory holding one Unix socket path."""

    def __init__(self, test):
        self.dir = tempfile.mkdtemp(prefix="kdcom-py-")
        test.addCleanup(shutil.rmtree, self.dir, True)
        self.path = os.path.join(self.dir, "kd.sock")


def start_target(test, path, *extra):
    proc = support.start_example("sim_target.py", "--unix", path,
                                 "--timeout", "20", *extra)
    test.addCleanup(support.reap, proc)
    line = proc.stdout.readline()   # "listening on PATH", printed first
    test.assertTrue(line.startswith("listening on"), line)
    return proc


class SilentPeer:
    """A Unix-socket server that accepts one connection and never writes:
    the peer every tool must survive without hanging."""

    def __init__(self, test, path):
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.srv.settimeout(20)
        self.got = b""
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()
        test.addCleanup(self.close)

    def serve(self):
        try:
            conn, _ = self.srv.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(20)
            try:
                while True:
                    data = conn.recv(4096)
                    if not data:
                        return
                    self.got += data
            except OSError:
                return

    def close(self):
        self.srv.close()
        self.thread.join(5)


class TestKdClient(unittest.TestCase):
    def test_handshake_and_decoding(self):
        ep = Endpoint(self)
        target = start_target(self, ep.path)
        res = support.run_example("kd_client.py", "unix:" + ep.path,
                                  "--get-version", "--go", "--count", "3",
                                  "--timeout", "10")
        rc, out, err = support.stop(target)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        lines = res.stdout.splitlines()
        self.assertIn("synced: RESET handshake complete", lines)
        # The state change the target re-sent after our RESET, decoded.
        self.assertTrue(any("recv id=0x80800000 STATE_CHANGE64 LoadSymbols"
                            in l and "ntoskrnl.exe" in l for l in lines),
                        res.stdout)
        self.assertTrue(any("STATE_MANIPULATE GetVersion reply "
                            "status=0x00000000" in l for l in lines),
                        res.stdout)
        self.assertTrue(any("DEBUG_IO PrintString 'hello from sim_target"
                            in l for l in lines), res.stdout)
        # The target's side of the handshake, from its own log.
        self.assertEqual(rc, 0, err)
        self.assertIn("sim_target: reset by debugger", out)
        self.assertIn("resets_received=1", out)

    def test_request_the_target_dropped_is_sent_again(self):
        # The target acknowledges the first GetVersion and drops it (a
        # kernel does that with a request whose type the line damaged):
        # the client sends it again after --reply-timeout and gets the
        # answer; only then does it continue the target.
        ep = Endpoint(self)
        target = start_target(self, ep.path, "--ignore-requests", "1")
        res = support.run_example("kd_client.py", "unix:" + ep.path,
                                  "--get-version", "--go", "--count", "3",
                                  "--timeout", "10", "--reply-timeout", "0.3",
                                  timeout=20)
        rc, out, err = support.stop(target)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("no reply to GetVersion in 0.3 s: sending it again "
                      "(1 of 3)", res.stdout)
        lines = res.stdout.splitlines()
        version = [i for i, l in enumerate(lines)
                   if "STATE_MANIPULATE GetVersion reply status=0x00000000"
                   in l]
        prints = [i for i, l in enumerate(lines)
                  if "DEBUG_IO PrintString 'hello from sim_target" in l]
        self.assertTrue(version and prints, res.stdout)
        self.assertLess(version[0], prints[0], res.stdout)
        self.assertIn("sim_target: request ignored", out)

    def test_tcp_port_zero(self):
        # No fixed port: the target binds port 0 and says which it got.
        target = support.start_example("sim_target.py", "--tcp",
                                       "127.0.0.1:0", "--timeout", "20")
        self.addCleanup(support.reap, target)
        line = target.stdout.readline().strip()
        self.assertRegex(line, r"^listening on 127\.0\.0\.1:\d+$")
        endpoint = line.split()[-1]
        res = support.run_example("kd_client.py", endpoint, "--count", "1",
                                  "--timeout", "10")
        rc, out, err = support.stop(target)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("synced: RESET handshake complete", res.stdout)
        self.assertIn("STATE_CHANGE64 LoadSymbols", res.stdout)
        self.assertIn("resets_received=1", out)

    def test_breakin_flag_sends_b_first(self):
        ep = Endpoint(self)
        peer = SilentPeer(self, ep.path)
        res = support.run_example("kd_client.py", ep.path, "--breakin",
                                  "--timeout", "0.5")
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        self.assertIn("no RESET handshake within 0.5 s", res.stdout)
        peer.close()
        self.assertTrue(peer.got.startswith(b"b" + bytes.fromhex(
            "69696969060000000000000000000000")), peer.got[:20])

    def test_idle_timeout(self):
        ep = Endpoint(self)
        start_target(self, ep.path)
        res = support.run_example("kd_client.py", ep.path, "--idle", "0.5")
        self.assertEqual(res.returncode, 3, res.stdout + res.stderr)
        self.assertIn("nothing received for 0.5 s", res.stdout)

    def test_errors(self):
        res = support.run_example("kd_client.py", "--help")
        self.assertEqual(res.returncode, 0)
        self.assertIn("--breakin", res.stdout)
        for bad in (["nohost"], ["host:notaport"], ["host:70000"], [],
                    ["127.0.0.1:1", "--timeout", "-1"]):
            res = support.run_example("kd_client.py", *bad)
            self.assertEqual(res.returncode, 2, (bad, res.stderr))
            self.assertIn("error", res.stderr)
        ep = Endpoint(self)
        res = support.run_example("kd_client.py", ep.path, "--timeout", "2")
        self.assertEqual(res.returncode, 1)
        self.assertIn("cannot connect", res.stderr)


class TestCheckPeer(unittest.TestCase):
    def test_passes_against_a_conforming_target(self):
        ep = Endpoint(self)
        target = start_target(self, ep.path)
        res = support.run_example("check_peer.py", "unix:" + ep.path)
        support.stop(target)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        self.assertIn("PASS: answers RESET with RESET", res.stdout)
        self.assertIn("PASS: first packet after RESET carries id "
                      "0x80800000", res.stdout)
        self.assertIn("PASS: reports a state change (re-sent after RESET)",
                      res.stdout)
        self.assertNotIn("FAIL", res.stdout)

    def test_fails_against_a_silent_peer(self):
        ep = Endpoint(self)
        peer = SilentPeer(self, ep.path)
        res = support.run_example("check_peer.py", ep.path, "--timeout",
                                  "0.5", "--settle", "0")
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertIn("FAIL: answers RESET with RESET", res.stdout)
        peer.close()
        self.assertEqual(peer.got, bytes.fromhex(
            "69696969060000000000000000000000"))

    def test_no_connection(self):
        ep = Endpoint(self)
        res = support.run_example("check_peer.py", ep.path, "--timeout", "1")
        self.assertEqual(res.returncode, 3)
        res = support.run_example("check_peer.py", "x")
        self.assertEqual(res.returncode, 2)


if __name__ == "__main__":
    unittest.main()
