# SPDX-License-Identifier: BSD-2-Clause
"""Helpers the example scripts share: endpoint parsing, connecting with a
timeout, and finding the kdcom package when run from the source tree."""
import os
import socket
import sys


def import_kdcom():
    """Imports kdcom; from a source tree, falls back to build/python (or
    $B/python) so the examples run without an install."""
    try:
        import kdcom
    except ImportError:
        root = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        sys.path.insert(0, os.path.join(root, os.environ.get("B", "build"),
                                        "python"))
        import kdcom
    return kdcom


def parse_endpoint(text, listen=False):
    """'unix:PATH', a path containing '/', 'tcp:HOST:PORT' or 'HOST:PORT'
    -> (family, address).  Port 0 (any free port) only when listen is
    true.  Raises ValueError with a readable message."""
    if text.startswith("unix:"):
        return socket.AF_UNIX, text[5:]
    if "/" in text:
        return socket.AF_UNIX, text
    if text.startswith("tcp:"):
        text = text[4:]
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError("endpoint %r: expected HOST:PORT, tcp:HOST:PORT, "
                         "unix:PATH or a socket path" % text)
    host = host.strip("[]")
    try:
        port = int(port, 10)
    except ValueError:
        raise ValueError("endpoint %r: port %r is not a number" %
                         (text, port)) from None
    low = 0 if listen else 1
    if not low <= port < 65536:
        raise ValueError("endpoint %r: port out of range %d..65535" %
                         (text, low))
    return socket.AF_INET6 if ":" in host else socket.AF_INET, (host, port)


def connect(endpoint, timeout):
    """Connects to an endpoint string within timeout seconds and returns a
    non-blocking socket.  Raises OSError / ValueError."""
    family, addr = parse_endpoint(endpoint)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(addr)
        if family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def open_endpoint(ap, prog, endpoint, timeout):
    """Checks an endpoint string (a bad one is a usage error through the
    ArgumentParser ap) and connects to it.  Returns the socket, or None
    after saying on stderr why it could not connect."""
    try:
        parse_endpoint(endpoint)
    except ValueError as e:
        ap.error(str(e))
    try:
        return connect(endpoint, timeout)
    except OSError as e:
        print("%s: cannot connect to %s: %s" % (prog, endpoint,
                                                 e.strerror or e),
              file=sys.stderr)
        return None
