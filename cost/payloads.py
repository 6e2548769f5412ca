"""The chat's payloads at the user's message size, built with the functions' own code.

Sizes feed AWS's metering (IoT 5 KB, WebSocket 32 KB, DynamoDB 1 KB / 4 KB), so they
come from the real shapes: commands as web/js/protocol.js sends them, room messages
as chatlib.messages puts them on the wire, stored items as the template's store rule
writes them, replies and rosters as chatlib builds them.
The same payloads stand in for the other two designs, which carry the same chat.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# chatlib is imported the way Lambda imports it: lambdas/ on the path (as build_template).
if str(ROOT / "lambdas") not in sys.path:
    sys.path.insert(0, str(ROOT / "lambdas"))

from chatlib import connections, contract, messages, publisher  # noqa: E402
from cost import metering  # noqa: E402
from cost.stack import TOPIC_ROOT, load_stack  # noqa: E402

# A typical guest: principal = 32 hex characters (chatlib.tokens), client id =
# "<principal>-<10 characters>" (web/js/topics.js), a short room and display name.
PRINCIPAL = "3f2a9c1e8b7d4f6a0c5e2b9d1a7f3c8e"
CLIENT_ID = PRINCIPAL + "-k3v9q2m7xa"
ROOM = "lobby"
NAME = "Alice"
TS_MS = 1_796_000_000_000
MESSAGE_ID = "6f1c2a8e-4b7d-4e0a-9c3f-2d5b8e1a7c64"
VERSION = connections.lifecycle_version(1, TS_MS)
SEQ = 12
CURSOR = messages.encode_cursor(ROOM, messages.sort_key(TS_MS, SEQ, MESSAGE_ID))


def text_of(size: int) -> str:
    """A message text of ``size`` UTF-8 bytes within the rules' 2,000 characters.

    ASCII while it fits, then enough 4-byte characters to reach the size.
    """
    four_byte = max(0, math.ceil((size - contract.TEXT_MAX) / 3))
    return "x" * (size - 4 * four_byte) + "\U0001f600" * four_byte


def encoded(payload: Any) -> bytes:
    """A payload as the functions publish it (compact JSON, UTF-8)."""
    return publisher.encode(payload)


def client_command(kind: str, text_bytes: int = 1) -> bytes:
    """A command as the web client publishes it (JSON.stringify key order)."""
    shapes: dict[str, dict[str, Any]] = {
        "join": {"type": "join", "room": ROOM, "name": NAME},
        "message": {
            "type": "message",
            "room": ROOM,
            "name": NAME,
            "text": text_of(text_bytes),
            "seq": SEQ,
        },
        "history": {"type": "history", "room": ROOM, "before": CURSOR},
    }
    return json.dumps(shapes[kind], ensure_ascii=False, separators=(",", ":")).encode()


def stored_message(text_bytes: int) -> messages.ChatMessage:
    return messages.ChatMessage(
        id=MESSAGE_ID,
        ts=TS_MS,
        room=ROOM,
        name=NAME,
        text=text_of(text_bytes),
        sender=PRINCIPAL,
        client_id=CLIENT_ID,
        seq=SEQ,
    )


def connection_item() -> dict[str, Any]:
    """A connections-table item of a joined, connected client (chatlib.connections)."""
    return {
        "clientId": CLIENT_ID,
        "sender": PRINCIPAL,
        "name": NAME,
        "room": ROOM,
        "roomChangedAt": TS_MS,
        "connectedAt": TS_MS,
        "version": VERSION,
        "status": connections.CONNECTED,
        "sessionId": MESSAGE_ID,
        "expiresAt": TS_MS // 1000 + connections.CONNECTION_TTL_SECONDS,
    }


@dataclass(frozen=True)
class Payloads:
    """What the designs move, for one message size and room size (bytes as sent)."""

    chat_command: bytes  # a chat message as the client publishes it
    join_command: bytes
    history_command: bytes
    room_message: bytes  # a chat message as every member receives it
    backlog_reply: bytes  # the backlog sent on join
    history_reply: bytes  # a history page
    roster: bytes  # the room's member list, published on join and on disconnect
    stored_item: int  # bytes of the message's DynamoDB item
    backlog_read: int  # bytes the backlog Query reads (page size + 1 items)
    history_read: int  # bytes a history Query reads
    connection_item: int  # bytes of a connections-table item
    roster_read: int  # bytes read from the room index for one roster


def _roster(room_size: int) -> bytes:
    members = [{"name": NAME, "sender": PRINCIPAL}] * room_size
    return encoded(connections.presence_payload(ROOM, members, TS_MS))


def roster_bytes(room_size: float) -> int:
    """Bytes of a roster of ``room_size`` members, without building it: the JSON grows
    by one member entry and one comma per member (rounded to a whole member), up to the
    128 KB of one publish, where the roster is cut (chatlib.connections)."""
    one, two = len(_roster(1)), len(_roster(2))
    members = max(0, round(room_size))
    size = one + (members - 1) * (two - one) if members else len(_roster(0))
    return min(size, contract.REPLY_MAX_BYTES)


@cache
def payloads(text_bytes: int, room_size: int) -> Payloads:
    """Payloads for messages of ``text_bytes`` of text in rooms of ``room_size`` members."""
    msg = stored_message(text_bytes)
    wire = msg.to_wire()
    # The item the store rule writes for it (the retention only moves expiresAt, whose
    # size in digits it does not change).
    room_topic = contract.topic("room", TOPIC_ROOT, room=ROOM)
    (item,) = load_stack().run_rules(room_topic, encoded(wire)).items_put
    item_bytes = metering.dynamodb_item_bytes(item)

    def page(kind: str, size: int) -> bytes:
        return encoded({"type": kind, "room": ROOM, "messages": [wire] * size, "cursor": CURSOR})

    conn_bytes = metering.dynamodb_item_bytes(connection_item())
    return Payloads(
        chat_command=client_command("message", text_bytes),
        join_command=client_command("join"),
        history_command=client_command("history"),
        room_message=encoded(wire),
        backlog_reply=page("backlog", contract.BACKLOG_SIZE),
        history_reply=page("history", contract.HISTORY_PAGE_SIZE),
        roster=_roster(room_size),
        stored_item=item_bytes,
        backlog_read=item_bytes * (contract.BACKLOG_SIZE + 1),
        history_read=item_bytes * (contract.HISTORY_PAGE_SIZE + 1),
        connection_item=conn_bytes,
        roster_read=conn_bytes * room_size,
    )
