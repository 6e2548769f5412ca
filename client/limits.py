"""Input limits checked before anything is sent.

They mirror lambdas/chatlib/limits.py (a test keeps them equal): the rules drop a bad
message silently, so the client says why up front instead of waiting for an echo.
"""

from __future__ import annotations

import re

from client.errors import ClientError

ROOM_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
NAME_MAX = 40
TEXT_MAX = 2000

_ROOM_RE = re.compile(ROOM_PATTERN)


def check_room(room: str) -> str:
    """Return the room name, or raise if the rules would refuse it."""
    if not _ROOM_RE.fullmatch(room):
        raise ClientError(
            f"bad room name {room!r}: use 1-64 letters, digits, '_' or '-' ({ROOM_PATTERN})"
        )
    return room


def check_name(name: str) -> str:
    """Return the display name, or raise if it is empty or too long."""
    if not name or len(name) > NAME_MAX:
        raise ClientError(f"bad name: it must be 1-{NAME_MAX} characters (got {len(name)})")
    return name


def check_text(text: str) -> str:
    """Return the message text, or raise if it is empty or over the limit."""
    if not text:
        raise ClientError("empty message: nothing to send")
    if len(text) > TEXT_MAX:
        raise ClientError(f"message too long: {len(text)} characters, the limit is {TEXT_MAX}")
    return text
