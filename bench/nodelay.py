"""Turn Nagle's algorithm off on this process's connections to one port.

awscrt 0.36 exposes no TCP_NODELAY option and leaves Nagle on; with QoS 1 (a PUBACK
for every message) that meets the broker's delayed ACKs and adds a 0-40 ms sawtooth to
every latency, on every broker alike, which would hide the differences we measure.
Socket options belong to the open file description, so setting it on a dup of the
CRT's descriptor reaches the CRT's socket.
"""

from __future__ import annotations

import contextlib
import os
import socket


def set_nodelay(port: int) -> int:
    """Set TCP_NODELAY on every TCP socket of this process whose peer port is `port`."""
    changed = 0
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                continue
            dup = os.dup(fd)
        except OSError:
            continue
        try:
            sock = socket.socket(fileno=dup)
        except OSError:
            os.close(dup)
            continue
        with sock, contextlib.suppress(OSError):
            inet = sock.family in (socket.AF_INET, socket.AF_INET6)
            if inet and sock.type == socket.SOCK_STREAM and sock.getpeername()[1] == port:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                changed += 1
    return changed
