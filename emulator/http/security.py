"""Response headers every page of the emulator carries."""

from __future__ import annotations

import re

from aiohttp import web

_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def safe_host(request: web.Request) -> str:
    """The request's Host (with port), refusing values that could inject into URLs or CSP."""
    host = request.host
    if not _HOST.match(host):
        raise web.HTTPBadRequest(text="bad Host header")
    return host


def content_security_policy(host: str) -> str:
    """Same-origin everything; the MQTT WebSocket is the only other connection allowed."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' ws://{host} wss://{host}",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


def harden(response: web.StreamResponse, host: str) -> web.StreamResponse:
    """Add CSP, nosniff and friends to a response."""
    response.headers["Content-Security-Policy"] = content_security_policy(host)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    return response
