"""Validation of what clients send: names, rooms, texts, commands and the rule stamps.

Every function raises :class:`ValidationError` with a message safe to send back to the
client. The limits and character classes come from :mod:`chatlib.contract`, from which
the republish rule's SQL is generated too, so both refuse the same inputs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from chatlib import contract

# Message ids are stamped by the rule (newuuid()); they end up in the sort key and in
# cursors, so only a safe alphabet is accepted.
MESSAGE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CLIENT_ID_MAX = 128
SENDER_MAX = 256

COMMAND_TYPES = (
    "join",
    "message",
    "history",
    "leave",
    "dm",
    "typing",
    "edit",
    "delete",
    "create",
    "invite",
    "remove",
)
PRINCIPAL_RE = re.compile(r"^[A-Za-z0-9]{1,128}$")


class ValidationError(ValueError):
    """Client input that breaks the rules; ``str(exc)`` is a client-safe message."""


def validate_name(value: Any, *, trim: bool = False) -> str:
    """A display name: 1..NAME_MAX characters (code points), not only spaces, and no
    control characters, line or paragraph separators or lone surrogates."""
    if not isinstance(value, str):
        raise ValidationError("name must be a string")
    name = value.strip() if trim else value
    if not contract.NAME_NOT_BLANK_RE.search(name):
        raise ValidationError("name must not be empty")
    if len(name) > contract.NAME_MAX:
        raise ValidationError(f"name must be at most {contract.NAME_MAX} characters")
    if contract.NAME_FORBIDDEN_RE.search(name):
        raise ValidationError("name must not contain control characters")
    return name


def validate_room(value: Any) -> str:
    if not isinstance(value, str) or not contract.ROOM_RE.fullmatch(value):
        raise ValidationError("room must match " + contract.ROOM_PATTERN)
    return value


def validate_private_room(value: Any) -> str:
    if not isinstance(value, str) or not contract.PRIVATE_ROOM_RE.fullmatch(value):
        raise ValidationError("private room must match " + contract.PRIVATE_ROOM_PATTERN)
    return value


def validate_principal(value: Any, field: str) -> str:
    if not isinstance(value, str) or not PRINCIPAL_RE.fullmatch(value):
        raise ValidationError(f"{field} must be a principal (1 to 128 letters and digits)")
    return value


def validate_title(value: Any) -> str:
    """A private room's title: a display name's rules, up to PRIVATE_TITLE_MAX."""
    if not isinstance(value, str):
        raise ValidationError("title must be a string")
    if not contract.NAME_NOT_BLANK_RE.search(value):
        raise ValidationError("title must not be empty")
    if len(value) > contract.PRIVATE_TITLE_MAX:
        raise ValidationError(f"title must be at most {contract.PRIVATE_TITLE_MAX} characters")
    if contract.NAME_FORBIDDEN_RE.search(value):
        raise ValidationError("title must not contain control characters")
    return value


def validate_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError("text must be a string")
    if not contract.TEXT_NOT_BLANK_RE.search(value):
        raise ValidationError("text must not be empty")
    if len(value) > contract.TEXT_MAX:
        raise ValidationError(f"text must be at most {contract.TEXT_MAX} characters")
    if contract.TEXT_FORBIDDEN_RE.search(value):
        raise ValidationError("text must be valid Unicode")
    return value


def validate_seq(command: dict[str, Any]) -> int:
    """A message's ``seq``, the sender's message counter: an integer 0..SEQ_MAX, 0 when
    the field is absent (null is refused, as the rule's isUndefined() does). It orders
    one client's messages stamped in the same millisecond: the sort key carries it."""
    if "seq" not in command:
        return 0
    number = _integer(command["seq"])
    if number is None or not 0 <= number <= contract.SEQ_MAX:
        raise ValidationError(f"seq must be an integer from 0 to {contract.SEQ_MAX}")
    return number


def _integer(value: Any) -> int | None:
    """An int, or a float with no fraction (JSON 3.0); never a bool."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) else None


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
    number = _integer(value)
    if number is None or not 0 <= number <= contract.TS_MAX:
        raise ValidationError("ts must be an integer timestamp in milliseconds")
    return number


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
    seq: int = 0
    private: bool = False
    to: str | None = None  # dm: the recipient; history: the other of a conversation
    member: str | None = None  # invite, remove
    title: str | None = None  # create


def _message_id(payload: dict[str, Any]) -> str:
    message_id = payload.get("id")
    if not isinstance(message_id, str) or not MESSAGE_ID_RE.fullmatch(message_id):
        raise ValidationError("message id is missing or invalid")
    return message_id


def _private(payload: dict[str, Any]) -> bool:
    flag = payload.get("private", False)
    if not isinstance(flag, bool):
        raise ValidationError("private must be true or false")
    return flag


def _any_room(payload: dict[str, Any], private: bool) -> str:
    value = payload.get("room")
    return validate_private_room(value) if private else validate_room(value)


def _before(payload: dict[str, Any]) -> str | None:
    before = payload.get("before")
    if before is not None and (not isinstance(before, str) or not before):
        raise ValidationError("before must be a cursor string or null")
    return before


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
    base = {"type": kind, "client_id": client_id, "sender": sender, "ts": ts}
    if kind == "dm":
        return Command(
            **base,
            room="",
            to=validate_principal(payload.get("to"), "to"),
            name=validate_name(payload.get("name")),
            text=validate_text(payload.get("text")),
        )
    if kind == "history" and "with" in payload:
        return Command(
            **base,
            room="",
            to=validate_principal(payload.get("with"), "with"),
            before=_before(payload),
        )
    if kind == "create":
        if payload.get("private") is not True:
            raise ValidationError("only private rooms are created (private: true)")
        return Command(
            **base,
            room="",
            private=True,
            title=validate_title(payload.get("title")),
            name=validate_name(payload.get("name")),
        )
    if kind in ("invite", "remove"):
        return Command(
            **base,
            room=validate_private_room(payload.get("room")),
            private=True,
            member=validate_principal(payload.get("member"), "member"),
        )
    private = _private(payload)
    room = _any_room(payload, private)
    base |= {"room": room, "private": private}
    if kind == "join":
        return Command(**base, name=validate_name(payload.get("name")))
    if kind == "leave":
        return Command(**base)
    if kind == "history":
        return Command(**base, before=_before(payload))
    if kind == "typing":
        return Command(**base, name=validate_name(payload.get("name")))
    if kind == "edit":
        return Command(**base, id=_message_id(payload), text=validate_text(payload.get("text")))
    if kind == "delete":
        return Command(**base, id=_message_id(payload))
    # message: a private room's from the route rule gets its id from the function
    return Command(
        **base,
        name=validate_name(payload.get("name")),
        text=validate_text(payload.get("text")),
        id=None if private else _message_id(payload),
        seq=validate_seq(payload),
    )
