"""The messages table: idempotent storage, backlog and history pages, cursors.

Item layout (partition key ``room``, sort key ``sk``)::

    room, sk = f"{ts:013d}#{id}", id, ts, name, text, sender, clientId,
    expiresAt (epoch seconds, the table's TTL attribute), type = "message"

The sort key is unique per message id, so two messages in the same millisecond both
survive, and a replayed message (same ts and id) lands on the same key.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from chatlib import aws, config
from chatlib.validation import ValidationError

SK_RE = re.compile(r"^[0-9]{13}#[A-Za-z0-9_-]{1,64}$")
CURSOR_MAX = 256
_CURSOR_ALPHABET = re.compile(r"^[A-Za-z0-9_-]+$")


def sort_key(ts: int, message_id: str) -> str:
    return f"{ts:013d}#{message_id}"


# -- cursors -------------------------------------------------------------------------


def encode_cursor(room: str, sk: str) -> str:
    """An opaque cursor pointing just before ``sk`` in ``room`` (base64url, no padding)."""
    raw = f"{room}|{sk}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: Any, room: str) -> str:
    """The sort key a cursor points at; :class:`ValidationError` unless it was made for
    ``room`` by :func:`encode_cursor`."""
    if (
        not isinstance(cursor, str)
        or len(cursor) > CURSOR_MAX
        or not _CURSOR_ALPHABET.fullmatch(cursor)
    ):
        raise ValidationError("invalid cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("invalid cursor") from exc
    cursor_room, sep, sk = raw.partition("|")
    if not sep or cursor_room != room or not SK_RE.fullmatch(sk):
        raise ValidationError("invalid cursor")
    return sk


# -- storage -------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    id: str
    ts: int
    room: str
    name: str
    text: str
    sender: str
    client_id: str

    def to_wire(self) -> dict[str, Any]:
        """The message as published on ``<root>/pub/<room>`` and returned in pages."""
        return {
            "type": "message",
            "id": self.id,
            "ts": self.ts,
            "room": self.room,
            "name": self.name,
            "text": self.text,
            "sender": self.sender,
            "clientId": self.client_id,
        }

    def to_item(self, retention_days: int) -> dict[str, Any]:
        return {
            "room": self.room,
            "sk": sort_key(self.ts, self.id),
            "id": self.id,
            "ts": self.ts,
            "name": self.name,
            "text": self.text,
            "sender": self.sender,
            "clientId": self.client_id,
            "expiresAt": self.ts // 1000 + retention_days * 86400,
            "type": "message",
        }


def _table() -> Any:
    return aws.table(config.messages_table())


def store(message: Message) -> bool:
    """Store ``message`` unless its key is already there. True if newly stored."""
    item = message.to_item(config.message_retention_days())
    try:
        _table().put_item(Item=item, ConditionExpression="attribute_not_exists(sk)")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def unstore(message: Message) -> None:
    """Remove a stored message (used when it could not be published, so a retry of the
    same record stores and publishes it again)."""
    _table().delete_item(Key={"room": message.room, "sk": sort_key(message.ts, message.id)})


def _as_int(value: Any) -> int:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def item_to_wire(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as a message object (tolerant of items written by the store rule)."""
    return {
        "type": "message",
        "id": str(item.get("id", "")),
        "ts": _as_int(item.get("ts", 0)),
        "room": str(item.get("room", "")),
        "name": str(item.get("name", "")),
        "text": str(item.get("text", "")),
        "sender": str(item.get("sender", "")),
        "clientId": str(item.get("clientId", "")),
    }


@dataclass(frozen=True)
class Page:
    messages: list[dict[str, Any]]  # oldest first
    cursor: str | None  # points before the oldest message, None when nothing is older


def page(room: str, size: int, before_sk: str | None = None) -> Page:
    """The ``size`` newest messages of ``room`` (older than ``before_sk`` if given),
    oldest first, with a cursor when older messages remain."""
    condition = Key("room").eq(room)
    if before_sk is not None:
        condition = condition & Key("sk").lt(before_sk)
    wanted = size + 1  # one more than asked, to know whether a next page exists
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": condition,
        "ScanIndexForward": False,
        "ConsistentRead": True,
    }
    table = _table()
    while len(items) < wanted:
        kwargs["Limit"] = wanted - len(items)
        result = table.query(**kwargs)
        items.extend(result.get("Items", []))
        last = result.get("LastEvaluatedKey")
        if not last:
            break
        kwargs["ExclusiveStartKey"] = last
    newest_first = items[:size]
    cursor = None
    if len(items) > size and newest_first:
        cursor = encode_cursor(room, str(newest_first[-1]["sk"]))
    return Page(messages=[item_to_wire(i) for i in reversed(newest_first)], cursor=cursor)
