"""The messages table: backlog and history pages, cursors.

The store rule (iot_rules/store.py) writes every message; this module reads them. Item
layout (partition key ``room``, sort key ``sk``)::

    room, sk = f"{ts:013d}#{seq + 10**9}#{id}", id, ts, seq, name, text, sender,
    clientId, expiresAt (epoch seconds, the table's TTL attribute), type = "message"

The sort key orders messages by the rule's timestamp, then by the sender's ``seq`` (one
client's burst within one millisecond keeps its order), then by id (unique, so two
messages of the same millisecond both survive; a replayed message lands on its own key).
Items written before ``seq`` was part of the key (``<ts>#<id>``) are still read.
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

from chatlib import aws, config, contract, publisher
from chatlib.validation import ValidationError

SK_RE = re.compile(r"^[0-9]{13}(#[0-9]{10})?#[A-Za-z0-9_-]{1,64}$")
CURSOR_MAX = 256
_CURSOR_ALPHABET = re.compile(r"^[A-Za-z0-9_-]+$")


def sort_key(ts: int, seq: int, message_id: str) -> str:
    """The store rule's ``sk`` (iot_rules/store.py builds the same in IoT SQL)."""
    return f"{ts:013d}#{seq + contract.SEQ_OFFSET}#{message_id}"


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
class ChatMessage:
    """A chat message a function publishes itself (a room message it stamps), in the
    shape the store rule stores and history pages return."""

    id: str
    ts: int
    room: str
    name: str
    text: str
    sender: str
    client_id: str
    seq: int = 0

    def to_wire(self) -> dict[str, Any]:
        """The message as published on ``<root>/pub/<room>`` (where the store rule
        stores it) and returned in pages."""
        return {
            "type": "message",
            "id": self.id,
            "ts": self.ts,
            "seq": self.seq,
            "room": self.room,
            "name": self.name,
            "text": self.text,
            "sender": self.sender,
            "clientId": self.client_id,
        }


def _table() -> Any:
    return aws.table(config.messages_table())


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
    """A stored item as a message object (tolerant of items written by the store rule):
    a deleted message as its tombstone, an edited one with ``editedAt``, a direct
    message in its ``dm`` shape."""
    if item.get("deleted"):
        return {"id": str(item.get("id", "")), "ts": _as_int(item.get("ts", 0)), "deleted": True}
    wire = _dm_to_wire(item) if item.get("type") == "dm" else _message_to_wire(item)
    if "editedAt" in item:
        wire["editedAt"] = _as_int(item["editedAt"])
    return wire


def _dm_to_wire(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "dm",
        "id": str(item.get("id", "")),
        "ts": _as_int(item.get("ts", 0)),
        "sender": str(item.get("sender", "")),
        "clientId": str(item.get("clientId", "")),
        "to": str(item.get("to", "")),
        "name": str(item.get("name", "")),
        "text": str(item.get("text", "")),
    }


def _message_to_wire(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "id": str(item.get("id", "")),
        "ts": _as_int(item.get("ts", 0)),
        "seq": _as_int(item.get("seq", 0)),
        "room": str(item.get("room", "")).removeprefix("priv#"),
        "name": str(item.get("name", "")),
        "text": str(item.get("text", "")),
        "sender": str(item.get("sender", "")),
        "clientId": str(item.get("clientId", "")),
    }


@dataclass(frozen=True)
class Page:
    messages: list[dict[str, Any]]  # oldest first
    cursor: str | None  # points before the oldest message, None when nothing is older


# -- direct messages, edits and deletes ------------------------------------------------


def conversation(one: str, other: str) -> str:
    """The partition of two principals' direct messages: the same whoever asks, and never
    a room name (``#`` is outside the room alphabet). Whoever pages it is one of the two:
    the caller is always one of the pair, so no third party can name another pair's."""
    low, high = sorted((one, other))
    return f"dm#{low}#{high}"


def private_key(room: str) -> str:
    """The partition of a private room's messages, apart from a public room of that name."""
    return f"priv#{room}"


def store(partition: str, wire: dict[str, Any]) -> None:
    """Write one message (a private room's or a DM, in its wire shape) under
    ``partition``, as the store rule writes a public room's."""
    expires = wire["ts"] // 1000 + config.message_retention_days() * 86400
    seq = wire.get("seq", 0)
    _table().put_item(
        Item={
            **wire,
            "room": partition,
            "sk": sort_key(wire["ts"], seq, wire["id"]),
            "seq": seq,
            "expiresAt": expires,
        },
        ConditionExpression="attribute_not_exists(sk)",
    )


def store_dm(dm: dict[str, Any]) -> None:
    """Write one direct message (its ``dm`` wire shape) under its conversation."""
    store(conversation(dm["sender"], dm["to"]), dm)


NOT_YOURS = "no such message of yours in this room (only its sender may change it)"


def _find(partition: str, message_id: str) -> str:
    """The sort key of message ``message_id`` in ``partition`` (through the id index)."""
    result = _table().query(
        IndexName="id-index", KeyConditionExpression=Key("id").eq(message_id), Limit=10
    )
    for item in result.get("Items", []):
        if item.get("room") == partition:
            return str(item["sk"])
    raise ValidationError(NOT_YOURS)


def _change(
    partition: str,
    message_id: str,
    sender: str,
    update: str,
    values: dict[str, Any],
    names: dict[str, str],
) -> None:
    """One conditional UpdateItem: only the sender, only a message not yet deleted."""
    sk = _find(partition, message_id)
    try:
        _table().update_item(
            Key={"room": partition, "sk": sk},
            UpdateExpression=update,
            ConditionExpression="sender = :me AND attribute_not_exists(deleted)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":me": sender, **values},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise ValidationError(NOT_YOURS) from exc
        raise


def edit(partition: str, message_id: str, sender: str, text: str, now_ms: int) -> None:
    """Replace the text of the sender's own message; ValidationError for anyone else's."""
    _change(
        partition,
        message_id,
        sender,
        "SET #t = :t, editedAt = :at",
        {":t": text, ":at": now_ms},
        names={"#t": "text"},
    )


def delete(partition: str, message_id: str, sender: str, now_ms: int) -> None:
    """Leave a tombstone of the sender's own message (its text and name are gone)."""
    _change(
        partition,
        message_id,
        sender,
        "SET deleted = :d, deletedAt = :at REMOVE #t, #n",
        {":d": True, ":at": now_ms},
        names={"#t": "text", "#n": "name"},
    )


def page(room: str, size: int, before_sk: str | None = None) -> Page:
    """The ``size`` newest messages of ``room`` (older than ``before_sk`` if given),
    oldest first, with a cursor when older messages remain.

    Bounded by bytes too: the page holds as many of them, newest first, as fit in one
    publish of a ``backlog`` or ``history`` reply, and its cursor leads to the rest (a
    page of 50 messages of 2,000 emoji would be 400 KB, over AWS IoT's 128 KB)."""
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
    wire = [item_to_wire(i) for i in items[:size]]  # newest first
    envelope = {"type": "history", "room": room, "messages": [], "cursor": "x" * CURSOR_MAX}
    count = publisher.fitting(wire, envelope)
    cursor = None
    if len(items) > count and count:
        cursor = encode_cursor(room, str(items[count - 1]["sk"]))
    return Page(messages=wire[:count][::-1], cursor=cursor)
