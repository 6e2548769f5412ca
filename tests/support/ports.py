"""Loopback port checks shared by the suites."""

from __future__ import annotations

import socket


def port_is_free(port: int) -> bool:
    """Free to listen on again, as a restarted server would: with SO_REUSEADDR, so
    TIME_WAIT leftovers of closed connections don't count as "in use"."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
