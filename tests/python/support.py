# SPDX-License-Identifier: BSD-2-Clause
"""Shared helpers for the Python tests: locating the built package, the
wire vectors and the examples; a seeded lossy pipe; subprocess helpers.

Run by `make check-python`; under pytest or a bare `python3 -m unittest`
from the source tree the package is taken from $B/python (default
build/python).
"""
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
VECTORS = os.path.join(ROOT, "tests", "vectors")
EXAMPLES = os.path.join(ROOT, "examples", "python")

# The package under test: the build tree's, ahead of any installed copy
# (make passes KDCOM_PY_PATH; by hand, $B/python with B defaulting to
# build).  Only when neither exists is an installed kdcom used.
_BUILT = os.environ.get("KDCOM_PY_PATH") or os.path.join(
    ROOT, os.environ.get("B", "build"), "python")
if os.path.isdir(os.path.join(_BUILT, "kdcom")) and _BUILT not in sys.path:
    sys.path.insert(0, _BUILT)
import kdcom  # noqa: E402

# Where the package was found, for child processes (same interpreter).
PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(kdcom.__file__)))


def child_env():
    """Environment for a child Python that must import the same kdcom."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [PKG_PARENT] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                        if p])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_example(name, *args, timeout=30, **kw):
    """Runs examples/python/NAME with this interpreter; returns the
    CompletedProcess (text output)."""
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, name)] +
                          list(args), env=child_env(), capture_output=True,
                          text=True, timeout=timeout, **kw)


def start_example(name, *args, **kw):
    """Starts examples/python/NAME; stdout is a text pipe."""
    return subprocess.Popen([sys.executable, os.path.join(EXAMPLES, name)] +
                            list(args), env=child_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


def stop(proc, timeout=10):
    """Waits for a child (killing it if it overstays) and returns
    (returncode, stdout, stderr)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


def reap(proc):
    """Cleanup for a started child: kill it if still running, wait for it
    and close its pipes (safe after stop())."""
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for f in (proc.stdin, proc.stdout, proc.stderr):
        if f is not None:
            f.close()


def load_vector(name):
    """Reads tests/vectors/NAME: a list of (direction, bytes), direction
    'D>T' or 'T>D'."""
    chunks = []
    with open(os.path.join(VECTORS, name)) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            direction, _, hexes = line.partition(" ")
            if direction not in ("D>T", "T>D"):
                raise ValueError("bad vector line: %r" % line[:40])
            chunks.append((direction, bytes.fromhex(hexes)))
    return chunks


class LossyPipe:
    """One direction of a damaged serial line, driven by a seeded PRNG.

    carry(data) returns the chunks that arrive: a whole write may be lost,
    one byte may be corrupted or deleted, and what survives arrives split
    at random points.  Counts what it did, so a test can check that the
    damage really happened.

    KDCOM's checksum covers the payload only (PROTOCOL-FACTS §1.4): a
    flipped PacketType or PacketId is undetectable by design and no
    implementation can recover the packet it hits.  The pipe therefore
    spares those header fields (offsets 4-5 and 8-11 of every frame, found
    by parsing the write, which is whole frames) and damages everything
    else: leaders, ByteCount, checksum, payload, trailer, break-ins."""

    def __init__(self, seed, p_drop=0.1, p_corrupt=0.15, p_delete=0.08):
        self.rng = random.Random(seed)
        self.p_drop, self.p_corrupt, self.p_delete = p_drop, p_corrupt, \
            p_delete
        self.dropped = self.corrupted = self.deleted = 0

    def carry(self, data):
        rng = self.rng
        if not data:
            return []
        if rng.random() < self.p_drop:
            self.dropped += 1
            return []
        buf = bytearray(data)
        ok = self.damageable(data)
        if ok and rng.random() < self.p_corrupt:
            i = rng.choice(ok)
            buf[i] ^= 1 << rng.randrange(8)
            self.corrupted += 1
        if ok and rng.random() < self.p_delete:
            del buf[rng.choice(ok)]
            self.deleted += 1
        out = []
        while buf:
            n = rng.randint(1, len(buf))
            out.append(bytes(buf[:n]))
            del buf[:n]
        return out

    @staticmethod
    def damageable(data):
        """Offsets in a write of whole frames that may be damaged."""
        import kdcom
        ok, off = [], 0
        for f in kdcom.parse(data):
            if f.kind == kdcom.FrameKind.BREAKIN:
                size = 1
            elif f.kind == kdcom.FrameKind.CONTROL:
                size = kdcom.HEADER_SIZE
            else:
                size = kdcom.HEADER_SIZE + f.byte_count + 1
            ok += [off + i for i in range(size)
                   if size == 1 or not (4 <= i <= 5 or 8 <= i <= 11)]
            off += size
        return ok if off == len(data) else []
