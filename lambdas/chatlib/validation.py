"""Validation of what clients send: names, rooms, texts, commands and the rule stamps.

Every function raises :class:`ValidationError` with a message safe to send back to the
client. The limits come from :mod:`chatlib.limits`, shared with the topic rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from chatlib import limits

ROOM_RE = re.compile(limits.ROOM_PATTERN)
# Message ids are stamped by the rule (newuuid()); they end up in the sort key and in
# cursors, so only a safe alphabet is accepted.
MESSAGE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CLIENT_ID_MAX = 128
SENDER_MAX = 256
# 13 digits: the sort key's fixed width (milliseconds until the year 2286).
TS_MAX = 10**13 - 1

# Unicode categories refused in names: control characters, lone surrogates, and the
# line/paragraph separators that would break a one-line display.
_FORBIDDEN_NAME_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}

COMMAND_TYPES = ("join", "message", "history", "leave")


class ValidationError(ValueError):
    """Client input that breaks the rules; ``str(exc)`` is a client-safe message."""


def validate_name(value: Any, *, trim: bool = False) -> str:
    """A display name: 1..NAME_MAX characters, not blank, no control characters."""
    if not isinstance(value, str):
        raise ValidationError("name must be a string")
    name = value.strip() if trim else value
    if not name or not name.strip():
        raise ValidationError("name must not be empty")
    if len(name) > limits.NAME_MAX:
        raise ValidationError(f"name must be at most {limits.NAME_MAX} characters")
    if any(unicodedata.category(ch) in _FORBIDDEN_NAME_CATEGORIES for ch in name):
        raise ValidationError("name must not contain control characters")
    return name


def validate_room(value: Any) -> str:
    if not isinstance(value, str) or not ROOM_RE.fullmatch(value):
        raise ValidationError("room must match " + limits.ROOM_PATTERN)
    return value


def validate_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError("text must be a string")
    if not value:
        raise ValidationError("text must not be empty")
    if len(value) > limits.TEXT_MAX:
        raise ValidationError(f"text must be at most {limits.TEXT_MAX} characters")
    if any(unicodedata.category(ch) == "Cs" for ch in value):
        raise ValidationError("text must be valid Unicode")
    return value


def reply_client_id(value: Any) -> str | None:
    """The client id if a reply can be addressed to it (``<root>/in/<clientId>``), else None.

    A client id holding MQTT topic separators or wildcards would address another topic,
    so such an id is treated as unknown.
    """
    if not isinstance(value, str) or not value or len(value) > CLIENT_ID_MAX:
        return None
    if any(ch in value for ch in "/+#") or any(unicodedata.category(ch) == "Cc" for ch in value):
        return None
    return value


def _stamp_ts(value: Any) -> int:
    # bool is an int subclass: refuse it explicitly.
    if isinstance(value, bool):
        raise ValidationError("ts must be an integer timestamp in milliseconds")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value < 0 or value > TS_MAX:
        raise ValidationError("ts must be an integer timestamp in milliseconds")
    return value


def _stamp_sender(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > SENDER_MAX:
        raise ValidationError("sender is missing")
    return value


@dataclass(frozen=True)
class Command:
    """One validated client command plus the stamps the topic rule added."""

    type: str
    client_id: str
    sender: str
    ts: int
    room: str
    name: str | None = None
    text: str | None = None
    before: str | None = None
    id: str | None = None


def parse_command(payload: Any) -> Command:
    """Validate a command as delivered by the route or stream rule.

    Raises :class:`ValidationError` for anything malformed. The caller decides whether a
    reply can be sent (see :func:`reply_client_id` on the raw payload).
    """
    if not isinstance(payload, dict):
        raise ValidationError("command must be a JSON object")
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in COMMAND_TYPES:
        raise ValidationError("type must be one of " + ", ".join(COMMAND_TYPES))
    client_id = reply_client_id(payload.get("clientId"))
    if client_id is None:
        raise ValidationError("clientId is missing or invalid")
    sender = _stamp_sender(payload.get("sender"))
    ts = _stamp_ts(payload.get("ts"))
    room = validate_room(payload.get("room"))

    if kind == "join":
        return Command(kind, client_id, sender, ts, room, name=validate_name(payload.get("name")))
    if kind == "leave":
        return Command(kind, client_id, sender, ts, room)
    if kind == "history":
        before = payload.get("before")
        if before is not None and (not isinstance(before, str) or not before):
            raise ValidationError("before must be a cursor string or null")
        return Command(kind, client_id, sender, ts, room, before=before)
    # message
    message_id = payload.get("id")
    if not isinstance(message_id, str) or not MESSAGE_ID_RE.fullmatch(message_id):
        raise ValidationError("message id is missing or invalid")
    return Command(
        kind,
        client_id,
        sender,
        ts,
        room,
        name=validate_name(payload.get("name")),
        text=validate_text(payload.get("text")),
        id=message_id,
    )
